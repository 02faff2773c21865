// Syntax highlighting for .gnn sources in CodeMirror: a stream tokenizer whose keyword set is the
// grammar's own (grammar/tokens.ts) and whose function names are the compiler's built-ins and
// losses, so a new keyword or operator needs no change here.
import { StreamLanguage, type StreamParser } from "@codemirror/language";
import { keywords } from "../../grammar/tokens.js";
import { builtinByName, LOSSES } from "../../compiler/lower/builtins.js";

/** Each keyword token's pattern is the word itself (`keyword()` in grammar/tokens.ts). */
export const KEYWORDS: ReadonlySet<string> = new Set(
  keywords.map((t) => (t.PATTERN instanceof RegExp ? t.PATTERN.source : String(t.PATTERN))),
);
const FUNCTIONS: ReadonlySet<string> = new Set([...builtinByName.keys(), ...LOSSES.keys()]);

interface State {
  inBlockComment: boolean;
}

const gnn: StreamParser<State> = {
  name: "gnn",
  startState: () => ({ inBlockComment: false }),
  token(stream, state) {
    if (state.inBlockComment) {
      state.inBlockComment = !stream.skipTo("*/");
      if (state.inBlockComment) stream.skipToEnd();
      else stream.pos += 2;
      return "blockComment";
    }
    if (stream.eatSpace()) return null;
    if (stream.match("//")) {
      stream.skipToEnd();
      return "lineComment";
    }
    if (stream.match("/*")) {
      state.inBlockComment = true;
      return this.token!(stream, state) ?? "blockComment";
    }
    if (stream.match(/^\d+\.\d+(?:[eE][+-]?\d+)?|^\d+[eE][+-]?\d+|^\d+/)) return "number";
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      if (KEYWORDS.has(w)) return w === "true" || w === "false" ? "bool" : "keyword";
      if (FUNCTIONS.has(w)) return "variableName.function";
      if (/^[A-Z]/.test(w)) return "typeName";
      return "variableName";
    }
    if (stream.match(/^(->|=>|:=|\+=|-=|\*=|\/=|[+\-*/@=])/)) return "operator";
    stream.next();
    return "punctuation";
  },
  languageData: { commentTokens: { line: "//", block: { open: "/*", close: "*/" } } },
};

export const gnnLanguage = StreamLanguage.define(gnn);
