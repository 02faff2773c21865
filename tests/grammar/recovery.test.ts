// Error recovery: after a syntax error the parser resumes at the next line (or bracket) where
// the program makes sense again, so one run reports the errors of every broken statement and
// still builds the rest of the AST; and no input makes parseProgram throw.
import { describe, expect, it, vi } from "vitest";
import type * as ast from "../../grammar/ast.js";
import { parseProgram } from "../../grammar/index.js";
import { parser } from "../../grammar/parser.js";
import { allConstructs, paperExamples } from "./programs.js";

const messages = (text: string) => parseProgram(text, "t.gnn").diagnostics.map((d) => d.message);

describe("recovery", () => {
  it("keeps parsing the statements and declarations after a broken one", () => {
    const { program, diagnostics } = parseProgram(
      `layer f(x: [N, d]) -> [N, d] {
  let a = aggregate sum { x[u] }
  let b = relu(x
  let c = x
  return c
}
model M(x: [N, F]) { output x }`,
      "t.gnn",
    );
    expect(diagnostics.map((d) => d.span?.line)).toEqual([2, 3]);
    expect(program.decls.map((d) => d.name.name)).toEqual(["f", "M"]);
    const body = program.decls[0].body;
    // `a` is dropped (its aggregate could not be built); `b` was recovered with its `)` inserted.
    expect(body.map((s) => (s.kind === "let" ? s.targets[0].name : s.kind))).toEqual([
      "b",
      "c",
      "return",
    ]);
  });

  it("does not let a broken header's `{ … }` body close the enclosing block", () => {
    const text = `model M(x: [N, F]) {
  let z = fixpoint z with tol = 1e-5 { tanh(z) }
  output x
}
model N(x: [N, F]) { output x }`;
    expect(messages(text)).toEqual(["expected `from` and the initial value, found `with`"]);
    const { program } = parseProgram(text, "t.gnn");
    expect(program.decls.map((d) => [d.name.name, d.body.map((s) => s.kind)])).toEqual([
      ["M", ["output"]],
      ["N", ["output"]],
    ]);
  });

  it("resumes through chevrotain's resync hooks, which parser.ts overrides", () => {
    const find = vi.spyOn(parser, "findReSyncTokenType");
    const resync = vi.spyOn(parser, "reSyncTo");
    try {
      messages("model M(x: [N, F]) {\n  let a = x y z\n  output x\n}");
      expect(find).toHaveBeenCalled();
      expect(resync).toHaveBeenCalled();
    } finally {
      find.mockRestore();
      resync.mockRestore();
    }
  });

  it("deletes a stray token before an opening bracket rather than inserting one", () => {
    const { program, diagnostics } = parseProgram(
      "model M(x: [N, F]; L: int) {\n  repeat L blocks { x += 1 }\n  output x\n}",
      "t.gnn",
    );
    expect(diagnostics).toHaveLength(1);
    const [loop] = program.decls[0].body as [ast.RepeatStmt];
    expect(loop.body.map((s) => s.kind)).toEqual(["update"]);
    expect(program.decls[0].body.map((s) => s.kind)).toEqual(["repeat", "output"]);
  });

  it("reuses the one parser: a parse is not affected by the errors of the one before", () => {
    expect(messages("layer f(")).not.toEqual([]);
    expect(messages(paperExamples.gcn)).toEqual([]);
  });
});

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** `text` with one random edit of its words and symbols: a deletion, a duplication, a swap, a
 *  token from elsewhere inserted, or the text cut short. */
function mutate(text: string, random: () => number): string {
  const parts = text.match(/\s+|[A-Za-z_]\w*|\d+(?:\.\d+)?(?:e-?\d+)?|->|[+\-*/]=|\S/g) ?? [];
  const pick = () => Math.floor(random() * parts.length);
  const i = pick();
  switch (Math.floor(random() * 5)) {
    case 0:
      parts.splice(i, 1);
      break;
    case 1:
      parts.splice(i, 0, parts[i]);
      break;
    case 2:
      [parts[i], parts[i + 1]] = [parts[i + 1] ?? "", parts[i]];
      break;
    case 3:
      parts.splice(i, 0, " ", parts[pick()], " ");
      break;
    default:
      parts.length = i;
  }
  return parts.join("");
}

describe("robustness", () => {
  const sources = [...Object.values(paperExamples), allConstructs];

  it("never throws, and locates every diagnostic, on thousands of mangled programs", () => {
    const random = rng(42);
    let withErrors = 0;
    for (let n = 0; n < 3000; n++) {
      let text = sources[n % sources.length];
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) text = mutate(text, random);
      const { diagnostics } = parseProgram(text, "fuzz.gnn");
      if (diagnostics.length > 0) withErrors++;
      for (const d of diagnostics) {
        const s = d.span!;
        const located = [s.line, s.col, s.endLine, s.endCol, s.start, s.end].every(
          Number.isInteger,
        );
        expect(located, `${d.message} in:\n${text}`).toBe(true);
        expect(s.start <= s.end && s.line <= s.endLine, d.message).toBe(true);
      }
    }
    expect(withErrors).toBeGreaterThan(2000);
  });
});
