import { describe, expect, it } from "vitest";
import { CsvParser, parseCsv } from "../../runtime/data/csv.js";
import { DataError } from "../../runtime/data/errors.js";
import { NOT_A_NUMBER, parseDecimal } from "../../runtime/data/parse-number.js";
import { Rng } from "../../runtime/data/rng.js";

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");
const dec = (s: string): number | typeof NOT_A_NUMBER => parseDecimal(bytes(s), 0, s.length);

describe("parseDecimal", () => {
  it("accepts decimal literals and rounds exactly like Number()", () => {
    const cases = ["0", "-0", "7", "+7", "1.5", "-2.25", ".5", "5.", "1e3", "1E-3", "-6.02e23", "0.000123",
      "123456789012345678901234567890", "0.1234567890123456789", "1e-320", "4.9e-324", "1.7976931348623157e308"];
    for (const c of cases) expect(dec(c), c).toBe(Number(c));
    const rng = new Rng(7);
    for (let i = 0; i < 5000; i++) {
      const x = (rng.next() - 0.5) * Math.pow(10, rng.nextInt(40) - 20);
      for (const s of [String(x), x.toFixed(6), x.toExponential(8), x.toPrecision(17)]) {
        expect(dec(s), s).toBe(Number(s));
      }
    }
  });

  it("rejects everything else", () => {
    for (const c of ["", "-", ".", "e5", "1e", "1e+", "0x10", "1,5", "1.2.3", "nan", "inf", "Infinity", "1 2", "--1", "1-"]) {
      expect(dec(c), c).toBe(NOT_A_NUMBER);
    }
  });
});

describe("CsvParser", () => {
  it("parses floats and uints, CRLF, spaces, a BOM and a missing final newline", () => {
    const t = parseCsv(bytes("1, 2.5 ,-3\r\n4,5e-1,6"), { file: "f", kind: "float" });
    expect(t.rows).toBe(2);
    expect(t.cols).toBe(3);
    expect(Array.from(t.data)).toEqual([1, 2.5, -3, 4, 0.5, 6]);
    const u = parseCsv(bytes("\xef\xbb\xbf4294967295,0\n12,3.0\n"), { file: "f", kind: "uint" });
    expect(Array.from(u.data)).toEqual([4294967295, 0, 12, 3]);
  });

  it("reads empty fields and nan as NaN only when allowed", () => {
    const t = parseCsv(bytes("1,\nnan,3\n\n\n"), { file: "f", kind: "float", allowMissing: true });
    expect(t.rows).toBe(2); // trailing blank lines are not rows
    expect(Array.from(t.data)).toEqual([1, NaN, NaN, 3]);
    expect(() => parseCsv(bytes("1,\n"), { file: "f", kind: "float" })).toThrow("f:1:2: empty field");
  });

  it("keeps row r on line r+1: a blank line is a missing value in a one-column file", () => {
    // pandas writes NaN as an empty field, so a one-column label file has blank lines for them.
    const t = parseCsv(bytes("\n1\n\n2\n\n"), { file: "f", kind: "float", allowMissing: true, rowsHint: 5 });
    expect(Array.from(t.data)).toEqual([NaN, 1, NaN, 2, NaN]);
    // Without a row count to reach, trailing blank lines are just trailing newlines.
    const u = parseCsv(bytes("1\n\n2\n\n"), { file: "f", kind: "float", allowMissing: true });
    expect(Array.from(u.data)).toEqual([1, NaN, 2]);
    expect(() => parseCsv(bytes("1,2\n\n3,4\n"), { file: "f", kind: "float", allowMissing: true })).toThrow(
      "f:2: blank line",
    );
    expect(() => parseCsv(bytes("1\n\n2\n"), { file: "f", kind: "float" })).toThrow("f:2: blank line");
  });

  it("gives the same result however the input is chunked", () => {
    const rng = new Rng(3);
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) {
      lines.push([0, 1, 2, 3].map(() => ((rng.next() - 0.5) * 1e3).toFixed(rng.nextInt(8))).join(","));
    }
    const text = bytes(lines.join("\r\n") + "\n");
    const whole = parseCsv(text, { file: "f", kind: "float" });
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const p = new CsvParser<Float32Array>({ file: "f", kind: "float", rowsHint: 10 });
      for (let i = 0; i < text.length; i += size) p.push(text.subarray(i, i + size));
      const t = p.finish();
      expect(t.rows).toBe(200);
      expect(t.data).toEqual(whole.data);
    }
    const expected = lines.flatMap((l) => l.split(",").map((x) => Math.fround(Number(x))));
    expect(Array.from(whole.data)).toEqual(expected);
  });

  it("converts every field exactly as Number() would, on the fast path and off it", () => {
    const rng = new Rng(8);
    const fields: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const digits = 1 + rng.nextInt(18);
      let s = rng.next() < 0.5 ? "-" : "";
      for (let d = 0; d < digits; d++) s += String(rng.nextInt(10));
      const dot = rng.nextInt(digits + 1);
      if (dot > 0 && dot < digits) s = s.slice(0, s.length - dot) + "." + s.slice(s.length - dot);
      fields.push(s);
    }
    const t = parseCsv(bytes(fields.join(",") + "\n"), { file: "f", kind: "float" });
    expect(Array.from(t.data)).toEqual(fields.map((x) => Math.fround(Number(x))));
  });

  it("reports line and field across chunk boundaries", () => {
    const p = new CsvParser<Uint32Array>({ file: "x.csv.gz", kind: "uint", columns: 2, what: "node id" });
    const text = bytes("1,2\n3,4\n5,-6\n");
    let err: unknown;
    try {
      for (let i = 0; i < text.length; i++) p.push(text.subarray(i, i + 1));
      p.finish();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe("x.csv.gz:3:2: node id -6 is negative");
  });

  it("rejects uints that do not fit 32 bits and long garbage, truncating the echo", () => {
    expect(() => parseCsv(bytes("4294967296\n"), { file: "f", kind: "uint", what: "node id" })).toThrow(
      "f:1:1: node id 4294967296 is too large",
    );
    const long = "x".repeat(100);
    expect(() => parseCsv(bytes(`1\n${long}\n`), { file: "f", kind: "float" })).toThrow(
      `f:2:1: \`${"x".repeat(40)}…\` is not a number`,
    );
  });
});
