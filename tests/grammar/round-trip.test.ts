// Every example program parses without a diagnostic, and printing its AST and parsing the text
// again gives the same tree: the printer puts parentheses only where precedence needs them, so
// this also pins precedence and associativity.
import { describe, expect, it } from "vitest";
import { parseProgram } from "../../grammar/index.js";
import { allConstructs, paperExamples } from "./programs.js";
import { printProgram, withoutSpans } from "./print.js";

const programs: [string, string][] = [
  ...Object.entries(paperExamples),
  ["all constructs", allConstructs],
  ["all paper examples in one file", Object.values(paperExamples).join("\n")],
];

describe("round trip", () => {
  it.each(programs)("%s", (name, text) => {
    const first = parseProgram(text, `${name}.gnn`);
    expect(first.diagnostics).toEqual([]);
    expect(first.program.decls.length).toBeGreaterThan(0);

    const printed = printProgram(first.program);
    const second = parseProgram(printed, "printed.gnn");
    expect(second.diagnostics).toEqual([]);
    expect(withoutSpans(second.program.decls)).toEqual(withoutSpans(first.program.decls));
    expect(printProgram(second.program)).toBe(printed);
  });
});
