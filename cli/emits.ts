// What `revgnn compile --emit` can print: its own module so that the command line is declared
// without loading the compiler (cli/main.ts imports each command's module only when it runs).
export const EMITS = [
  "summary",
  "ast",
  "ir",
  "backward",
  "inverse",
  "passes",
  "wgsl",
  "params",
] as const;
export type Emit = (typeof EMITS)[number];
