// The browser's source-files.ts: the prelude is bundled into the page as text (esbuild's text
// loader); a page has no file system, so programs come from the editor through compileSource.
import PRELUDE from "./prelude.gnn";

export function preludeText(): string {
  return PRELUDE;
}

export function readSourceFile(path: string): string {
  throw new Error(`${path}: a page has no file system; compile the editor's text (compileSource)`);
}
