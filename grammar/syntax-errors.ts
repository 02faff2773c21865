// Turns lexing and parsing errors into Diagnostics worded for people: what was expected, in words,
// what was found, where an unclosed bracket was opened, and a hint for the common slips.
//
// The parser does not word its errors itself: its message provider (below) records what the parser
// knew at the failure (the expected token, the rule, the kind of choice that failed) as a JSON
// descriptor in the exception's message, and SyntaxErrorReporter turns that, the offending token
// and its neighbours into the diagnostic.
import {
  EOF,
  tokenMatcher,
  type ILexingError,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from "./chevrotain.js";
import type { Span } from "./ast.js";
import { joinSpans } from "./diagnostics.js";
import { aggregationChoices } from "../compiler/lower/aggregations.js";
import { spanAfter, tokenSpan } from "./spans.js";
import { editDistance } from "./spelling.js";
import * as t from "./tokens.js";

/** `expected` is a token type's name; `what`, the `ERR_MSG` of the OR in parser.ts that failed.
 *  The grammar's only AT_LEAST_ONE is the tuple pattern's, so an early exit needs no detail. */
type ErrorDescriptor =
  | { kind: "mismatch"; expected: string }
  | { kind: "noViableAlt"; what: string }
  | { kind: "earlyExit" }
  | { kind: "notAllInput" };

export const descriptorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: (o) => encode({ kind: "mismatch", expected: o.expected.name }),
  buildNotAllInputParsedMessage: () => encode({ kind: "notAllInput" }),
  buildNoViableAltMessage: (o) =>
    encode({ kind: "noViableAlt", what: o.customUserDescription ?? o.ruleName }),
  buildEarlyExitMessage: () => encode({ kind: "earlyExit" }),
};

function encode(d: ErrorDescriptor): string {
  return JSON.stringify(d);
}

export interface SyntaxDiagnostic {
  message: string;
  span: Span;
  hint?: string;
}

const tokenTypeByName = new Map(t.allTokens.map((tt) => [tt.name, tt]));

/** The one option a parameter takes after its initializer. */
const PARAM_DECAY_HINT =
  "a parameter's own weight decay is written `param W: [d, d] = glorot, decay = 0.01`";

const statementKeywords = [t.Param, t.State, t.Let, t.Var, t.Repeat, t.Return, t.Loss, t.Output];
const statementForms =
  "a statement assigns (`h = …`), updates (`h += …`), or starts with `let`, `var`, `param`, " +
  "`state`, `repeat`, `return`, `loss` or `output`";

const is = (tok: IToken | undefined, ...types: TokenType[]): boolean =>
  tok !== undefined && types.some((tt) => tokenMatcher(tok, tt));

/** Tokens that can start an expression, to tell a missing `,` from a missing closer. */
const expressionStarts = [
  t.Identifier,
  t.NumberLiteral,
  t.LParen,
  t.Minus,
  t.Aggregate,
  t.Reversible,
  t.Fixpoint,
];

/** What a closing bracket closes, by the rule that expected it (and its parent rule). */
function closedConstruct(rule: string, parent: string | undefined): string {
  switch (rule) {
    case "layerDecl":
    case "modelDecl":
      return "the parameter list";
    case "resultTypes":
      return "the list of result types";
    case "dimTerm":
      return "the parenthesised dimension";
    case "paramStmt":
      return "the initializer's arguments";
    case "tuplePattern":
      return "the tuple pattern";
    case "argList":
      return "the argument list";
    case "parenExpr":
      return "the parentheses";
    case "aggregateExpr":
      return "the edge endpoints `(u -> v)`";
    case "reducer":
      return "the score of `softmax`";
    case "tensorType":
      return "the tensor type";
    case "postfixExpr":
      return "the endpoint index";
    case "exprBody":
      return parent === "fixpointExpr" ? "the fixpoint body" : "the aggregate body";
    default:
      return "the block";
  }
}

/** The separator hint for a list whose closer was expected where another item begins. */
function separatorHint(rule: string): string | undefined {
  switch (rule) {
    case "argList":
      return "separate arguments with `,`";
    case "parenExpr":
      return "separate the items of a tuple with `,`";
    case "tensorType":
      return "separate dimensions with `,`";
    case "layerDecl":
    case "modelDecl":
      return "separate parameters with `,` and put hyperparameters after a `;`";
    default:
      return undefined;
  }
}

