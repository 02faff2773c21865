// Streaming parser for the gzip-compressed, header-less numeric CSV files of the OGB layout.
//
// Design: gunzip as a stream (ogbn-products' node-feat is ~1 GB of text, too big to inflate into
// one string) and parse the bytes of each chunk in place, writing values straight into a growing
// typed array. Only the unfinished last line of a chunk is carried over to the next one.
//
// Contract the loaders rely on: row r of the result is line r+1 of the file (a blank line is a
// missing value or an error, except trailing ones), so a value found bad after parsing can still be
// reported by line.

import { createReadStream, readFileSync, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { DataError } from "./errors.js";
import { NOT_A_NUMBER, isNanLiteral, latin1, parseDecimal } from "./parse-number.js";

export { DataError } from "./errors.js";

export interface CsvOptions {
  /** The file as shown in error messages. */
  file: string;
  /**
   * "uint": non-negative integers below 2^32 (node ids, counts) into a Uint32Array.
   * "float": decimal numbers into a Float32Array.
   */
  kind: "uint" | "float";
  /** Required number of fields per row; when absent the first row decides. */
  columns?: number;
  /** Describes `columns` in the ragged-row message, e.g. "src,dst". */
  columnsWhat?: string;
  /** float only: an empty field or `nan` is a missing value, stored as NaN. */
  allowMissing?: boolean;
  /** Expected number of rows, to allocate the output once instead of growing it. */
  rowsHint?: number;
  /** readCsvGz only: stop reading (and reject) when this is aborted. */
  signal?: AbortSignal;
  /** What a value is, for messages ("node id", "feature value"). */
  what?: string;
}

export interface CsvTable<T extends Uint32Array | Float32Array> {
  rows: number;
  cols: number;
  /** rows*cols values, row-major; exactly that length. */
  data: T;
}

type Out = Uint32Array | Float32Array;

const NL = 10;
const CR = 13;
const COMMA = 44;
const SPACE = 32;
const TAB = 9;
const MINUS = 45;
const DOT = 46;
/** A line longer than this is not a CSV row we can use; refuse instead of buffering forever. */
const MAX_LINE_BYTES = 256 * 1024 * 1024;

/** Incremental parser: feed decompressed chunks with push(), then call finish(). */
export class CsvParser<T extends Out> {
  private cols: number;
  private rows = 0;
  private line = 0; // number of the last line consumed
  private pendingBlank = 0; // blank lines seen but not yet known to be trailing
  private carry: Uint8Array | null = null;
  private data: T;

  constructor(private readonly opts: CsvOptions) {
    this.cols = opts.columns ?? 0;
    // Allocated once the column count is known (see parseLine), sized by rowsHint when given.
    this.data = this.alloc(0);
  }

  /** Line number currently being read (for messages about failures mid-stream). */
  get currentLine(): number {
    return this.line + 1;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    if (this.carry) {
      // Complete the carried partial line with the head of this chunk; copy only that line.
      const nl = chunk.indexOf(NL);
      const carry = this.carry;
      this.carry = null;
      const head = nl < 0 ? chunk : chunk.subarray(0, nl);
      const line = new Uint8Array(carry.length + head.length);
      line.set(carry);
      line.set(head, carry.length);
      if (nl < 0) {
        this.keepCarry(line, 0);
        return;
      }
      this.parseLine(line, 0, line.length);
      start = nl + 1;
    }
    const lastNl = chunk.lastIndexOf(NL);
    while (start <= lastNl) {
      const end = chunk.indexOf(NL, start);
      this.parseLine(chunk, start, end);
      start = end + 1;
    }
    if (start < chunk.length) this.keepCarry(chunk, start);
  }

  finish(): CsvTable<T> {
    if (this.carry) {
      const c = this.carry;
      this.carry = null;
      this.parseLine(c, 0, c.length);
    }
    if (this.pendingBlank > 0) this.flushBlank(true);
    if (this.rows === 0) throw new DataError("file is empty", { file: this.opts.file });
    const n = this.rows * this.cols;
    const data = (this.data.length === n ? this.data : this.data.slice(0, n)) as T;
    return { rows: this.rows, cols: this.cols, data };
  }

  /**
   * Blank lines seen since the last row. In a single-column file that allows missing values a blank
   * line is a missing value (pandas writes NaN as an empty field); anywhere else it is an error.
   * At the end of the file they are trailing newlines, except that a single-column file still
   * short of rowsHint rows gets missing values up to rowsHint (missing labels of the last nodes).
   */
  private flushBlank(atEnd: boolean): void {
    const n = this.pendingBlank;
    this.pendingBlank = 0;
    const missingRows = this.opts.allowMissing === true && this.cols <= 1;
    if (!atEnd && !missingRows) {
      throw this.err("blank line (blank lines are only allowed at the end of the file)", undefined, this.line - n);
    }
    const count = atEnd ? (missingRows ? Math.min(n, Math.max(0, (this.opts.rowsHint ?? 0) - this.rows)) : 0) : n;
    if (count === 0) return;
    this.cols = 1;
    if (this.rows + count > this.data.length) this.grow(this.rows + count);
    for (let i = 0; i < count; i++) this.data[this.rows++] = NaN;
  }

  private keepCarry(buf: Uint8Array, start: number): void {
    if (buf.length - start > MAX_LINE_BYTES) {
      throw this.err(`line is longer than ${MAX_LINE_BYTES >> 20} MiB; is this a CSV file?`, 1);
    }
    // A real copy (new Uint8Array, not Buffer#slice, which is a view): the chunk belongs to the stream.
    this.carry = new Uint8Array(buf.subarray(start));
  }

  private err(detail: string, field?: number, line = this.line): DataError {
    return new DataError(detail, { file: this.opts.file, line, field });
  }

  private parseLine(buf: Uint8Array, s: number, e: number): void {
    this.line++;
    if (e > s && buf[e - 1] === CR) e--; // CRLF files
    // A UTF-8 byte-order mark (spreadsheet exports) is not part of the first field.
    if (this.line === 1 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    if (isBlank(buf, s, e)) {
      this.pendingBlank++;
      return;
    }
    if (this.cols === 0) this.cols = countFields(buf, s, e);
    if (this.data.length === 0) this.data = this.alloc(this.cols * (this.opts.rowsHint || 1024));
    if (this.pendingBlank > 0) this.flushBlank(false);
    const cols = this.cols;
    const base = this.rows * cols;
    if (base + cols > this.data.length) this.grow(base + cols);
    let field = 0;
    let fs = s;
    const data = this.data;
    const isUint = this.opts.kind === "uint";
    for (;;) {
      if (field >= cols) throw this.ragged(buf, s, e);
      // Fast path for the overwhelmingly common fields, converted in the same pass that finds the
      // comma: "0", "1", ids, and short plain decimals such as "-0.057943". At most 15 digits and
      // 22 decimals keep the mantissa and the power of ten exact doubles, so one division rounds
      // correctly (as parseDecimal's fast path). Anything else is rescanned by parseField.
      let fe = fs;
      const neg = buf[fe] === MINUS;
      if (neg) fe++;
      let v = 0;
      let nd = 0;
      let c = 0;
      while (fe < e) {
        c = buf[fe]! - 48;
        if (c < 0 || c > 9) break;
        v = v * 10 + c;
        fe++;
        nd++;
      }
      let scale = 1;
      if (fe < e && c === DOT - 48 && nd > 0 && !isUint) {
        fe++;
        while (fe < e) {
          c = buf[fe]! - 48;
          if (c < 0 || c > 9) break;
          v = v * 10 + c;
          scale *= 10;
          fe++;
          nd++;
        }
      }
      const fits = isUint ? !neg && v <= 0xffffffff : true; // else the typed array would wrap
      if (nd > 0 && nd <= 15 && fits && (fe === e || buf[fe] === COMMA)) {
        data[base + field] = neg ? -v / scale : v / scale;
      } else {
        while (fe < e && buf[fe] !== COMMA) fe++;
        data[base + field] = this.parseField(buf, fs, fe, field + 1);
      }
      field++;
      if (fe >= e) break;
      fs = fe + 1;
    }
    if (field !== cols) throw this.ragged(buf, s, e);
    this.rows++;
  }

  private ragged(buf: Uint8Array, s: number, e: number): DataError {
    const n = countFields(buf, s, e);
    const expected =
      this.opts.columns !== undefined
        ? `expected ${this.opts.columns}${this.opts.columnsWhat ? ` (${this.opts.columnsWhat})` : ""}`
        : `the first row had ${this.cols}`;
    return this.err(`row has ${n} field${n === 1 ? "" : "s"}; ${expected}`);
  }

  private parseField(buf: Uint8Array, s: number, e: number, field: number): number {
    // Surrounding spaces are harmless formatting, not data.
    while (s < e && (buf[s] === SPACE || buf[s] === TAB)) s++;
    while (e > s && (buf[e - 1] === SPACE || buf[e - 1] === TAB)) e--;
    if (this.opts.kind === "uint") return this.parseUint(buf, s, e, field);
    if (s === e || isNanLiteral(buf, s, e)) {
      if (this.opts.allowMissing) return NaN;
      throw this.err(s === e ? "empty field" : "`nan` (missing value) is not allowed here", field);
    }
    const v = parseDecimal(buf, s, e);
    if (v === NOT_A_NUMBER) throw this.notANumber(buf, s, e, field);
    // Values are stored as float32: beyond its range a value silently becomes ±Infinity, and one
    // infinite feature turns every weight it meets into NaN. (The fast path in parseLine takes at
    // most 15 digits without an exponent, always well inside the range.)
    if (!Number.isFinite(Math.fround(v))) {
      throw this.err(
        `${this.opts.what ?? "value"} ${latin1(buf, s, Math.min(e, s + 40))} is beyond float32's range ` +
          `(±3.4e38) and would become ${v < 0 ? "-" : ""}Infinity; rescale the data`,
        field,
      );
    }
    return v;
  }

  private parseUint(buf: Uint8Array, s: number, e: number, field: number): number {
    const what = this.opts.what ?? "value";
    if (s === e) throw this.err(`empty field; expected a ${what}`, field);
    let v = 0;
    let i = s;
    for (; i < e; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === e) {
      if (v > 0xffffffff) throw this.err(`${what} ${latin1(buf, s, e)} is too large`, field);
      return v;
    }
    // Not a plain unsigned integer: say precisely why.
    const num = parseDecimal(buf, s, e);
    if (num === NOT_A_NUMBER) throw this.notANumber(buf, s, e, field);
    const text = latin1(buf, s, e);
    if (buf[s] === MINUS && num !== 0) {
      throw this.err(`${what} ${text} is negative`, field);
    }
    // "3.0" is how pandas writes an integer column that once held a NaN; it is still exact.
    if (Number.isInteger(num) && num >= 0 && num <= 0xffffffff) return num;
    throw this.err(`${what} \`${text}\` is not an integer`, field);
  }

  private notANumber(buf: Uint8Array, s: number, e: number, field: number): DataError {
    let text = latin1(buf, s, Math.min(e, s + 40));
    if (e - s > 40) text += "…";
    const hint = this.line === 1 ? " (OGB raw files have no header row)" : "";
    return this.err(`\`${text}\` is not a number${hint}`, field);
  }

  private grow(min: number): void {
    let cap = Math.max(this.data.length * 2, 1024);
    while (cap < min) cap *= 2;
    const next = this.alloc(cap);
    next.set(this.data);
    this.data = next;
  }

  private alloc(n: number): T {
    return (this.opts.kind === "uint" ? new Uint32Array(n) : new Float32Array(n)) as T;
  }

}

function isBlank(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] !== SPACE && buf[i] !== TAB) return false;
  return true;
}

