// The checker's corpus: each program in tests/broken/check names, in `// expect:` lines, every
// error it must give (file:line:col and message), in order — no more, no fewer. Together with the
// syntax corpus (tests/broken/syntax) this covers syntax, unknown names, shape mismatches,
// non-invertible reversible statements, wrong arity and bad hyperparameter overrides.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSource } from "../../compiler/compile.js";
import { formatDiagnostic } from "../../grammar/diagnostics.js";

const dir = "tests/broken/check";
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".gnn"))
  .sort();

describe("broken programs give their located messages", () => {
  it("the corpora hold at least 30 programs", () => {
    const syntax = readdirSync("tests/broken/syntax").filter((f) => f.endsWith(".gnn"));
    expect(files.length + syntax.length).toBeGreaterThanOrEqual(30);
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  for (const f of files) {
    it(f, () => {
      const text = readFileSync(`${dir}/${f}`, "utf8");
      const expected = [...text.matchAll(/^\/\/ expect: (.*)$/gm)].map((m) => m[1]);
      const set = Object.fromEntries(
        [...text.matchAll(/^\/\/ set: (\w+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]),
      );
      expect(expected.length).toBeGreaterThan(0);
      // `// require-reversible`: compiled as under `--require-reversible`.
      const requireReversible = /^\/\/ require-reversible$/m.test(text);
      const r = compileSource(text, f, { set, requireReversible });
      expect(r.model).toBeUndefined();
      const got = r.diagnostics.map(
        (d) => `${d.span!.file}:${d.span!.line}:${d.span!.col}: ${d.severity}: ${d.message}`,
      );
      expect(got).toEqual(expected);
      for (const d of r.diagnostics) {
        const shown = formatDiagnostic(d, r.sources).split("\n");
        // The source line, then a caret under the reported column.
        expect(shown[1]).toContain(text.split("\n")[d.span!.line - 1]!.trim());
        expect(shown[2]!.indexOf("^") - shown[2]!.indexOf("|") - 2).toBe(d.span!.col - 1);
      }
    });
  }
});
