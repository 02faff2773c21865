// The layering of ARCHITECTURE.md, checked on the sources: which folder may import which, no import
// cycles anywhere, and a runtime that sees the compiler only through its contract. A violation
// names the importing file and the import, so the fix is obvious.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const SOURCE_FOLDERS = ["grammar", "compiler", "runtime", "driver", "cli", "bench", "playground"];

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(join(ROOT, dir));
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

/** Relative imports of a file (static, type-only, re-exports and dynamic), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*"([^"]+)"/gms),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((m) => m[1]!);
  return specs
    .filter((s) => s.startsWith("."))
    .map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, ".ts"));
}

const files = SOURCE_FOLDERS.flatMap(sourceFiles);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const folderOf = (path: string) => path.split("/")[0]!;

/** What each folder may import besides itself (the compiler's contract is listed by file). */
const ALLOWED: Record<string, (target: string) => boolean> = {
  // The parser's messages list the aggregations from their registry (issue 10: one entry per
  // aggregation, read by the parser, the lowering and the docs); the registry imports no pass.
  grammar: (t) => t === "compiler/lower/aggregations.ts",
  compiler: (t) => folderOf(t) === "grammar",
  runtime: (t) => t === "compiler/contract.ts" || t === "compiler/target.ts",
  driver: (t) => ["grammar", "compiler", "runtime"].includes(folderOf(t)),
  cli: (t) => ["grammar", "compiler", "runtime", "driver", "bench"].includes(folderOf(t)),
  bench: (t) => ["grammar", "compiler", "runtime", "driver", "cli"].includes(folderOf(t)),
  playground: (t) => ["grammar", "compiler", "runtime", "driver"].includes(folderOf(t)),
};

/** Strongly connected components with more than one file (Tarjan), i.e. the import cycles. */
function cycles(g: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("architecture", () => {
  it("scans the sources it is meant to", () => {
    for (const folder of ["grammar", "compiler", "runtime", "driver", "cli"])
      expect(
        files.some((f) => folderOf(f) === folder),
        folder,
      ).toBe(true);
    expect(graph.get("runtime/exec/executor.ts")).toContain("compiler/contract.ts");
  });

  it("every import stays within its folder's allowed layers", () => {
    const violations = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((t) => folderOf(t) !== folderOf(file) && !ALLOWED[folderOf(file)]!(t))
        .map((t) => `${file} imports ${relative(dirname(file), t)}`),
    );
    expect(violations).toEqual([]);
  });

  it("has no import cycles", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("the contract and the target description pull in no compiler pass", () => {
    const reached = new Set<string>();
    const walk = (f: string) => {
      if (reached.has(f)) return;
      reached.add(f);
      for (const t of graph.get(f) ?? []) walk(t);
    };
    walk("compiler/contract.ts");
    walk("compiler/target.ts");
    expect([...reached].sort()).toEqual([
      "compiler/contract.ts",
      "compiler/ir/dims.ts",
      "compiler/ir/types.ts",
      "compiler/target.ts",
      "grammar/ast.ts",
    ]);
  });

  it("the cycle finder finds a planted cycle", () => {
    const planted = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(cycles(planted)).toEqual([["a.ts", "b.ts", "c.ts"]]);
  });
});
