// Source spans (grammar/ast.ts's Span) from chevrotain's token and CST node positions, which are
// already 1-based lines and columns with inclusive ends; only the end offset becomes exclusive.
import type { CstNodeLocation, IToken } from "./chevrotain.js";
import type { Span } from "./ast.js";

export function tokenSpan(tok: IToken, file: string): Span {
  return {
    file,
    line: tok.startLine ?? NaN,
    col: tok.startColumn ?? NaN,
    endLine: tok.endLine ?? NaN,
    endCol: tok.endColumn ?? NaN,
    start: tok.startOffset,
    end: (tok.endOffset ?? NaN) + 1,
  };
}

/** A CST node's span. Nodes built by error recovery may have NaN positions; such trees only feed
 *  error reporting, never the later passes. */
export function locationSpan(loc: CstNodeLocation | undefined, file: string): Span {
  return {
    file,
    line: loc?.startLine ?? NaN,
    col: loc?.startColumn ?? NaN,
    endLine: loc?.endLine ?? NaN,
    endCol: loc?.endColumn ?? NaN,
    start: loc?.startOffset ?? NaN,
    end: (loc?.endOffset ?? NaN) + 1,
  };
}

/**
 * The empty span just after `tok` (or at the start of the file), for errors at the end of the
 * input, where the missing token would have gone. Its end column equals its column so that a
 * caret is drawn there.
 */
export function spanAfter(tok: IToken | undefined, file: string): Span {
  const line = tok?.endLine ?? 1;
  const col = tok ? (tok.endColumn ?? 0) + 1 : 1;
  const offset = tok ? (tok.endOffset ?? -1) + 1 : 0;
  return { file, line, col, endLine: line, endCol: col, start: offset, end: offset };
}
