// The browser build's chevrotain (see chevrotain.ts): esbuild bundles the package itself.
export { createToken, CstParser, EOF, Lexer, tokenMatcher } from "chevrotain";
export type {
  CstNode,
  CstNodeLocation,
  ICstVisitor,
  ILexingError,
  ILexingResult,
  IParserErrorMessageProvider,
  IRecognitionException,
  IToken,
  TokenType,
} from "chevrotain";
