// The lexer: keywords versus names, number forms, comments, and the tokens it reports.
import { describe, expect, it } from "vitest";
import { lex } from "../../grammar/lexer.js";

const kinds = (text: string) => lex(text).tokens.map((t) => `${t.tokenType.name}:${t.image}`);

describe("lexer", () => {
  it("tells keywords from names that start with one", () => {
    expect(kinds("let letter layer layers as as_ int integer self_loops edges sum")).toEqual([
      "Let:let",
      "Identifier:letter",
      "Layer:layer",
      "Identifier:layers",
      "As:as",
      "Identifier:as_",
      "Int:int",
      "Identifier:integer",
      "SelfLoops:self_loops",
      "Identifier:edges",
      "Identifier:sum",
    ]);
  });

  it("reads integers, fractions and exponents", () => {
    expect(kinds("3 0.5 1e-5 2.5E+3 10e3")).toEqual([
      "IntLiteral:3",
      "FloatLiteral:0.5",
      "FloatLiteral:1e-5",
      "FloatLiteral:2.5E+3",
      "FloatLiteral:10e3",
    ]);
  });

  it("reads operators longest first", () => {
    expect(kinds("-> - -= += + *= * /= / @ = => := :")).toEqual([
      "Arrow:->",
      "Minus:-",
      "MinusEquals:-=",
      "PlusEquals:+=",
      "Plus:+",
      "StarEquals:*=",
      "Star:*",
      "SlashEquals:/=",
      "Slash:/",
      "At:@",
      "Equals:=",
      "FatArrow:=>",
      "ColonEquals::=",
      "Colon::",
    ]);
  });

  it("skips line and block comments, and tracks lines across them", () => {
    const { tokens, errors } = lex("a // one\n/* two\nthree */ b /**/ c");
    expect(errors).toEqual([]);
    expect(tokens.map((t) => [t.image, t.startLine, t.startColumn])).toEqual([
      ["a", 1, 1],
      ["b", 3, 10],
      ["c", 3, 17],
    ]);
  });

  it("sets an unterminated block comment aside and reports unknown characters", () => {
    const { tokens, errors, groups } = lex("a # b\n/* c");
    expect(tokens.map((t) => t.image)).toEqual(["a", "b"]);
    expect(errors.map((e) => [e.line, e.column, e.length])).toEqual([[1, 3, 1]]);
    expect(groups.errors.map((t) => t.image)).toEqual(["/* c"]);
  });
});
