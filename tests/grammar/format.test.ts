// Syntax errors as the CLI prints them, through grammar/diagnostics.ts's formatDiagnostic: the
// caret under the right columns, the hint below.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { formatDiagnostic, formatDiagnostics } from "../../grammar/diagnostics.js";
import { parseProgram } from "../../grammar/index.js";

it("renders a file's syntax errors with source lines, carets and hints", () => {
  const file = "missing-paren.gnn";
  const text = readFileSync(new URL(`../broken/syntax/${file}`, import.meta.url), "utf8");
  const { diagnostics } = parseProgram(text, file);
  expect(formatDiagnostics(diagnostics, new Map([[file, text]]))).toBe(
    [
      "missing-paren.gnn:5:35: error: expected `)` to close the argument list started at 5:18, found `let`",
      " 5 |   let z = dropout(relu(x), p = 0.5",
      "   |                                   ^",
      "missing-paren.gnn:6:17: error: expected `)` to close the parentheses started at 6:11, found `return`",
      " 6 |   let w = (z + 1",
      "   |                 ^",
      "missing-paren.gnn:10:31: error: expected `)` to close the parameter list started at 10:8, found `{`",
      " 10 | model M(x: [N, F]; D: int = 4 {",
      "    |                               ^",
    ].join("\n"),
  );
});

it("underlines the whole offending token, and prints the hint", () => {
  const text = "layer f(x: [N, d]) -> [N, d] {\n  lett y = relu(x)\n  let z := y\n  return z\n}\n";
  const { diagnostics } = parseProgram(text, "f.gnn");
  const sources = new Map([["f.gnn", text]]);
  expect(diagnostics.map((d) => formatDiagnostic(d, sources))).toEqual([
    [
      "f.gnn:2:3: error: `lett` is not a keyword; did you mean `let`?",
      " 2 |   lett y = relu(x)",
      "   |   ^^^^",
    ].join("\n"),
    [
      "f.gnn:3:9: error: `:=` is not an operator; did you mean `=`?",
      " 3 |   let z := y",
      "   |         ^^",
      "  hint: names are bound with `let x = …` or `var x = …` and assigned with `x = …`",
    ].join("\n"),
  ]);
});
