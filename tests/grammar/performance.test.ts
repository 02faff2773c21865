// Parsing is fast enough to be invisible: the parser is built once (performSelfAnalysis is the
// slow part) and reused, so a file of a few hundred lines parses in milliseconds.
import { expect, it } from "vitest";
import { parseProgram } from "../../grammar/index.js";
import { allConstructs, paperExamples } from "./programs.js";

it("parses a 300-line file in milliseconds", () => {
  const unit = [...Object.values(paperExamples), allConstructs].join("\n");
  let text = unit;
  while (text.split("\n").length < 300) text += "\n" + unit;
  expect(parseProgram(text, "big.gnn").diagnostics).toEqual([]);

  // Warm the JIT up, then take the median, which a GC pause or a busy machine barely moves.
  for (let i = 0; i < 20; i++) parseProgram(text, "big.gnn");
  const times = Array.from({ length: 15 }, () => {
    const start = performance.now();
    parseProgram(text, "big.gnn");
    return performance.now() - start;
  }).sort((a, b) => a - b);
  // About 6 ms on an idle core; the bound leaves room for a slow, shared CI machine.
  expect(times[7]).toBeLessThan(50);
});
