// A large file parses cleanly and the same way twice (the parser is a module-level instance built
// once and reset per parse: state left over from one parse must not leak into the next). Its speed
// is not asserted here: wall-clock bounds fail on a loaded machine.
import { expect, it } from "vitest";
import { parseProgram } from "../../grammar/index.js";
import { allConstructs, paperExamples } from "./programs.js";

it("parses a 300-line file, and again to the same tree", () => {
  const unit = [...Object.values(paperExamples), allConstructs].join("\n");
  let text = unit;
  while (text.split("\n").length < 300) text += "\n" + unit;
  const first = parseProgram(text, "big.gnn");
  expect(first.diagnostics).toEqual([]);
  expect(parseProgram(text, "big.gnn").program).toEqual(first.program);
});
