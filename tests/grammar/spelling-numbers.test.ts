// The shared "did you mean" distance and the shared reading of numbers typed on the command line.
import { describe, expect, it } from "vitest";
import { parseDecimalText } from "../../grammar/numbers.js";
import { editDistance, suggest } from "../../grammar/spelling.js";

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and adjacent transpositions as one edit", () => {
    expect(editDistance("param", "param")).toBe(0);
    expect(editDistance("parm", "param")).toBe(1);
    expect(editDistance("paramm", "param")).toBe(1);
    expect(editDistance("parum", "param")).toBe(1);
    expect(editDistance("praam", "param")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});

describe("suggest", () => {
  it("offers the closest name within a third of its length, ignoring case", () => {
    expect(suggest("W_ni", ["W_in", "W_out", "b_in"])).toBe("W_in");
    expect(suggest("HIDDEN", ["hidden", "heads"])).toBe("hidden");
    expect(suggest("xyz", ["W_in", "W_out"])).toBeUndefined();
  });
});

describe("parseDecimalText", () => {
  it("reads decimal literals with an optional sign and exponent", () => {
    expect(parseDecimalText("3")).toBe(3);
    expect(parseDecimalText(" -0.5 ")).toBe(-0.5);
    expect(parseDecimalText("+.25")).toBe(0.25);
    expect(parseDecimalText("1e-3")).toBe(1e-3);
    expect(parseDecimalText("2.")).toBe(2);
  });
  it("refuses what is not a decimal number", () => {
    for (const text of ["", " ", "0x10", "Infinity", "NaN", "1,5", "1e", ".", "-", "true", "1 2"])
      expect(parseDecimalText(text), text).toBeUndefined();
  });
});