function countFields(buf: Uint8Array, s: number, e: number): number {
  let n = 1;
  for (let i = s; i < e; i++) if (buf[i] === COMMA) n++;
  return n;
}

/** Parses an uncompressed CSV held in memory (tests, small files). */
export function parseCsv(bytes: Uint8Array, opts: CsvOptions & { kind: "uint" }): CsvTable<Uint32Array>;
export function parseCsv(bytes: Uint8Array, opts: CsvOptions & { kind: "float" }): CsvTable<Float32Array>;
export function parseCsv(bytes: Uint8Array, opts: CsvOptions): CsvTable<Out> {
  const p = new CsvParser<Out>(opts);
  p.push(bytes);
  return p.finish();
}

/** Reads a .csv.gz file with a streaming gunzip; errors are DataErrors naming the file. */
export async function readCsvGz(path: string, opts: CsvOptions & { kind: "uint" }): Promise<CsvTable<Uint32Array>>;
export async function readCsvGz(path: string, opts: CsvOptions & { kind: "float" }): Promise<CsvTable<Float32Array>>;
export async function readCsvGz(path: string, opts: CsvOptions): Promise<CsvTable<Out>> {
  checkReadable(path, opts.file);
  const parser = new CsvParser<Out>(opts);
  // pipeline() reports a throwing sink as a generic AbortError, so keep the parser's own error.
  let parseError: unknown;
  try {
    await pipeline(
      createReadStream(path, { highWaterMark: 1 << 20 }),
      createGunzip({ chunkSize: 1 << 20 }),
      async (source: AsyncIterable<Buffer>) => {
        try {
          for await (const chunk of source) parser.push(chunk);
        } catch (e) {
          parseError = e;
          throw e;
        }
      },
      { signal: opts.signal },
    );
  } catch (e) {
    throw asDataError(parseError ?? e, opts.file, parser.currentLine);
  }
  return parser.finish();
}

