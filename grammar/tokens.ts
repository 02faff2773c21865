// The token vocabulary of .gnn files. Every token has a `label`, the words error messages use for
// it ("`)`", "a name"). Order matters in `allTokens`: chevrotain's lexer takes the first pattern
// that matches, so longer operators come before their prefixes and comments before `/`.
import { createToken, Lexer, type TokenType } from "./chevrotain.js";

// ---- trivia --------------------------------------------------------------------------------------

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /\s+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

export const LineComment = createToken({
  name: "LineComment",
  pattern: /\/\/[^\n\r]*/,
  group: Lexer.SKIPPED,
});

export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

/** A `/*` that never closes. Lexed (rather than left to fail character by character) so that the
 *  error can point at the opening `/*`; the "errors" group keeps it out of the parser's input. */
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[\s\S]*/,
  group: "errors",
  line_breaks: true,
});

// ---- names and numbers ---------------------------------------------------------------------------

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: "a name",
});

export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: Lexer.NA,
  label: "a number",
});

// A float has a fraction or an exponent: `0.5`, `1e-5`, `2.5E+3`. Dimensions accept only integers,
// so the two are separate token types under the NumberLiteral category.
export const FloatLiteral = createToken({
  name: "FloatLiteral",
  pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
  categories: NumberLiteral,
  label: "a number",
});

export const IntLiteral = createToken({
  name: "IntLiteral",
  pattern: /\d+/,
  categories: NumberLiteral,
  label: "an integer",
});

// ---- keywords ------------------------------------------------------------------------------------

/** All keyword token types, for the "did you mean" suggestions. */
export const keywords: TokenType[] = [];

function keyword(word: string): TokenType {
  const name = word
    .split("_")
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join("");
  const tok = createToken({
    name,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `\`${word}\``,
  });
  keywords.push(tok);
  return tok;
}

export const Layer = keyword("layer");
export const Model = keyword("model");
export const Param = keyword("param");
export const State = keyword("state");
export const Let = keyword("let");
export const Var = keyword("var");
export const Repeat = keyword("repeat");
export const Shared = keyword("shared");
export const As = keyword("as");
export const Return = keyword("return");
export const Loss = keyword("loss");
export const Output = keyword("output");
export const Reversible = keyword("reversible");
export const Groups = keyword("groups");
export const Aggregate = keyword("aggregate");
export const Over = keyword("over");
export const With = keyword("with");
export const SelfLoops = keyword("self_loops");
export const Fixpoint = keyword("fixpoint");
export const From = keyword("from");
export const Labels = keyword("labels");
export const Multilabels = keyword("multilabels");
export const Int = keyword("int");
export const Float = keyword("float");
export const Bool = keyword("bool");
export const True = keyword("true");
export const False = keyword("false");

// ---- operators and punctuation -------------------------------------------------------------------

function punct(name: string, text: string, categories: TokenType[] = []): TokenType {
  const pattern = new RegExp(text.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&"));
  return createToken({ name, pattern, label: `\`${text}\``, categories });
}

// Categories let a rule consume "any additive operator" in one CONSUME; the token image tells which.
export const AdditiveOp = createToken({
  name: "AdditiveOp",
  pattern: Lexer.NA,
  label: "`+` or `-`",
});
export const MultiplicativeOp = createToken({
  name: "MultiplicativeOp",
  pattern: Lexer.NA,
  label: "`*`, `/` or `@`",
});
/** The operators allowed between dimension terms in a product: no `@` in a shape. */
export const DimMulOp = createToken({ name: "DimMulOp", pattern: Lexer.NA, label: "`*` or `/`" });
export const UpdateOp = createToken({
  name: "UpdateOp",
  pattern: Lexer.NA,
  label: "an update operator (`+=`, `-=`, `*=` or `/=`)",
});

export const Arrow = punct("Arrow", "->");
export const PlusEquals = punct("PlusEquals", "+=", [UpdateOp]);
export const MinusEquals = punct("MinusEquals", "-=", [UpdateOp]);
export const StarEquals = punct("StarEquals", "*=", [UpdateOp]);
export const SlashEquals = punct("SlashEquals", "/=", [UpdateOp]);
export const Plus = punct("Plus", "+", [AdditiveOp]);
export const Minus = punct("Minus", "-", [AdditiveOp]);
export const Star = punct("Star", "*", [MultiplicativeOp, DimMulOp]);
export const Slash = punct("Slash", "/", [MultiplicativeOp, DimMulOp]);
export const At = punct("At", "@", [MultiplicativeOp]);
export const Equals = punct("Equals", "=");
export const Colon = punct("Colon", ":");
export const Semicolon = punct("Semicolon", ";");
export const Comma = punct("Comma", ",");
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const LBrace = punct("LBrace", "{");
export const RBrace = punct("RBrace", "}");

// Common typos from other languages. They are parsed as the token they stand for (the category),
// so one slip does not derail the rest of the statement, and index.ts reports each one.
export const FatArrow = punct("FatArrow", "=>", [Arrow]);
export const ColonEquals = punct("ColonEquals", ":=", [Equals]);

/** The typo tokens and the token the user most likely meant. */
export const typoTokens: ReadonlyMap<TokenType, string> = new Map([
  [FatArrow, "->"],
  [ColonEquals, "="],
]);

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  Arrow,
  FatArrow,
  ColonEquals,
  PlusEquals,
  MinusEquals,
  StarEquals,
  SlashEquals,
  AdditiveOp,
  Plus,
  Minus,
  MultiplicativeOp,
  DimMulOp,
  Star,
  Slash,
  At,
  UpdateOp,
  Equals,
  Colon,
  Semicolon,
  Comma,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  NumberLiteral,
  FloatLiteral,
  IntLiteral,
  ...keywords,
  Identifier,
];

/** Opening and closing brackets, for locating the opener of an unclosed one. */
export const closerOf: ReadonlyMap<TokenType, TokenType> = new Map([
  [LParen, RParen],
  [LBracket, RBracket],
  [LBrace, RBrace],
]);
