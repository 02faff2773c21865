// The grammar's chevrotain, loaded from the single-file bundle that the package ships
// (lib/chevrotain.mjs, the same release). The package's entry point (lib/src/api.js) imports
// lodash-es module by module, some 640 files: a third of a second of every start of the CLI,
// against 20 ms for the bundle. The package's exports map does not expose the bundle, so it is
// found next to the entry that Node resolves; without it the entry itself is loaded. The browser
// build bundles chevrotain itself and uses chevrotain.browser.ts.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

type Chevrotain = typeof import("chevrotain");
type GenerateCstDts = (productions: Record<string, unknown>) => string;

/** The bundle next to the package entry (…/chevrotain/lib/src/api.js → …/lib/chevrotain.mjs). */
function bundlePath(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve("chevrotain");
    const bundle = join(dirname(entry), "..", "chevrotain.mjs");
    return existsSync(bundle) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

const bundle = bundlePath();
const api: Chevrotain & { generateCstDts?: GenerateCstDts } = bundle
  ? await import(pathToFileURL(bundle).href)
  : await import("chevrotain");

export const { createToken, CstParser, EOF, Lexer, tokenMatcher } = api;
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

/**
 * The CST type declarations of a parser's grammar (grammar/cst.d.ts), by the bundle's copy of
 * @chevrotain/cst-dts-gen: the generator tells rules from tokens by their classes, which must be
 * the parser's own copy.
 */
export function generateCstDts(productions: Record<string, unknown>): string {
  if (!api.generateCstDts)
    throw new Error("chevrotain's single-file bundle (lib/chevrotain.mjs) is missing");
  return api.generateCstDts(productions);
}
