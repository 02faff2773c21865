// Where things are: the project root (found from this file, whether it runs from bench/ under
// tsx or from dist/bench/ after the build) and the names of a result set's files.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "revgnn")
          return dir;
      } catch {
        // an unreadable package.json: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("bench: cannot find the revgnn project root");
    dir = up;
  }
}

/** "<YYYY-MM-DD>-<machine>[-quick]": the stem of every file of one result set. */
export function resultStem(date: Date, slug: string, quick: boolean): string {
  return `${date.toISOString().slice(0, 10)}-${slug}${quick ? "-quick" : ""}`;
}
