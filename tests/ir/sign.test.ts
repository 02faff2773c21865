// The sign facts on the ops' definitions (OpDef.sign) hold for their float64 semantics: for every
// op with a rule and every combination of operand sign classes, values drawn from those classes
// (boundaries included: 0, tiny and huge magnitudes) give results of the sign the rule claims.
// A rule that claims too much (relu "positive") is what let `x *= relu(y) + relu(y)` through.
import { describe, expect, it } from "vitest";
import { allOps } from "../../compiler/ir/registry.js";
import { tensor } from "../../compiler/ir/tensor.js";
import type { Sign } from "../../compiler/ir/sign.js";
import { rng } from "../../compiler/gradcheck/random.js";

const CLASSES: Sign[] = [
  "positive",
  "negative",
  "nonnegative",
  "nonpositive",
  "nonzero",
  "zero",
  "any",
];

function sample(s: Sign, rand: () => number): number[] {
  // Magnitudes where float64 neither underflows nor overflows the functions (the facts are
  // mathematical: exp(−1e6) is 0 in any float format).
  const mags = [1e-30, 1e-6, 0.3, 1, 2.5, 40, ...Array.from({ length: 6 }, () => rand() * 5)];
  const pos = mags;
  const neg = mags.map((m) => -m);
  switch (s) {
    case "positive":
      return pos;
    case "negative":
      return neg;
    case "nonnegative":
      return [0, ...pos];
    case "nonpositive":
      return [0, ...neg];
    case "nonzero":
      return [...pos, ...neg];
    case "zero":
      return [0];
    case "any":
      return [0, ...pos, ...neg];
  }
}

function satisfies(x: number, s: Sign): boolean {
  // "any" claims nothing, not even a number (sqrt(−1), 0/0); every other claim excludes NaN.
  if (Number.isNaN(x)) return s === "any";
  switch (s) {
    case "positive":
      return x > 0;
    case "negative":
      return x < 0;
    case "nonnegative":
      return x >= 0;
    case "nonpositive":
      return x <= 0;
    case "nonzero":
      return x !== 0;
    case "zero":
      return x === 0;
    case "any":
      return true;
  }
}

const ATTRS: Record<string, Record<string, number>> = {
  leaky_relu: { alpha: -0.5 },
  elu: { alpha: 1 },
  quantize: { bits: 4 },
};

describe("sign facts on op definitions", () => {
  const withRules = allOps().filter((op) => op.sign);

  it("the arithmetic and the usual activations have facts", () => {
    const names = withRules.map((op) => op.name);
    for (const n of ["add", "sub", "mul", "div", "neg", "exp", "relu", "abs", "square", "sigmoid"])
      expect(names).toContain(n);
  });

  for (const op of withRules) {
    it(`${op.name}: the rule holds on sampled operands`, () => {
      const rand = rng(11);
      const arity =
        op.name === "select"
          ? 3
          : ["add", "sub", "mul", "div", "maximum", "ge", "eq"].includes(op.name)
            ? 2
            : 1;
      const combos: Sign[][] =
        arity === 1 ? CLASSES.map((c) => [c]) : CLASSES.flatMap((a) => CLASSES.map((b) => [a, b]));
      for (const signs of combos) {
        const claimed = op.sign!(signs);
        const values = signs.map((s) => sample(s, rand));
        const grid =
          arity === 1
            ? values[0]!.map((x) => [x])
            : values[0]!.flatMap((x) => values[1]!.map((y) => [x, y]));
        for (const xs of grid) {
          const [out] = op.evaluate(
            xs.map((x) => tensor([1], [x])),
            ATTRS[op.name] ?? {},
            { dims: {}, seed: 0, step: 0 } as never,
            [],
          );
          const y = out!.data[0]!;
          expect(
            satisfies(y, claimed),
            `${op.name}(${xs.join(", ")}) = ${y}, claimed ${claimed} for ${signs.join(", ")}`,
          ).toBe(true);
        }
      }
    });
  }
});
