// Zero padding of the input feature width to the vector width. Cora's F = 1433 is not a multiple
// of 4, so its input matmuls (x·W_in forward, xᵀ·G for W_in's gradient: the largest of a step)
// would run the scalar matmul template. The device instead binds F to the next multiple of 4,
// with x's extra columns and W_in's extra rows zero, and the code generator is told that F is a
// multiple of 4 so it picks the vec4 templates.
//
// Padding must not change any number, so it applies only where that is provable from the model:
// every op reading a value whose shape mentions F is a matmul that contracts over F (zero columns
// against zero rows add nothing; the gradient of the padded rows, a contraction with x's zero
// columns, is zero), nothing but the feature input and parameters has F in its shape, no op
// output has F in its shape (no dropout mask over x: its element index row·F + col would move)
// and no attribute names F. The optimizer must also keep a zero parameter with a zero gradient
// and zero state at zero (checked on its update IR: Adam with ε = 0 would divide 0 by 0).
// The float64 interpreter runs unpadded; the session pads and crops at the device boundary.
import { Builder } from "./ir/builder.js";
import { interpret } from "./ir/interp.js";
import { getOp } from "./ir/registry.js";
import { scalar, tensor } from "./ir/tensor.js";
import { Graph, Value, tensorType, type Dim, type Op } from "./ir/types.js";
import type { CompiledModel } from "./compile.js";
import { optimizerNamed, type OptimizerConfig } from "./optimizers.js";

/** The vector width of the matmul templates' loads (vec4<f32>). */
export const PAD_MULTIPLE = 4;

/** Symbolic dims the device binds rounded up to a multiple, with the multiple. */
export type Padding = ReadonlyMap<string, number>;

/** `n` rounded up to a multiple of `multiple`. */
export function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

/**
 * The sizes the device binds: each padded dim rounded up to its multiple, and to one multiple at
 * least — a width of 0 (a dataset without features) would leave the vec4 kernels empty bindings,
 * which WebGPU refuses; four zero columns compute the same nothing.
 */
export function paddedDims<D extends Readonly<Record<string, number>>>(
  dims: D,
  padding: Padding,
): D {
  const out: Record<string, number> = { ...dims };
  for (const [d, multiple] of padding)
    if (d in out) out[d] = Math.max(multiple, roundUp(out[d]!, multiple));
  return out as D;
}

/** Whether a dim mentions symbol `d` (exactly, or inside an expression such as "F+N"). */
function mentions(dim: Dim, d: string): boolean {
  return typeof dim === "string" && new RegExp(`(^|[^A-Za-z0-9_])${d}($|[^A-Za-z0-9_])`).test(dim);
}

const shapeMentions = (v: Value, d: string) => v.shape.some((x) => mentions(x, d));

/** A matmul input's contracted axis (transA/transB select which). */
function contractedAxis(op: Op, input: number): number {
  if (input === 0) return op.attrs.transA ? 0 : 1;
  return op.attrs.transB ? 1 : 0;
}

/** Whether every use of `d` in `g` (and its regions) is a matmul contraction over it. */
function onlyContracted(g: Graph, d: string): boolean {
  return g.ops.every((op) => {
    if (mentions(JSON.stringify(op.attrs), d)) return false;
    if (op.outputs.some((v) => shapeMentions(v, d))) return false;
    const readsD = op.inputs.some((v) => shapeMentions(v, d));
    if (readsD) {
      if (getOp(op.opcode).lowering.kind !== "matmul") return false;
      const ok = op.inputs.every((v, i) =>
        v.shape.every((x, axis) => !mentions(x, d) || (x === d && axis === contractedAxis(op, i))),
      );
      if (!ok) return false;
    }
    return op.regions.every((r) => onlyContracted(r, d));
  });
}

/** Whether the optimizer's update maps a zero parameter, gradient and state to zeros. */
export function updateKeepsZeros(config: OptimizerConfig): boolean {
  const optimizer = optimizerNamed(config.kind);
  const fresh = (shape: Dim[]) => new Value(tensorType(shape));
  const param = fresh([1]);
  const grad = fresh([1]);
  const states = optimizer.states.map(() => fresh([1]));
  const scalars = optimizer.scalars.map(() => fresh([]));
  const g = new Graph("update_of_zero", [param, grad, ...states, ...scalars]);
  const b = new Builder(g);
  const out = optimizer.update({
    b,
    config,
    param,
    grad,
    weightDecay: config.weightDecay,
    states,
    scalars,
  });
  g.outputs = [out.param, ...out.states];
  // Any step's scalars would do for the optimizers here (they only scale); step 1 at the default lr.
  const host = optimizer.hostScalars(config, optimizer.defaults.lr, 1);
  const inputs = [
    ...[param, grad, ...states].map(() => tensor([1])),
    ...host.map((x) => scalar(x)),
  ];
  return interpret(g, inputs, { dims: {} }).every((t) => t.data.every((x) => x === 0));
}

/**
 * The dims the device may bind padded to PAD_MULTIPLE for this model and optimizer: the width of
 * the node feature input, when the rules above prove padding changes nothing; else none.
 */
export function featurePadding(model: CompiledModel, optimizer: OptimizerConfig): Padding {
  const features = model.train.inputs.find((i) => i.role === "features");
  const d = features?.shape[1];
  if (typeof d !== "string" || d === "N" || d === "E") return new Map();
  // Only the feature input (and parameters) may have d in their shapes, x only in its columns.
  const otherInputs = model.train.inputs.filter((i) => i !== features);
  if (otherInputs.some((i) => i.shape.some((x) => mentions(x, d)))) return new Map();
  if (mentions(features!.shape[0]!, d)) return new Map();
  if (![model.train.graph, model.eval.graph].every((g) => onlyContracted(g, d))) return new Map();
  if (!updateKeepsZeros(optimizer)) return new Map();
  return new Map([[d, PAD_MULTIPLE]]);
}
