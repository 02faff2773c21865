// Where the parser resumes after a syntax error. After an error that single-token insertion or
// deletion cannot fix, chevrotain skips ahead to the first token that may follow one of the rules
// being parsed and resumes in that rule. For this language that lands too early: on any name in
// the middle of the broken line (names start statements), or inside the `{ … }` body of a broken
// aggregate header, whose `}` then closes the enclosing layer.
//
// So only "resume points" are considered: tokens outside any bracketed group opened after the
// error that start a line, close a bracket opened before the error, separate items (`;`, `,`), or
// end the input. Since the diagnostics keep one parser error per line, resuming at a line start
// loses nothing. findReSyncTokenType and reSyncTo are chevrotain internals (hence the exactly
// pinned version); tests/grammar/recovery.test.ts fails if they stop being called.
import { CstParser, EOF, tokenMatcher, type IToken, type TokenType } from "./chevrotain.js";
import { closerOf, Comma, Semicolon } from "./tokens.js";

const closers = new Set(closerOf.values());

export abstract class RecoveringParser extends CstParser {
  /** An opening bracket that seems missing is usually just one token further on, as in
   *  `repeat L blocks {`: deleting the stray token fixes that, inserting `{` before it does not. */
  protected override canTokenTypeBeInsertedInRecovery(tokType: TokenType): boolean {
    return !closerOf.has(tokType);
  }

  findReSyncTokenType(): TokenType {
    const follows = (this as unknown as { flattenFollowSet(): TokenType[] }).flattenFollowSet();
    for (const k of this.resumePoints()) {
      const tok = this.LA(k);
      const match = follows.find((tt) => tokenMatcher(tok, tt));
      if (match) return match;
    }
    return EOF; // resumePoints ends at the end of the input, which may follow any rule stack
  }

  reSyncTo(tokType: TokenType): IToken[] {
    let target = 1;
    for (const k of this.resumePoints()) {
      target = k;
      if (tokenMatcher(this.LA(k), tokType)) break;
    }
    const skipped: IToken[] = [];
    for (let k = 1; k < target; k++) {
      skipped.push(this.LA(1));
      this.SKIP_TOKEN();
    }
    return skipped;
  }

  /** The lookahead indices of the resume points, in order, ending at the end of the input. */
  private *resumePoints(): Generator<number> {
    for (let k = 1; ; k = this.afterGroup(k)) {
      const tok = this.LA(k);
      if (tokenMatcher(tok, EOF)) {
        yield k;
        return;
      }
      const prev = this.LA(k - 1);
      const startsLine = tokenMatcher(prev, EOF) || (prev.endLine ?? 0) < (tok.startLine ?? 0);
      if (
        startsLine ||
        closers.has(tok.tokenType) ||
        tokenMatcher(tok, Semicolon) ||
        tokenMatcher(tok, Comma)
      ) {
        yield k;
      }
    }
  }

  /** The lookahead index just past the group that opens at LA(k), or k + 1 if none opens there. */
  private afterGroup(k: number): number {
    if (!closerOf.has(this.LA(k).tokenType)) return k + 1;
    let depth = 0;
    for (; ; k++) {
      const tok = this.LA(k);
      if (tokenMatcher(tok, EOF)) return k;
      if (closerOf.has(tok.tokenType)) depth++;
      else if (closers.has(tok.tokenType) && --depth === 0) return k + 1;
    }
  }
}