function keywordWord(kw: TokenType): string {
  return (kw.LABEL ?? kw.name).replace(/`/g, "");
}

/** The keyword a name is a likely misspelling of: one edit away, two for long keywords. */
function misspelledKeyword(tok: IToken, candidates: TokenType[]): string | undefined {
  if (!is(tok, t.Identifier) || tok.image.length < 3) return undefined;
  const words = candidates.map(keywordWord).filter((w) => w.length >= 3);
  return words.find((w) => editDistance(tok.image, w) <= (w.length >= 7 ? 2 : 1));
}

/** `param W` for `paramW`: a keyword run into the name after it. */
function gluedKeyword(tok: IToken, candidates: TokenType[]): string | undefined {
  if (!is(tok, t.Identifier)) return undefined;
  for (const word of candidates.map(keywordWord)) {
    const rest = tok.image.slice(word.length);
    if (tok.image.startsWith(word) && /^[A-Za-z_]\w+$/.test(rest)) return `${word} ${rest}`;
  }
  return undefined;
}

function didYouMean(tok: IToken, meant: string): string {
  return `\`${tok.image}\` is not a keyword; did you mean \`${meant}\`?`;
}

export class SyntaxErrorReporter {
  constructor(
    private readonly tokens: IToken[],
    private readonly file: string,
  ) {}

  lexingError(err: ILexingError, text: string): SyntaxDiagnostic {
    const chars = text.slice(err.offset, err.offset + err.length);
    const line = err.line ?? 1;
    const col = err.column ?? 1;
    const span: Span = {
      file: this.file,
      line,
      col,
      endLine: line,
      endCol: col + err.length - 1,
      start: err.offset,
      end: err.offset + err.length,
    };
    const plural = chars.length > 1 ? "s" : "";
    let hint: string | undefined;
    if (chars.startsWith("#")) hint = "comments start with `//`";
    else if (/^["']/.test(chars)) hint = "the language has no strings";
    else if (
      chars === "." &&
      /^\D?\.\d/.test(text.slice(Math.max(0, err.offset - 1), err.offset + 2))
    ) {
      hint = "write a leading zero: `0.5`";
    }
    return { message: `unexpected character${plural} \`${chars}\``, span, hint };
  }

  unterminatedComment(tok: IToken): SyntaxDiagnostic {
    const start = tokenSpan(tok, this.file);
    return {
      message: "unterminated block comment",
      span: { ...start, endLine: start.line, endCol: start.col + 1, end: start.start + 2 },
      hint: "close it with `*/`",
    };
  }

  /** `=>` and `:=` are parsed as `->` and `=` so that parsing carries on; each is still an error. */
  typo(tok: IToken, meant: string): SyntaxDiagnostic {
    const hint =
      meant === "="
        ? "names are bound with `let x = …` or `var x = …` and assigned with `x = …`"
        : "arrows are written `->`, as in `(u -> v)` and `-> [N, d]`";
    return {
      message: `\`${tok.image}\` is not an operator; did you mean \`${meant}\`?`,
      span: tokenSpan(tok, this.file),
      hint,
    };
  }

  parsingError(e: IRecognitionException): SyntaxDiagnostic {
    const d = JSON.parse(e.message) as ErrorDescriptor;
    const rules = e.context.ruleStack;
    const tok = e.token;
    switch (d.kind) {
      case "notAllInput":
        return this.topLevel(tok);
      case "mismatch":
        return this.mismatch(tokenTypeByName.get(d.expected) ?? EOF, rules, tok);
      case "noViableAlt":
        return this.noViableAlt(d.what, rules, tok);
      case "earlyExit":
        return this.tuplePattern(rules, tok);
    }
  }

  // ---- token helpers -----------------------------------------------------------------------------

  /** Where `tok` is in the token list; the end of the input (EOF) is one past the last token. */
  private indexOf(tok: IToken): number {
    if (is(tok, EOF)) return this.tokens.length;
    let lo = 0;
    let hi = this.tokens.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokens[mid].startOffset < tok.startOffset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private at(i: number): IToken | undefined {
    return this.tokens[i];
  }

  private before(tok: IToken): IToken | undefined {
    return this.at(this.indexOf(tok) - 1);
  }

  private after(tok: IToken): IToken | undefined {
    return is(tok, EOF) ? undefined : this.at(this.indexOf(tok) + 1);
  }

  private spanOf(tok: IToken | undefined): Span {
    return tok === undefined || is(tok, EOF)
      ? spanAfter(this.tokens.at(-1), this.file)
      : tokenSpan(tok, this.file);
  }

  /**
   * Where a missing token belongs: at `tok`, unless `tok` is on a later line than the token before
   * it (or is the end of the input); then right after that token, on the line that lacks it.
   */
  private expectedAt(tok: IToken): Span {
    const prev = this.before(tok);
    const onLaterLine = is(tok, EOF) || (tok.startLine ?? 0) > (prev?.endLine ?? 0);
    return prev && onLaterLine ? spanAfter(prev, this.file) : this.spanOf(tok);
  }

  private show(tok: IToken | undefined): string {
    return tok === undefined || is(tok, EOF) ? "the end of the file" : `\`${tok.image}\``;
  }

  /** The unmatched opening bracket before `tok`, matching `closer`. */
  private openerOf(tok: IToken, closer: TokenType): IToken | undefined {
    const opener = [...t.closerOf].find(([, c]) => c === closer)?.[0];
    if (!opener) return undefined;
    let depth = 0;
    for (let i = this.indexOf(tok) - 1; i >= 0; i--) {
      const cur = this.tokens[i];
      if (tokenMatcher(cur, closer)) depth++;
      else if (tokenMatcher(cur, opener) && depth-- === 0) return cur;
    }
    return undefined;
  }

  /** For a keyword found where a name was expected. Statement and declaration keywords are left
   *  out: found there, they rather mean that something before them is missing. */
  private keywordAsNameHint(tok: IToken): string | undefined {
    const misplaced = [...statementKeywords, t.Layer, t.Model];
    if (!t.keywords.some((kw) => tokenMatcher(tok, kw)) || is(tok, ...misplaced)) return undefined;
    return `\`${tok.image}\` is a keyword and cannot be used as a name`;
  }

  /** For a name found where the grammar has no place for one: perhaps a misspelt keyword. */
  private typoHint(tok: IToken): string | undefined {
    const meant = misspelledKeyword(tok, t.keywords) ?? gluedKeyword(tok, t.keywords);
    return meant && didYouMean(tok, meant);
  }

  // ---- the kinds of errors -----------------------------------------------------------------------

  private topLevel(tok: IToken): SyntaxDiagnostic {
    const span = this.spanOf(tok);
    const meant = misspelledKeyword(tok, [t.Layer, t.Model]);
    if (meant) return { message: didYouMean(tok, meant), span };
    const glued = gluedKeyword(tok, [t.Layer, t.Model]);
    let hint = "a file holds `layer` and `model` declarations";
    if (glued) hint = didYouMean(tok, glued);
    else if (is(tok, t.RBrace)) hint = "this `}` has no matching `{`";
    else if (is(tok, ...statementKeywords)) {
      hint = "statements belong inside the body of a `layer` or a `model`";
    }
    return { message: `expected \`layer\` or \`model\`, found ${this.show(tok)}`, span, hint };
  }

  private mismatch(expected: TokenType, rules: string[], tok: IToken): SyntaxDiagnostic {
    const rule = rules.at(-1) ?? "program";
    const parent = rules.at(-2);
    if (rule === "program") return this.topLevel(tok);
    if (expected === t.RParen || expected === t.RBracket || expected === t.RBrace) {
      return this.missingCloser(expected, rule, parent, tok);
    }
    const prev = this.before(tok);
    const [what, siteHint] = this.expectation(expected, rule, parent, prev, tok);
    const hint =
      siteHint ?? (expected === t.Identifier ? this.keywordAsNameHint(tok) : this.typoHint(tok));
    return {
      message: `expected ${what}, found ${this.show(tok)}`,
      span: this.expectedAt(tok),
      hint,
    };
  }

  /** What a token expected at a given place means, in words, and a hint for that place. */
  private expectation(
    expected: TokenType,
    rule: string,
    parent: string | undefined,
    prev: IToken | undefined,
    tok: IToken,
  ): [string, string | undefined] {
    const after = prev ? ` after \`${prev.image}\`` : "";
    switch (`${rule}.${expected.name}`) {
      case "layerDecl.Identifier":
        return ["a name for the layer after `layer`", undefined];
      case "modelDecl.Identifier":
        return ["a name for the model after `model`", undefined];
      case "layerDecl.LParen":
      case "modelDecl.LParen":
        return ["`(` and the parameter list", undefined];
      case "tensorArg.Identifier":
        return ["a parameter name", undefined];
      case "tensorArg.Colon":
        return [`\`:\` and a type${after}`, "parameters are written `x: [N, d]`"];
      case "hyperArg.Identifier":
        return ["a hyperparameter name", undefined];
      case "hyperArg.Colon":
        return [`\`:\` and a type${after}`, "hyperparameters are written `D: int = 64`"];
      case "literal.NumberLiteral":
        return [`a number${after}`, undefined];
      case "tensorType.LBracket":
        return [
          "a tensor type such as `[N, d]`",
          is(tok, t.Int, t.Float, t.Bool)
            ? "hyperparameters go after a `;` in the parameter list: `(x: [N, F]; D: int = 64)`"
            : undefined,
        ];
      case "block.LBrace":
        return this.blockExpectation(parent, tok);
      case "paramStmt.Identifier":
        if (is(prev, t.Comma)) return ["an option such as `decay = 0.01`", PARAM_DECAY_HINT];
        return is(prev, t.Equals)
          ? ["an initializer such as `glorot`, `zeros` or `normal(0.02)`", undefined]
          : ["a name for the parameter after `param`", undefined];
      case "paramStmt.Colon":
        return [`\`:\` and a shape${after}`, "parameters are written `param W: [d, d] = glorot`"];
      case "paramStmt.Equals":
        // After the option's name (`, decay 0.01`) or after the shape (`param W: [d, d] glorot`).
        return is(prev, t.Identifier)
          ? [`\`=\` and a value${after}`, PARAM_DECAY_HINT]
          : ["`=` and an initializer", "parameters are written `param W: [d, d] = glorot`"];
      case "tupleAssignStmt.Equals":
        return ["`=` after the tuple pattern", undefined];
      case "tuplePattern.Identifier":
        return ["a name in the tuple pattern", undefined];
      case "repeatStmt.Identifier":
        return ["a name for the loop after `as`", undefined];
      case "aggregateExpr.Over":
        return [
          "`over edges (u -> v)` after the aggregation",
          "an aggregate is written `aggregate sum over edges (u -> v) { … }`",
        ];
      case "aggregateExpr.Identifier":
        if (is(prev, t.Over)) return ["`edges` after `over`", undefined];
        return is(prev, t.LParen)
          ? ["the source endpoint's name, as `u` in `(u -> v)`", undefined]
          : ["the destination endpoint's name, as `v` in `(u -> v)`", undefined];
      case "aggregateExpr.LParen":
        return ["the edge endpoints `(u -> v)` after `edges`", undefined];
      case "aggregateExpr.Arrow":
        return ["`->` between the edge endpoints", "the endpoints are written `(u -> v)`"];
      case "aggregateExpr.SelfLoops":
        return ["`self_loops` after `with`", undefined];
      case "reducer.Identifier":
        return [`an aggregation (${aggregationChoices("`")}) after \`aggregate\``, undefined];
      case "groupsExpr.Groups":
        return [
          "`groups` after `reversible`",
          "grouped reversible layers are written `reversible groups C f(p = p) (h)`",
        ];
      case "groupsExpr.Identifier":
        return [
          "the name of the layer to apply to each group",
          "the number of groups comes first: `reversible groups C f (h)`",
        ];
      case "argList.LParen":
        return [
          "`(` and the input of the grouped layer",
          "grouped reversible layers are written `reversible groups C f (h)`",
        ];
      case "fixpointExpr.Identifier":
        return ["a name for the fixpoint variable after `fixpoint`", undefined];
      case "fixpointExpr.From":
        return ["`from` and the initial value", "a fixpoint is written `fixpoint z from h { … }`"];
      case "exprBody.LBrace":
        return [
          parent === "fixpointExpr" ? "`{` and the fixpoint body" : "`{` and the aggregate body",
          undefined,
        ];
      default:
        return [`${expected.LABEL ?? expected.name}${after}`, undefined];
    }
  }

  private blockExpectation(parent: string | undefined, tok: IToken): [string, string | undefined] {
    switch (parent) {
      case "layerDecl":
        return ["`{` to start the layer's body", undefined];
      case "modelDecl":
        return ["`{` to start the model's body", undefined];
      default: {
        const hint =
          this.typoHint(tok) ??
          (is(tok, t.Identifier)
            ? `name the loop with \`as\`: \`repeat … as ${tok.image} { … }\``
            : undefined);
        return ["`{` to start the body of `repeat`", hint];
      }
    }
  }

  private missingCloser(
    closer: TokenType,
    rule: string,
    parent: string | undefined,
    tok: IToken,
  ): SyntaxDiagnostic {
    // A block ends at the first token that cannot start a statement; unless that token ends the
    // file or starts the next declaration, it is a stray token rather than a missing `}`.
    if (rule === "block" && !is(tok, EOF, t.Layer, t.Model)) {
      const hint = this.typoHint(tok) ?? statementForms;
      const message = `expected a statement or \`}\`, found ${this.show(tok)}`;
      return { message, span: this.spanOf(tok), hint };
    }
    const span = this.expectedAt(tok);
    const opener = this.openerOf(tok, closer);
    const where = opener ? ` started at ${opener.startLine}:${opener.startColumn}` : "";
    const message = `expected ${closer.LABEL} to close ${closedConstruct(rule, parent)}${where}, found ${this.show(tok)}`;
    let hint: string | undefined;
    if (is(tok, ...expressionStarts)) hint = separatorHint(rule);
    if (rule === "postfixExpr") hint = "a node tensor is indexed by an edge endpoint: `x[u]`";
    if (rule === "tensorType" && is(tok, t.At)) {
      hint = "dimensions combine names and integers with `+`, `-`, `*` and `/`";
    }
    if (rule === "exprBody" && !is(tok, EOF)) {
      hint = "the body holds `let` bindings followed by a single expression";
    }
    return { message, span, hint };
  }

  private noViableAlt(what: string, rules: string[], tok: IToken): SyntaxDiagnostic {
    const span = this.expectedAt(tok);
    const found = this.show(tok);
    const prev = this.before(tok);
    switch (what) {
      case "assignOp":
        return this.badStatement(prev, tok);
      case "hyperType":
        return {
          message: `expected a hyperparameter type (\`int\`, \`float\` or \`bool\`), found ${found}`,
          span,
          hint: is(tok, t.LBracket, t.Labels, t.Multilabels)
            ? "tensor parameters come before the `;`, hyperparameters after it"
            : undefined,
        };
      case "literal":
        return {
          message: `expected a number, \`true\` or \`false\`, found ${found}`,
          span,
          hint: rules.includes("paramStmt")
            ? "initializer arguments are numbers, as in `normal(0.02)`"
            : "a hyperparameter's default is a constant",
        };
      case "resultType":
        return {
          message: `expected a result type such as \`[N, d]\` after \`->\`, found ${found}`,
          span,
          hint: is(tok, t.Reversible)
            ? "a reversible layer has no result type: its results are its updated arguments"
            : is(tok, t.LBrace)
              ? "a layer without a result type leaves out the `->` too"
              : undefined,
        };
      case "dim":
        return this.badDimension(rules, prev, tok, span);
      case "bindEquals":
        return {
          message: `expected \`=\`${prev ? ` after \`${prev.image}\`` : ""}, found ${found}`,
          span,
          hint: is(tok, t.Colon)
            ? "`let` and `var` take no type annotation; shapes are inferred"
            : undefined,
        };
      case "bracketIndex":
        return {
          message: `expected an edge endpoint such as \`u\` or a tuple item number such as \`0\` inside \`[ ]\`, found ${found}`,
          span,
        };
      case "pattern":
        return {
          message: `expected a name or a tuple \`(a, b)\`${prev ? ` after \`${prev.image}\`` : ""}, found ${found}`,
          span,
          hint: this.keywordAsNameHint(tok),
        };
      default:
        return this.badExpression(rules, prev, tok, span);
    }
  }

  private badExpression(
    rules: string[],
    prev: IToken | undefined,
    tok: IToken,
    span: Span,
  ): SyntaxDiagnostic {
    const after = prev ? ` after \`${prev.image}\`` : "";
    if (is(tok, t.RBrace) && rules.at(-4) === "exprBody") {
      return {
        message: "expected an expression before `}`: the body's value",
        span: this.spanOf(tok),
        hint: this.swallowedValue(tok)
          ? "a line starting with `-` continues the `let` above it; end that `let` with `;`"
          : "an aggregate or fixpoint body ends with the expression it evaluates to",
      };
    }
    // `x =+ e`: the two characters of an update operator, swapped.
    const adjacent = (prev?.endOffset ?? NaN) + 1 === tok.startOffset;
    if (prev && adjacent && is(prev, t.Equals) && is(tok, t.Plus, t.Star, t.Slash)) {
      return {
        message: `unexpected \`=${tok.image}\`; an update is written \`x ${tok.image}= e\``,
        span: joinSpans(this.spanOf(prev), this.spanOf(tok)),
      };
    }
    let hint = this.keywordAsNameHint(tok);
    if (is(tok, t.True, t.False)) {
      hint = "`true` and `false` are only allowed as hyperparameter defaults";
    } else if (is(prev, t.Comma) && is(tok, t.RParen)) {
      hint = "remove the trailing `,`";
    }
    return { message: `expected an expression${after}, found ${this.show(tok)}`, span, hint };
  }

  /** Whether the last `let` before `end` has a `-` at the start of a line: the body's value,
   *  read as the rest of the `let`'s expression. */
  private swallowedValue(end: IToken): boolean {
    for (let i = this.indexOf(end) - 1; i > 0; i--) {
      const tok = this.tokens[i];
      if (is(tok, t.Let, t.Var)) return false;
      if (is(tok, t.Minus) && (tok.startLine ?? 0) > (this.tokens[i - 1].endLine ?? 0)) return true;
    }
    return false;
  }

  private badDimension(
    rules: string[],
    prev: IToken | undefined,
    tok: IToken,
    span: Span,
  ): SyntaxDiagnostic {
    const found = this.show(tok);
    if (is(prev, t.Repeat)) {
      return {
        message: `expected a repeat count after \`repeat\`, found ${found}`,
        span,
        hint: "write `repeat L { … }`, where `L` is an `int` hyperparameter or a number",
      };
    }
    if (rules.includes("groupsExpr") && is(prev, t.Groups)) {
      return {
        message: `expected the number of groups after \`reversible groups\`, found ${found}`,
        span,
        hint: "write `reversible groups C f(p = p) (h)`",
      };
    }
    return {
      message: `expected a dimension (a name, an integer or a parenthesised expression), found ${found}`,
      span,
      hint: is(tok, t.FloatLiteral) ? "dimensions are integers" : undefined,
    };
  }

  /** A statement that starts with a name but goes on with neither `=` nor an update operator. */
  private badStatement(first: IToken | undefined, next: IToken): SyntaxDiagnostic {
    const meant = first && misspelledKeyword(first, statementKeywords);
    if (first && meant) return { message: didYouMean(first, meant), span: this.spanOf(first) };
    const glued = first && gluedKeyword(first, statementKeywords);
    const gluedHint = first && glued && didYouMean(first, glued);
    const sameLine = first !== undefined && next.startLine === first.endLine;
    const third = this.after(next);
    if (sameLine && is(next, t.Plus, t.Minus, t.Star, t.Slash) && is(third, t.Equals)) {
      return {
        message: `\`${next.image} =\` is not an operator; did you mean \`${next.image}=\`?`,
        span: joinSpans(this.spanOf(next), this.spanOf(third)),
        hint: "an update operator is written without a space, as in `x += e`",
      };
    }
    if (sameLine && is(next, t.LParen)) {
      return {
        message: "a call on its own is not a statement",
        span: this.spanOf(first),
        hint: gluedHint ?? "bind its result with `let y = …`, or update a variable with `h += …`",
      };
    }
    let hint = gluedHint ?? statementForms;
    if (!gluedHint && is(next, t.LBracket)) hint = "an indexed read `x[u]` cannot be assigned to";
    return {
      message: `expected \`=\` or an update operator${first ? ` after \`${first.image}\`` : ""}, found ${this.show(next)}`,
      span: this.expectedAt(next),
      hint,
    };
  }

  private tuplePattern(rules: string[], tok: IToken): SyntaxDiagnostic {
    const span = this.expectedAt(tok);
    if (is(tok, t.RParen)) {
      return {
        message: "a tuple pattern needs at least two names",
        span,
        hint: "to bind or assign a single name, leave out the parentheses: `a = …`",
      };
    }
    return {
      message: `expected \`,\` and another name in the tuple pattern, found ${this.show(tok)}`,
      span,
      hint:
        rules.at(-2) === "tupleAssignStmt"
          ? "a statement that starts with `(` assigns to a tuple: `(a, b) = …`"
          : undefined,
    };
  }
}
