// Elementwise ops: unary functions, broadcasting binary arithmetic, comparisons and constants.
import { broadcastShapes, evalDim, evalShape, shapeToString } from "../dims.js";
import type { OpDef, VjpRule } from "../op-def.js";
import { broadcastIndexer, tensor, type Tensor } from "../tensor.js";
import type { Attrs, Shape } from "../types.js";
import {
  alwaysPositive,
  differenceSign,
  magnitudeSign,
  negated,
  productSign,
  quotientSign,
  signPreserving,
  sumSign,
  type SignRule,
} from "../sign.js";

function mapUnary(x: Tensor, f: (v: number) => number): Tensor {
  const out = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!);
  return out;
}

function mapBinary(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape) as number[];
  const out = tensor(shape);
  const at = broadcastIndexer([a.shape, b.shape], shape);
  for (let i = 0; i < out.data.length; i++) {
    out.data[i] = f(a.data[at(i, 0)]!, b.data[at(i, 1)]!);
  }
  return out;
}

function unary(
  name: string,
  doc: string,
  f: (x: number, attrs: Attrs) => number,
  wgsl: (a: string, attrs: Attrs, f32: (x: number) => string) => string,
  vjp: VjpRule | "zero",
  sign?: SignRule,
): OpDef {
  return {
    name,
    doc,
    ...(sign ? { sign } : {}),
    shape: ([x]) => [x!],
    evaluate: ([x], attrs) => [mapUnary(x!, (v) => f(v, attrs))],
    ...(vjp === "zero" ? { zeroGradient: true } : { vjp }),
    lowering: { kind: "elementwise", emit: (c) => wgsl(c.args[0]!, c.attrs, c.f32) },
  };
}

function binaryShape([a, b]: Shape[]): Shape[] | string {
  const s = broadcastShapes(a!, b!);
  if (!s) {
    return `shapes ${shapeToString(a!)} and ${shapeToString(b!)} do not match (and do not broadcast)`;
  }
  return [s];
}

function binary(
  name: string,
  doc: string,
  f: (x: number, y: number) => number,
  wgsl: (a: string, b: string) => string,
  vjp: VjpRule | "zero",
  sign?: SignRule,
): OpDef {
  return {
    name,
    doc,
    ...(sign ? { sign } : {}),
    shape: binaryShape,
    evaluate: ([a, b]) => [mapBinary(a!, b!, f)],
    ...(vjp === "zero" ? { zeroGradient: true } : { vjp }),
    lowering: { kind: "elementwise", emit: (c) => wgsl(c.args[0]!, c.args[1]!) },
  };
}

const num = (attrs: Attrs, key: string): number => attrs[key] as number;

