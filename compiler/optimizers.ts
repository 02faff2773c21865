// The optimizers of the training step, one small object each (tinygrad's model): the state
// tensors it keeps per parameter (and so their names in checkpoints), the scalars the host writes
// before every step, its defaults, and its update written in IR. Read by the training step
// (training.ts builds the step's inputs and outputs from `states` and `scalars` and calls
// `update`), the CLI (`--optimizer` choices and defaults), checkpoints (state tensor names) and
// the session (state buffers, host scalars). Adding an optimizer is adding an entry here.
import type { Builder } from "./ir/builder.js";
import type { Value } from "./ir/types.js";

/** An optimizer with its hyperparameters, as a run uses it and a checkpoint records it. */
export interface OptimizerConfig {
  kind: string;
  weightDecay: number;
  /** Which parameters weight decay applies to: all, or only matrices (not biases and gains). */
  decay?: "all" | "matrices";
  beta1: number;
  beta2: number;
  eps: number;
}

/** The hyperparameters an optimizer reads besides weight decay. */
type Hyper = "beta1" | "beta2" | "eps";
export const HYPER_SYMBOL: Record<Hyper, string> = { beta1: "β1", beta2: "β2", eps: "ε" };

/** One parameter's update, in the training step's graph. */
export interface UpdateContext {
  b: Builder;
  config: OptimizerConfig;
  param: Value;
  /** The loss's gradient with respect to `param`. */
  grad: Value;
  /** The weight decay of this parameter (0 for a vector when only matrices decay). */
  weightDecay: number;
  /** This parameter's state tensors, in the order of `Optimizer.states`. */
  states: Value[];
  /** The step's host scalars, in the order of `Optimizer.scalars`. */
  scalars: Value[];
}

export interface Optimizer {
  kind: string;
  /** One line for `--help` and the docs. */
  doc: string;
  /**
   * Per-parameter state tensors, each the parameter's shape and zero at the start, in the step's
   * order; the checkpoint stores state s of parameter p as `optimizer.<s>.<p>`.
   */
  states: readonly string[];
  /** Scalars the host writes before each step (the learning rate first). */
  scalars: readonly string[];
  /** Their values for learning rate lr at optimizer time t (1-based). */
  hostScalars(c: OptimizerConfig, lr: number, t: number): number[];
  /** The hyperparameters it reads, for the pass list's description. */
  reads: readonly Hyper[];
  defaults: { lr: number; weightDecay: number } & Pick<OptimizerConfig, Hyper>;
  /** The parameter's new value and its new states (in `states` order). */
  update(c: UpdateContext): { param: Value; states: Value[] };
}

/** L2 regularisation folded into the gradient (SGD's and Adam's weight decay). */
function coupledDecay({ b, grad, param, weightDecay }: UpdateContext): Value {
  return weightDecay !== 0 ? b.add(grad, b.scale(param, weightDecay)) : grad;
}

/** p − lr·λ·p: weight decay applied to the weights, not the gradient (AdamW's, Lion's). */
function decoupledDecay({ b, param, weightDecay }: UpdateContext, lr: Value): Value {
  return weightDecay !== 0 ? b.sub(param, b.scale(b.mul(param, lr), weightDecay)) : param;
}

/** β·s + (1 − β)·x: an exponential moving average's step. */
function ema(b: Builder, s: Value, x: Value, beta: number): Value {
  return b.add(b.scale(s, beta), b.scale(x, 1 - beta));
}

