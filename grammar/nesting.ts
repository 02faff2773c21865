// How deeply a program may nest. The parser, the AST builder and the lowering are recursive
// descents: every bracket level (and every pending prefix minus) costs stack frames, and around
// 250 parentheses Node's stack runs out — a stack trace instead of a diagnostic. So nesting beyond
// MAX_NESTING levels is refused before parsing, at the token where it goes too deep. A long flat
// chain (`a + b + … + z`, thousands of terms) is not nesting: the parser reads it in a loop.
import type { IToken, TokenType } from "./chevrotain.js";
import type { Span } from "./ast.js";
import { tokenSpan } from "./spans.js";
import * as t from "./tokens.js";

/** Far beyond anything written by hand, well within the stack of every pass. */
export const MAX_NESTING = 100;

const OPEN = new Set<TokenType>([t.LParen, t.LBracket, t.LBrace]);
const CLOSE = new Set<TokenType>([t.RParen, t.RBracket, t.RBrace]);

/** A number (FloatLiteral and IntLiteral are NumberLiterals by category). */
function isNumber(type: TokenType): boolean {
  return type === t.NumberLiteral || (type.CATEGORIES ?? []).includes(t.NumberLiteral);
}

/** An operand's own token: a name, a number, true or false. */
function isAtom(type: TokenType): boolean {
  return type === t.Identifier || isNumber(type) || type === t.True || type === t.False;
}

/** Tokens after which a `-` is binary (they end an operand). */
function endsOperand(tok: IToken | undefined): boolean {
  return !!tok && (CLOSE.has(tok.tokenType) || isAtom(tok.tokenType));
}

export interface NestingDiagnostic {
  message: string;
  span: Span;
  hint: string;
}

/**
 * The first token at which brackets and prefix minuses nest more than MAX_NESTING levels deep,
 * as a diagnostic; undefined when the program stays within the limit.
 */
export function nestingError(tokens: IToken[], file: string): NestingDiagnostic | undefined {
  // Open levels: brackets, and prefix minuses waiting for their operand (`- - (x)` is 3 deep).
  const stack: ("bracket" | "minus")[] = [];
  const popMinuses = () => {
    while (stack[stack.length - 1] === "minus") stack.pop();
  };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const type = tok.tokenType;
    const next = tokens[i + 1]?.tokenType;
    if (OPEN.has(type)) {
      stack.push("bracket");
    } else if (CLOSE.has(type)) {
      popMinuses();
      if (stack.length) stack.pop();
      // A bracketed operand completes the minuses in front of it, unless it is called or indexed.
      if (next !== t.LParen && next !== t.LBracket) popMinuses();
      continue;
    } else if (type === t.Minus && !endsOperand(tokens[i - 1])) {
      stack.push("minus");
    } else if (isAtom(type) && next !== t.LParen && next !== t.LBracket) {
      popMinuses();
      continue;
    } else {
      continue;
    }
    if (stack.length > MAX_NESTING) {
      return {
        message: `the program nests more than ${MAX_NESTING} levels deep here (brackets and prefix minus signs)`,
        span: tokenSpan(tok, file),
        hint: "name intermediate results with `let` to flatten the expression",
      };
    }
  }
  return undefined;
}