/** Synchronous variant for small files (num-node-list and friends). */
export function readCsvGzSync(path: string, opts: CsvOptions & { kind: "uint" }): CsvTable<Uint32Array>;
export function readCsvGzSync(path: string, opts: CsvOptions & { kind: "float" }): CsvTable<Float32Array>;
export function readCsvGzSync(path: string, opts: CsvOptions): CsvTable<Out> {
  checkReadable(path, opts.file);
  let bytes: Buffer;
  try {
    bytes = gunzipSync(readFileSync(path));
  } catch (e) {
    throw asDataError(e, opts.file, undefined);
  }
  const p = new CsvParser<Out>(opts);
  p.push(bytes);
  return p.finish();
}

function checkReadable(path: string, file: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new DataError("is not a regular file", { file });
    size = st.size;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file });
  }
  if (size === 0) throw new DataError("file is empty", { file });
}

/** Turns zlib/fs failures into DataErrors; DataErrors from the parser pass through. */
function asDataError(e: unknown, file: string, line: number | undefined): DataError {
  if (e instanceof DataError) return e;
  const err = e as NodeJS.ErrnoException;
  const where = line !== undefined ? ` (while reading line ${line})` : "";
  switch (err.code) {
    case "Z_DATA_ERROR":
      return new DataError(`not a valid gzip file: ${err.message}${where}`, { file });
    case "Z_BUF_ERROR":
      return new DataError(`gzip data is truncated: ${err.message}${where}; re-download the file`, { file });
    default:
      return new DataError(`cannot read file: ${err.message ?? String(e)}${where}`, { file });
  }
}
