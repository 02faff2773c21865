// Where the compiler's source texts come from in Node: the prelude next to this package's
// compiler/ folder, a user's program from the file system. The browser build swaps in
// source-files.browser.ts (the prelude bundled into the page, no file system).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("revgnn: cannot find the package root");
    dir = up;
  }
  return dir;
}

/** The standard library's source (compiler/prelude.gnn). */
export function preludeText(): string {
  return readFileSync(join(findPackageRoot(), "compiler", "prelude.gnn"), "utf8");
}

export function readSourceFile(path: string): string {
  return readFileSync(path, "utf8");
}
