// Located user-facing errors. Every pass reports problems in the user's program as Diagnostics and
// keeps going where it can, so one run shows several errors; the CLI prints them with the source
// line and a caret and exits 1. A CompileError carries a batch of them through the pipeline; it is
// never shown as a stack trace.
import type { Span } from "./ast.js";

export type Severity = "error" | "warning" | "note";

export interface Diagnostic {
  severity: Severity;
  message: string;
  span?: Span;
  hint?: string;
}

export class CompileError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    /** The texts the diagnostics point into, for showing their lines (when known). */
    readonly sources?: SourceMap,
  ) {
    super(diagnostics.map((d) => d.message).join("\n"));
    this.name = "CompileError";
  }
}

/** Collects diagnostics across a pass; `throwIfErrors` ends the pipeline after a pass. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  error(message: string, span?: Span, hint?: string): void {
    this.items.push({ severity: "error", message, span, hint });
  }

  warning(message: string, span?: Span, hint?: string): void {
    this.items.push({ severity: "warning", message, span, hint });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  throwIfErrors(): void {
    if (this.hasErrors) throw new CompileError(this.errorsFirstDeduplicated());
  }

  /** The same message at the same place is reported once (a layer instantiated twice would
   *  otherwise report each of its errors twice). */
  errorsFirstDeduplicated(): Diagnostic[] {
    const seen = new Set<string>();
    const out: Diagnostic[] = [];
    for (const d of this.items) {
      const key = `${d.severity}|${d.message}|${d.span?.file}:${d.span?.start}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(d);
    }
    return out;
  }
}

/** A source text by file name, for printing the line under an error. */
export type SourceMap = ReadonlyMap<string, string>;

/**
 * Formats one diagnostic the way compilers do:
 *
 *   examples/broken.gnn:12:5: error: `x1` is updated by a statement that reads it
 *      12 |     x1 += relu(x1)
 *         |     ^^^^^^^^^^^^^^
 *     hint: a reversible update may only read the other variables of the block
 */
export function formatDiagnostic(d: Diagnostic, sources: SourceMap): string {
  const lines: string[] = [];
  const where = d.span ? `${d.span.file}:${d.span.line}:${d.span.col}: ` : "";
  lines.push(`${where}${d.severity}: ${d.message}`);
  const text = d.span ? sources.get(d.span.file) : undefined;
  if (d.span && text !== undefined) {
    const srcLine = text.split(/\r?\n/)[d.span.line - 1] ?? "";
    const gutter = String(d.span.line);
    const pad = " ".repeat(gutter.length);
    const caretLen =
      d.span.endLine === d.span.line
        ? Math.max(1, d.span.endCol - d.span.col + 1)
        : Math.max(1, srcLine.length - d.span.col + 1);
    lines.push(` ${gutter} | ${srcLine}`);
    lines.push(` ${pad} | ${" ".repeat(Math.max(0, d.span.col - 1))}${"^".repeat(caretLen)}`);
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join("\n");
}

export function formatDiagnostics(ds: readonly Diagnostic[], sources: SourceMap): string {
  return ds.map((d) => formatDiagnostic(d, sources)).join("\n");
}

/** A span covering `a` through `b`. */
export function joinSpans(a: Span, b: Span): Span {
  return {
    file: a.file,
    line: a.line,
    col: a.col,
    endLine: b.endLine,
    endCol: b.endCol,
    start: a.start,
    end: b.end,
  };
}
