// Parsing is fast enough to be invisible because the parser is built once (performSelfAnalysis is
// the slow part) and reused. What is checked here is that structure, not a wall-clock bound (timed
// assertions fail on a loaded machine): a 300-line file parses cleanly, and parsing it again uses
// the same parser instance and gives the same tree.
import { expect, it } from "vitest";
import { parseProgram } from "../../grammar/index.js";
import { parser } from "../../grammar/parser.js";
import { allConstructs, paperExamples } from "./programs.js";

it("parses a 300-line file with one parser built once", () => {
  const unit = [...Object.values(paperExamples), allConstructs].join("\n");
  let text = unit;
  while (text.split("\n").length < 300) text += "\n" + unit;
  const before = parser;
  const first = parseProgram(text, "big.gnn");
  expect(first.diagnostics).toEqual([]);
  expect(parseProgram(text, "big.gnn").program).toEqual(first.program);
  expect(parser).toBe(before);
});