/** WGSL's round(): to the nearest integer, ties to even. */
function roundHalfEven(y: number): number {
  const f = Math.floor(y);
  const d = y - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

// tanh and sigmoid saturate long before these bounds in float32; clamping keeps the WGSL
// built-ins (which some drivers compute through exp) away from inf/inf = NaN.
const sigmoid64 = (x: number) =>
  x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
const softplus64 = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export const elementwiseOps: OpDef[] = [
  unary(
    "neg",
    "−x",
    (x) => -x,
    (a) => `(-${a})`,
    (b, _op, [d]) => [d && b.neg(d)],
    ([x]) => negated(x!),
  ),
  unary(
    "relu",
    "max(x, 0)",
    (x) => (x > 0 ? x : 0),
    (a) => `max(${a}, 0.0)`,
    (b, { inputs: [x] }, [d]) => [d && b.mul(d, b.unary("step", x!))],
    ([x]) => (x === "positive" ? "positive" : "nonnegative"),
  ),
  unary(
    "step",
    "1 where x > 0, else 0 (the derivative of relu)",
    (x) => (x > 0 ? 1 : 0),
    (a) => `select(0.0, 1.0, ${a} > 0.0)`,
    "zero",
    () => "nonnegative",
  ),
  unary(
    "sign",
    "−1, 0 or 1",
    (x) => Math.sign(x),
    (a) => `sign(${a})`,
    "zero",
    signPreserving,
  ),
  unary(
    "leaky_relu",
    "x where x > 0, else alpha·x",
    (x, at) => (x > 0 ? x : num(at, "alpha") * x),
    (a, at, f32) => `select(${f32(num(at, "alpha"))} * ${a}, ${a}, ${a} > 0.0)`,
    (b, { inputs: [x], attrs }, [d]) => {
      if (!d) return [undefined];
      const alpha = num(attrs, "alpha");
      // alpha + (1 − alpha)·step(x)
      const slope = b.add(b.fill(alpha), b.scale(b.unary("step", x!), 1 - alpha));
      return [b.mul(d, slope)];
    },
    // alpha may be 0 or negative: only a positive input is known to stay positive.
    ([x]) => (x === "positive" ? "positive" : "any"),
  ),
  unary(
    "elu",
    "x where x > 0, else alpha·(exp(x) − 1)",
    (x, at) => (x > 0 ? x : num(at, "alpha") * Math.expm1(x)),
    (a, at, f32) =>
      `select(${f32(num(at, "alpha"))} * (exp(min(${a}, 0.0)) - 1.0), ${a}, ${a} > 0.0)`,
    (b, { inputs: [x], outputs: [y], attrs }, [d]) => {
      if (!d) return [undefined];
      // 1 where x > 0, else y + alpha
      const s = b.unary("step", x!);
      const neg = b.add(y!, b.fill(num(attrs, "alpha")));
      const slope = b.add(s, b.mul(b.sub(b.fill(1), s), neg));
      return [b.mul(d, slope)];
    },
    ([x]) => (x === "positive" ? "positive" : "any"),
  ),
  unary(
    "sigmoid",
    "1 / (1 + exp(−x))",
    sigmoid64,
    (a) => `(1.0 / (1.0 + exp(-clamp(${a}, -88.0, 88.0))))`,
    (b, { outputs: [y] }, [d]) => [d && b.mul(d, b.mul(y!, b.sub(b.fill(1), y!)))],
    alwaysPositive,
  ),
  unary(
    "tanh",
    "hyperbolic tangent",
    Math.tanh,
    (a) => `tanh(clamp(${a}, -15.0, 15.0))`,
    (b, { outputs: [y] }, [d]) => [d && b.mul(d, b.sub(b.fill(1), b.mul(y!, y!)))],
    signPreserving,
  ),
  unary(
    "exp",
    "eˣ",
    Math.exp,
    (a) => `exp(${a})`,
    (b, { outputs: [y] }, [d]) => [d && b.mul(d, y!)],
    alwaysPositive,
  ),
  unary(
    "log",
    "natural logarithm",
    Math.log,
    (a) => `log(${a})`,
    (b, { inputs: [x] }, [d]) => [d && b.div(d, x!)],
  ),
  unary(
    "sqrt",
    "square root",
    Math.sqrt,
    (a) => `sqrt(${a})`,
    (b, { outputs: [y] }, [d]) => [d && b.div(b.scale(d, 0.5), y!)],
    // Outside its domain (x < 0) the result is NaN: nothing is known.
    ([x]) =>
      x === "positive" ? "positive" : x === "nonnegative" || x === "zero" ? "nonnegative" : "any",
  ),
  unary(
    "rsqrt",
    "1 / sqrt(x)",
    (x) => 1 / Math.sqrt(x),
    (a) => `inverseSqrt(${a})`,
    (b, { outputs: [y] }, [d]) => [d && b.mul(b.scale(d, -0.5), b.mul(y!, b.mul(y!, y!)))],
    ([x]) => (x === "positive" || x === "nonnegative" || x === "zero" ? "positive" : "any"),
  ),
  unary(
    "abs",
    "|x|",
    Math.abs,
    (a) => `abs(${a})`,
    (b, { inputs: [x] }, [d]) => [d && b.mul(d, b.unary("sign", x!))],
    magnitudeSign,
  ),
  unary(
    "softplus",
    "log(1 + exp(x))",
    softplus64,
    (a) => `(max(${a}, 0.0) + log(1.0 + exp(-abs(${a}))))`,
    (b, { inputs: [x] }, [d]) => [d && b.mul(d, b.unary("sigmoid", x!))],
    alwaysPositive,
  ),
  unary(
    "square",
    "x²",
    (x) => x * x,
    (a) => `(${a} * ${a})`,
    (b, { inputs: [x] }, [d]) => [d && b.mul(d, b.scale(x!, 2))],
    magnitudeSign,
  ),
  {
    ...unary(
      "quantize",
      "x rounded to the grid of multiples of 2^-bits (ties to even); NaN outside the range ±2^(24−bits) where float32 holds that grid exactly; the derivative passes straight through",
      (x, at) => {
        const y = x * 2 ** num(at, "bits");
        return Math.abs(y) >= 16777216 ? NaN : roundHalfEven(y) / 2 ** num(at, "bits");
      },
      (a, at, f32) =>
        // NaN is built at run time: WGSL rejects a NaN constant.
        `select(round(${a} * ${f32(2 ** num(at, "bits"))}) * ${f32(2 ** -num(at, "bits"))}, bitcast<f32>(0x7fc00000u ^ (idx & 0u)), abs(${a} * ${f32(2 ** num(at, "bits"))}) >= 16777216.0)`,
      (_b, _op, [d]) => [d],
      // Rounding can take a small value to 0.
      ([x]) =>
        x === "positive" || x === "nonnegative"
          ? "nonnegative"
          : x === "negative" || x === "nonpositive"
            ? "nonpositive"
            : x === "zero"
              ? "zero"
              : "any",
    ),
    // On the grid exact mode keeps a reversible loop's state on, rounding is the identity, and so
    // is its inverse.
    inverse: { kind: "operands", rebuild: (_b, _op, result) => [result] },
    columns: () => ({ kind: "same" }),
    roundsToGrid: true,
  },
  unary(
    "stop_gradient",
    "x, with a zero derivative",
    (x) => x,
    (a) => a,
    "zero",
    signPreserving,
  ),

  binary(
    "add",
    "a + b",
    (x, y) => x + y,
    (a, b) => `(${a} + ${b})`,
    (bd, { inputs: [a, c] }, [d]) =>
      d ? [bd.sumToShape(d, a!.shape), bd.sumToShape(d, c!.shape)] : [undefined, undefined],
    sumSign,
  ),
  binary(
    "sub",
    "a − b",
    (x, y) => x - y,
    (a, b) => `(${a} - ${b})`,
    (bd, { inputs: [a, c] }, [d]) =>
      d ? [bd.sumToShape(d, a!.shape), bd.sumToShape(bd.neg(d), c!.shape)] : [undefined, undefined],
    differenceSign,
  ),
  binary(
    "mul",
    "a · b (elementwise)",
    (x, y) => x * y,
    (a, b) => `(${a} * ${b})`,
    (bd, { inputs: [a, c] }, [d]) =>
      d
        ? [bd.sumToShape(bd.mul(d, c!), a!.shape), bd.sumToShape(bd.mul(d, a!), c!.shape)]
        : [undefined, undefined],
    productSign,
  ),
  binary(
    "div",
    "a / b (elementwise)",
    (x, y) => x / y,
    (a, b) => `(${a} / ${b})`,
    (bd, { inputs: [a, c], outputs: [y] }, [d]) => {
      if (!d) return [undefined, undefined];
      const da = bd.div(d, c!);
      return [bd.sumToShape(da, a!.shape), bd.sumToShape(bd.neg(bd.mul(da, y!)), c!.shape)];
    },
    quotientSign,
  ),
  binary(
    "maximum",
    "max(a, b) (elementwise)",
    Math.max,
    (a, b) => `max(${a}, ${b})`,
    (bd, { inputs: [a, c] }, [d]) => {
      if (!d) return [undefined, undefined];
      const pick = bd.op("ge", [a!, c!]);
      return [
        bd.sumToShape(bd.mul(d, pick), a!.shape),
        bd.sumToShape(bd.mul(d, bd.sub(bd.fill(1), pick)), c!.shape),
      ];
    },
    // max(a, b) > 0 when either is; ≥ 0 when either is ≥ 0; < 0 when both are.
    ([a, b]) =>
      a === "positive" || b === "positive"
        ? "positive"
        : [a, b].some((s) => s === "nonnegative" || s === "zero")
          ? "nonnegative"
          : a === "negative" && b === "negative"
            ? "negative"
            : "any",
  ),
  binary(
    "ge",
    "1 where a ≥ b, else 0",
    (x, y) => (x >= y ? 1 : 0),
    (a, b) => `select(0.0, 1.0, ${a} >= ${b})`,
    "zero",
    () => "nonnegative",
  ),
  binary(
    "eq",
    "1 where a = b, else 0",
    (x, y) => (x === y ? 1 : 0),
    (a, b) => `select(0.0, 1.0, ${a} == ${b})`,
    "zero",
    () => "nonnegative",
  ),

  {
    // Picks whole values, bit for bit: the reversible backward uses it to put the kept input of a
    // loop in place of the rebuilt one at the first iteration (a blend a·c + b·(1 − c) would not
    // be exact, and would turn a non-finite rebuilt value into NaN).
    name: "select",
    doc: "a where c ≠ 0, else b (elementwise, broadcasting; c is not differentiated)",
    shape: ([c, a, b]) => {
      const ab = binaryShape([a!, b!]);
      return typeof ab === "string" ? ab : binaryShape([c!, ab[0]!]);
    },
    evaluate: ([c, a, b]) => {
      const shape = broadcastShapes(c!.shape, broadcastShapes(a!.shape, b!.shape)!) as number[];
      const out = tensor(shape);
      const at = broadcastIndexer([c!.shape, a!.shape, b!.shape], shape);
      for (let i = 0; i < out.data.length; i++) {
        out.data[i] = c!.data[at(i, 0)]! !== 0 ? a!.data[at(i, 1)]! : b!.data[at(i, 2)]!;
      }
      return [out];
    },
    vjp: (bd, { inputs: [c, a, b] }, [d]) => {
      if (!d) return [undefined, undefined, undefined];
      const zero = bd.fill(0);
      return [
        undefined,
        bd.sumToShape(bd.op("select", [c!, d, zero]), a!.shape),
        bd.sumToShape(bd.op("select", [c!, zero, d]), b!.shape),
      ];
    },
    lowering: {
      kind: "elementwise",
      emit: (c) => `select(${c.args[2]}, ${c.args[1]}, ${c.args[0]} != 0.0)`,
    },
  },
  {
    name: "size",
    doc: "the value of a dimension (N, E, F, K, …) as a scalar",
    shape: () => [[]],
    evaluate: (_inputs, attrs, ctx) => [
      tensor([], [evalDim(attrs.dim as string | number, ctx.dims)]),
    ],
    zeroGradient: true,
    lowering: { kind: "elementwise", emit: (c) => `f32(${c.dim(c.attrs.dim as string | number)})` },
  },
  {
    name: "fill",
    doc: "a tensor of the given shape filled with one value",
    shape: (_inputs, attrs) => [attrs.shape as Shape],
    evaluate: (_inputs, attrs, ctx) => {
      const t = tensor(evalShape(attrs.shape as Shape, ctx.dims));
      t.data.fill(attrs.value as number);
      return [t];
    },
    zeroGradient: true,
    lowering: { kind: "elementwise", emit: (c) => c.f32(c.attrs.value as number) },
  },
];
