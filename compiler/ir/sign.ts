// What is known of a value's sign, for proofs such as "this factor is never zero" (a reversible
// `x *= e` is invertible only then). Each op states, on its definition (OpDef.sign), how its
// result's sign follows from its operands'; this file holds the lattice and the rules several
// ops share. Facts are mathematical: float32 can still underflow exp(−200) to 0, which the
// derived inverse then divides by — exact mode and `revgnn check` are where rounding is measured.

/**
 * positive: > 0; negative: < 0; nonnegative: ≥ 0; nonpositive: ≤ 0; nonzero: ≠ 0; any: nothing
 * known. "zero" is a literal 0.
 */
export type Sign =
  "positive" | "negative" | "nonnegative" | "nonpositive" | "nonzero" | "zero" | "any";

/** How a result's sign follows from its operands' signs. */
export type SignRule = (operands: readonly Sign[]) => Sign;

export const signOfNumber = (x: number): Sign =>
  x > 0 ? "positive" : x < 0 ? "negative" : x === 0 ? "zero" : "any";

export const isNonzero = (s: Sign): boolean =>
  s === "positive" || s === "negative" || s === "nonzero";

const atLeastZero = (s: Sign) => s === "positive" || s === "nonnegative" || s === "zero";
const atMostZero = (s: Sign) => s === "negative" || s === "nonpositive" || s === "zero";

/** −x */
export function negated(s: Sign): Sign {
  const flip: Record<Sign, Sign> = {
    positive: "negative",
    negative: "positive",
    nonnegative: "nonpositive",
    nonpositive: "nonnegative",
    nonzero: "nonzero",
    zero: "zero",
    any: "any",
  };
  return flip[s];
}

/** a + b */
export const sumSign: SignRule = ([a, b]) => {
  if (a === "zero") return b!;
  if (b === "zero") return a!;
  if (atLeastZero(a!) && atLeastZero(b!)) {
    return a === "positive" || b === "positive" ? "positive" : "nonnegative";
  }
  if (atMostZero(a!) && atMostZero(b!)) {
    return a === "negative" || b === "negative" ? "negative" : "nonpositive";
  }
  return "any";
};

/** a − b */
export const differenceSign: SignRule = ([a, b]) => sumSign([a!, negated(b!)]);

/** a · b, and a / b where b ≠ 0 is known (else nothing is known). */
export const productSign: SignRule = ([a, b]) => {
  if (a === "zero" || b === "zero") return "zero";
  const side = (s: Sign): 1 | -1 | 0 | undefined =>
    s === "positive" ? 1 : s === "negative" ? -1 : s === "nonzero" ? 0 : undefined;
  const x = side(a!);
  const y = side(b!);
  if (x !== undefined && y !== undefined) {
    if (x === 0 || y === 0) return "nonzero";
    return x * y > 0 ? "positive" : "negative";
  }
  // One side only bounded by zero: the product is bounded, possibly zero.
  const weak = (s: Sign): 1 | -1 | undefined =>
    s === "positive" || s === "nonnegative"
      ? 1
      : s === "negative" || s === "nonpositive"
        ? -1
        : undefined;
  const p = weak(a!);
  const q = weak(b!);
  if (p !== undefined && q !== undefined) return p * q > 0 ? "nonnegative" : "nonpositive";
  return "any";
};

export const quotientSign: SignRule = ([a, b]) => (isNonzero(b!) ? productSign([a!, b!]) : "any");

/** f with f(x) > 0 for every x (exp, sigmoid, softplus, rsqrt on its domain). */
export const alwaysPositive: SignRule = () => "positive";

/** f with f(x) ≥ 0 for every x, zero somewhere (relu, abs, square, sqrt). */
export const neverNegative: SignRule = () => "nonnegative";

/** f with sign(f(x)) = sign(x) (tanh, leaky_relu and elu with a positive slope, sign). */
export const signPreserving: SignRule = ([x]) => x!;

/** |x| and x²: positive exactly where x ≠ 0. */
export const magnitudeSign: SignRule = ([x]) =>
  x === "zero" ? "zero" : isNonzero(x!) ? "positive" : "nonnegative";

/** A phrase for messages: what the proof knows of a value. */
export function describeSign(s: Sign): string {
  const words: Record<Sign, string> = {
    positive: "positive",
    negative: "negative",
    nonnegative: "only known to be ≥ 0",
    nonpositive: "only known to be ≤ 0",
    nonzero: "nonzero",
    zero: "zero",
    any: "of unknown sign",
  };
  return words[s];
}
