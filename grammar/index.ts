// The front end's API: source text in, AST and syntax diagnostics out. It never throws for a
// mistake in the program; recovery lets one run report the errors of every broken statement.
import type { Program } from "./ast.js";
import { DiagnosticBag, type Diagnostic } from "./diagnostics.js";
import { AstBuilder } from "./ast-builder.js";
import type { ProgramCstNode } from "./cst.js";
import { lex } from "./lexer.js";
import { nestingError } from "./nesting.js";
import { parser } from "./parser.js";
import { SyntaxErrorReporter, type SyntaxDiagnostic } from "./syntax-errors.js";
import { typoTokens } from "./tokens.js";

export interface ParseResult {
  /** Complete when `diagnostics` holds no error; otherwise what could be built around them. */
  program: Program;
  /** Syntax errors in source order. */
  diagnostics: Diagnostic[];
}

export function parseProgram(text: string, file: string): ParseResult {
  // Lexing and parsing errors cascade (see firstPerLine); typos and the AST builder's errors do not.
  const lexing = new DiagnosticBag();
  const parsing = new DiagnosticBag();
  const independent = new DiagnosticBag();
  const report = (bag: DiagnosticBag, d: SyntaxDiagnostic): void =>
    bag.error(d.message, d.span, d.hint);

  const lexed = lex(text);
  const reporter = new SyntaxErrorReporter(lexed.tokens, file);
  lexed.errors.forEach((e) => report(lexing, reporter.lexingError(e, text)));
  (lexed.groups.errors ?? []).forEach((tok) => report(lexing, reporter.unterminatedComment(tok)));
  for (const tok of lexed.tokens) {
    const meant = typoTokens.get(tok.tokenType);
    if (meant) report(independent, reporter.typo(tok, meant));
  }

  // Nesting deeper than the recursive passes can take is refused before parsing, located.
  const tooDeep = nestingError(lexed.tokens, file);
  if (tooDeep) {
    report(lexing, tooDeep);
    return {
      program: { kind: "program", file, decls: [] },
      diagnostics: [...independent.items, ...firstPerLine(lexing.items, new Set())].sort(bySpan),
    };
  }

  parser.input = lexed.tokens;
  const cst = parser.program() as ProgramCstNode;
  parser.errors.forEach((e) => report(parsing, reporter.parsingError(e)));
  const program = new AstBuilder(file, independent).program(cst.children);

  const taken = new Set<number | undefined>();
  const diagnostics = [
    ...independent.items,
    ...firstPerLine(lexing.items, taken),
    ...firstPerLine(parsing.items, taken),
  ];
  return { program, diagnostics: diagnostics.sort(bySpan) };
}

/**
 * After one mistake, recovery often trips over the rest of the same line, and those follow-on
 * errors only repeat the first; a character the lexer dropped makes the parser trip the same way.
 * So each line gets one lexing or parsing error at most, lexing errors first; `taken` holds the
 * lines that have one.
 */
function firstPerLine(errors: Diagnostic[], taken: Set<number | undefined>): Diagnostic[] {
  return [...errors].sort(bySpan).filter((d) => {
    if (taken.has(d.span?.line)) return false;
    taken.add(d.span?.line);
    return true;
  });
}

function bySpan(a: Diagnostic, b: Diagnostic): number {
  return (a.span?.start ?? 0) - (b.span?.start ?? 0);
}
