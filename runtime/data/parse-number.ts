// Number parsing straight from the bytes of a CSV field, without building a string per field.
// ogbn-products' node-feat file has 245 M fields; creating a JS string for each and calling Number()
// would dominate load time, so the common shapes are handled here and only rare ones fall back.

const POW10 = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
];

const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const LOWER_E = 101;
const UPPER_E = 69;

/** Sentinel returned for text that is not a number. */
export const NOT_A_NUMBER: unique symbol = Symbol("not a number");

/**
 * Parses a decimal floating-point literal (`-1.25`, `3`, `.5`, `6.02e23`) occupying all of
 * bytes[s, e). Returns NOT_A_NUMBER for anything else (including "", "nan", "0x10", "1,5").
 * Results are correctly rounded doubles: the Clinger fast path (at most 15 significant digits and a
 * power of ten up to 22 are both exact doubles, and one IEEE multiply/divide rounds correctly);
 * everything else goes through Number(), which is correctly rounded too.
 */
export function parseDecimal(bytes: Uint8Array, s: number, e: number): number | typeof NOT_A_NUMBER {
  let i = s;
  let negative = false;
  if (i < e && (bytes[i] === MINUS || bytes[i] === PLUS)) {
    negative = bytes[i] === MINUS;
    i++;
  }
  let mantissa = 0;
  let sigDigits = 0; // significant digits accumulated into mantissa (leading zeros excluded)
  let exp10 = 0; // decimal exponent adjustment from the position of the point
  let digits = 0; // all digits seen, to reject "." and "-"
  let exact = true;
  while (i < e) {
    const c = bytes[i]!;
    if (c < ZERO || c > NINE) break;
    digits++;
    if (sigDigits < 15) {
      mantissa = mantissa * 10 + (c - ZERO);
      if (mantissa !== 0) sigDigits++;
    } else {
      exact = false;
    }
    i++;
  }
  if (i < e && bytes[i] === DOT) {
    i++;
    while (i < e) {
      const c = bytes[i]!;
      if (c < ZERO || c > NINE) break;
      digits++;
      if (sigDigits < 15) {
        mantissa = mantissa * 10 + (c - ZERO);
        if (mantissa !== 0) sigDigits++;
        exp10--;
      } else if (c !== ZERO) {
        exact = false;
      }
      i++;
    }
  }
  if (digits === 0) return NOT_A_NUMBER;
  if (i < e && (bytes[i] === LOWER_E || bytes[i] === UPPER_E)) {
    i++;
    let expNeg = false;
    if (i < e && (bytes[i] === MINUS || bytes[i] === PLUS)) {
      expNeg = bytes[i] === MINUS;
      i++;
    }
    const expStart = i;
    let exp = 0;
    while (i < e) {
      const c = bytes[i]!;
      if (c < ZERO || c > NINE) break;
      if (exp < 100000) exp = exp * 10 + (c - ZERO);
      i++;
    }
    if (i === expStart) return NOT_A_NUMBER;
    exp10 += expNeg ? -exp : exp;
  }
  if (i !== e) return NOT_A_NUMBER;
  if (exact && exp10 >= -22 && exp10 <= 22) {
    const v = exp10 < 0 ? mantissa / POW10[-exp10]! : mantissa * POW10[exp10]!;
    return negative ? -v : v;
  }
  // Grammar already validated, so Number() sees a plain decimal literal.
  return Number(latin1(bytes, s, e));
}

/** Whether bytes[s, e) spells a missing value: "nan"/"NaN"/"NAN" (what pandas writes for NaN). */
export function isNanLiteral(bytes: Uint8Array, s: number, e: number): boolean {
  return (
    e - s === 3 &&
    (bytes[s]! | 32) === 110 &&
    (bytes[s + 1]! | 32) === 97 &&
    (bytes[s + 2]! | 32) === 110
  );
}

export function latin1(bytes: Uint8Array, s: number, e: number): string {
  let out = "";
  for (let i = s; i < e; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}
