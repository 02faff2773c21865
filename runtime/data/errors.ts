// The one error type for bad input data. Loading real datasets fails in ordinary ways (a truncated
// download, a hand-edited CSV, the wrong directory); the user needs the file, the line and what is
// wrong, never a stack trace from deep inside a parser. Everything in runtime/data that rejects
// input throws DataError; anything else escaping from there is a bug in this code.

export interface DataLocation {
  /** The file as the user would type it (the dataset dir joined with the relative path). */
  file?: string;
  /** 1-based line number. */
  line?: number;
  /** 1-based field (column) number within the line. */
  field?: number;
}

export class DataError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: number | undefined;
  /** The bare description without the location prefix. */
  readonly detail: string;

  constructor(detail: string, where: DataLocation = {}) {
    super(formatLocation(where) + detail);
    this.name = "DataError";
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
    this.detail = detail;
  }
}

/** `file:line:field: ` — the shape editors and terminals turn into a clickable link. */
function formatLocation({ file, line, field }: DataLocation): string {
  if (file === undefined) return "";
  let s = file;
  if (line !== undefined) {
    s += `:${line}`;
    if (field !== undefined) s += `:${field}`;
  }
  return s + ": ";
}
