// The corpus of programs with syntax errors, tests/broken/syntax/*.gnn. Each file starts with one
// `// expect: <file>:<line>:<col>: error: <message substring>` line per error it must produce;
// parseProgram must report exactly those, at exactly those places.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { parseProgram } from "../../grammar/index.js";

const dir = new URL("../broken/syntax/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".gnn"));

interface Expectation {
  where: string;
  message: string;
}

function expectations(text: string): Expectation[] {
  return [...text.matchAll(/^\/\/ expect: (\S+:\d+:\d+): error: (.+)$/gm)].map((m) => ({
    where: m[1],
    message: m[2],
  }));
}

const where = (d: Diagnostic) => `${d.span?.file}:${d.span?.line}:${d.span?.col}`;

describe("syntax error corpus", () => {
  it("has a dozen files or more, each expecting errors", () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  it.each(files)("%s", (file) => {
    const text = readFileSync(new URL(file, dir), "utf8");
    const expected = expectations(text);
    expect(expected.length).toBeGreaterThan(0);

    const { diagnostics } = parseProgram(text, file);
    const unmatched = [...diagnostics];
    for (const e of expected) {
      const i = unmatched.findIndex((d) => where(d) === e.where && d.message.includes(e.message));
      expect(
        i,
        `missing ${e.where}: ${e.message}\ngot:\n${diagnostics.map((d) => `${where(d)}: ${d.message}`).join("\n")}`,
      ).toBeGreaterThanOrEqual(0);
      unmatched.splice(i, 1);
    }
    expect(unmatched.map((d) => `${where(d)}: ${d.message}`)).toEqual([]);
    expect(diagnostics.every((d) => d.severity === "error")).toBe(true);
  });
});
