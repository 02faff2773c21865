// The .gnn lexer: one shared instance, since building it validates and optimises every pattern.
import { Lexer, type ILexingResult } from "./chevrotain.js";
import { allTokens } from "./tokens.js";

const gnnLexer = new Lexer(allTokens, {
  positionTracking: "full",
  // Fail loudly at start-up if a token pattern defeats the first-character optimisation, which
  // keeps lexing linear in the file size.
  ensureOptimizations: true,
});

/** Tokens (comments and whitespace dropped), lexing errors, and the `errors` group, which holds
 *  unterminated block comments. */
export function lex(text: string): ILexingResult {
  return gnnLexer.tokenize(text);
}