/** Adam, with L2 decay in the gradient, or AdamW, with decoupled decay. */
function adam(kind: string, decoupled: boolean, doc: string): Optimizer {
  return {
    kind,
    doc,
    states: ["m", "v"],
    scalars: ["lr", "bias1", "bias2"],
    // lr, 1/(1 − β1ᵗ), 1/sqrt(1 − β2ᵗ): the bias corrections fold into two multiplications.
    hostScalars: (c, lr, t) => [lr, 1 / (1 - c.beta1 ** t), 1 / Math.sqrt(1 - c.beta2 ** t)],
    reads: ["beta1", "beta2", "eps"],
    defaults: { lr: 0.01, weightDecay: 5e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    update: (u) => {
      const { b, config: c, param } = u;
      const [m, v] = u.states as [Value, Value];
      const [lr, c1, c2] = u.scalars as [Value, Value, Value];
      const grad = decoupled ? u.grad : coupledDecay(u);
      const mNew = ema(b, m, grad, c.beta1);
      // β2·v first, then g²: the op order of the step as it always was (same IR, same kernels).
      const decayedV = b.scale(v, c.beta2);
      const vNew = b.add(decayedV, b.scale(b.unary("square", grad), 1 - c.beta2));
      const denom = b.add(b.mul(b.unary("sqrt", vNew), c2), b.fill(c.eps));
      const step = b.div(b.mul(mNew, b.mul(lr, c1)), denom);
      const base = decoupled ? decoupledDecay(u, lr) : param;
      return { param: b.sub(base, step), states: [mNew, vNew] };
    },
  };
}

export const optimizers: readonly Optimizer[] = [
  adam("adam", false, "Adam (Kingma & Ba 2015), weight decay as L2 in the gradient"),
  adam("adamw", true, "AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay"),
  {
    kind: "sgd",
    doc: "plain gradient descent, weight decay as L2 in the gradient",
    states: [],
    scalars: ["lr"],
    hostScalars: (_, lr) => [lr],
    reads: [],
    // No decay by default, so that one SGD step with lr 1 moves the weights by exactly the gradient.
    defaults: { lr: 0.01, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    update: (u) => ({
      param: u.b.sub(u.param, u.b.mul(coupledDecay(u), u.scalars[0]!)),
      states: [],
    }),
  },
  {
    kind: "lion",
    doc: "Lion (Chen et al. 2023): the sign of β1·m + (1−β1)·g, decoupled weight decay",
    states: ["m"],
    scalars: ["lr"],
    hostScalars: (_, lr) => [lr],
    reads: ["beta1", "beta2"],
    // No decay by default: the paper scales λ with 1/lr, so no single value suits every lr.
    defaults: { lr: 1e-4, weightDecay: 0, beta1: 0.9, beta2: 0.99, eps: 0 },
    update: (u) => {
      const { b, config: c, grad } = u;
      const [m] = u.states as [Value];
      const [lr] = u.scalars as [Value];
      const direction = b.unary("sign", ema(b, m, grad, c.beta1));
      const param = b.sub(decoupledDecay(u, lr), b.mul(direction, lr));
      return { param, states: [ema(b, m, grad, c.beta2)] };
    },
  },
];

/** The optimizer called `kind`; throws for a name no entry has (the CLI offers only these). */
export function optimizerNamed(kind: string): Optimizer {
  const o = optimizers.find((x) => x.kind === kind);
  if (!o)
    throw new Error(`unknown optimizer ${kind}; the optimizers are ${optimizerKinds().join(", ")}`);
  return o;
}

/** The optimizer a run uses unless told otherwise. */
export const DEFAULT_OPTIMIZER = "adam";

export function optimizerKinds(): string[] {
  return optimizers.map((o) => o.kind);
}

export type OptimizerKind = string;

/** `kind` with its default hyperparameters and the given weight decay. */
export function defaultOptimizer(kind: OptimizerKind, weightDecay: number): OptimizerConfig {
  const { beta1, beta2, eps } = optimizerNamed(kind).defaults;
  return { kind, weightDecay, beta1, beta2, eps };
}

/** "adam (weight decay 0.0005, β1 0.9, β2 0.999, ε 1e-8)"-style settings, for the pass list. */
/** Weight decay unless given: the optimizer's default. */
export function defaultWeightDecay(kind: OptimizerKind): number {
  return optimizerNamed(kind).defaults.weightDecay;
}

export function describeOptimizer(c: OptimizerConfig): string {
  const reads = optimizerNamed(c.kind)
    .reads.map((h) => `, ${HYPER_SYMBOL[h]} ${c[h]}`)
    .join("");
  const decay = `weight decay ${c.weightDecay}${c.decay === "matrices" ? " (matrices)" : ""}`;
  return `${c.kind} (${decay}${reads})`;
}

/** The per-step host scalars of `c` as the step's scalar buffer holds them. */
export function stepScalars(c: OptimizerConfig, lr: number, t: number): Float32Array {
  return Float32Array.from(optimizerNamed(c.kind).hostScalars(c, lr, t));
}
