// The programs a training run executes, built in IR so that they compile to the same fused kernels
// as the model itself:
//   training step  forward + derived backward + optimizer update, one program per step;
//   evaluation     the dropout-free forward, the loss on the training nodes and, for single-label
//                  tasks, the number of correct predictions on the train/valid/test nodes (so only
//                  scalars are read back; multi-label tasks read back logits for ROC-AUC).
import { emitBackward, emitForward, type AdOptions } from "./autodiff/core.js";
import { Builder } from "./ir/builder.js";
import { Graph, Value, tensorType, type Dim } from "./ir/types.js";
import { lowerLoss } from "./lower/builtins.js";
import type { LoweredModel } from "./lower/lower.js";

export type OptimizerKind = "sgd" | "adam" | "adamw";

export interface OptimizerConfig {
  kind: OptimizerKind;
  weightDecay: number;
  /** Which parameters weight decay applies to: all, or only matrices (not biases and gains). */
  decay?: "all" | "matrices";
  beta1: number;
  beta2: number;
  eps: number;
}

/** Weight decay unless given: 5e-4 for Adam/AdamW (GCN's setting), 0 for SGD (so that one SGD
 *  step with lr 1 moves the weights by exactly the gradient). */
export function defaultWeightDecay(kind: OptimizerKind): number {
  return kind === "sgd" ? 0 : 5e-4;
}

export const defaultOptimizer = (kind: OptimizerKind, weightDecay: number): OptimizerConfig => ({
  kind,
  weightDecay,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
});

/** Per-step scalars the host computes and writes: lr, 1/(1−β1ᵗ), 1/sqrt(1−β2ᵗ). */
export function stepScalars(opt: OptimizerConfig, lr: number, t: number): Float32Array {
  if (opt.kind === "sgd") return Float32Array.of(lr, 1, 1);
  return Float32Array.of(lr, 1 / (1 - opt.beta1 ** t), 1 / Math.sqrt(1 - opt.beta2 ** t));
}

export interface StepGraph {
  /**
   * inputs  [model inputs…, params…, first moments…, second moments…, lr, c1, c2]
   * outputs [loss, params'…, first moments'…, second moments'…]
   */
  graph: Graph;
  numData: number;
  numParams: number;
  /** Optimizer state tensors per parameter (0 for SGD, 2 for Adam/AdamW). */
  statesPerParam: number;
  /** The parameters' gradients (values of `graph`), for memory accounting. */
  gradients: Value[];
}

export function optimizerStates(kind: OptimizerKind): number {
  return kind === "sgd" ? 0 : 2;
}

const fresh = (shape: readonly Dim[], hint: string) => new Value(tensorType(shape), hint);

/**
 * The training step of a model whose forward graph is `model` (the lowered one, or its
 * checkpoint-segmented copy: same inputs): forward, derived backward, optimizer update. Dead ops
 * stay; the pipeline (pipeline.ts) runs checkpoint segmentation before and dead-code removal after.
 */
export function buildTrainingStep(
  m: LoweredModel,
  model: Graph,
  opt: OptimizerConfig,
  ad: AdOptions,
): StepGraph {
  const numData = m.inputs.length;
  const params = m.graph.inputs.slice(numData);
  const data = m.graph.inputs.slice(0, numData).map((v) => fresh(v.shape, v.hint ?? "data"));
  const p = params.map((v) => fresh(v.shape, v.hint ?? "param"));
  const states = optimizerStates(opt.kind);
  const m1 = states ? params.map((v) => fresh(v.shape, `m.${v.hint}`)) : [];
  const m2 = states ? params.map((v) => fresh(v.shape, `v.${v.hint}`)) : [];
  const [lr, c1, c2] = ["lr", "bias1", "bias2"].map((h) => fresh([], h)) as [Value, Value, Value];
  const g = new Graph(`${m.name}_train_step`, [...data, ...p, ...m1, ...m2, lr, c1, c2]);
  const b = new Builder(g);
  const fwd = emitForward(b, model, [...data, ...p], ad);
  const grads = emitBackward(b, model, fwd, [b.fill(1), undefined], ad).slice(numData);

  const newP: Value[] = [];
  const newM1: Value[] = [];
  const newM2: Value[] = [];
  p.forEach((param, i) => {
    const block = m.params[i]!.blockShape;
    const wd = opt.decay === "matrices" && block.length < 2 ? 0 : opt.weightDecay;
    let grad = grads[i] ?? b.zerosLike(param.shape);
    if (opt.kind !== "adamw" && wd !== 0) grad = b.add(grad, b.scale(param, wd));
    if (opt.kind === "sgd") {
      newP.push(b.sub(param, b.mul(grad, lr)));
      return;
    }
    const mNew = b.add(b.scale(m1[i]!, opt.beta1), b.scale(grad, 1 - opt.beta1));
    const vNew = b.add(b.scale(m2[i]!, opt.beta2), b.scale(b.unary("square", grad), 1 - opt.beta2));
    const denom = b.add(b.mul(b.unary("sqrt", vNew), c2), b.fill(opt.eps));
    const update = b.div(b.mul(mNew, b.mul(lr, c1)), denom);
    const base =
      opt.kind === "adamw" && wd !== 0 ? b.sub(param, b.scale(b.mul(param, lr), wd)) : param;
    newP.push(b.sub(base, update));
    newM1.push(mNew);
    newM2.push(vNew);
  });
  [...newP, ...newM1, ...newM2].forEach(
    (v, i) =>
      (v.hint =
        ["p", "m", "v"][Math.floor(i / p.length)] + "." + (params[i % p.length]!.hint ?? "")),
  );
  g.outputs = [fwd.outputs[0]!, ...newP, ...newM1, ...newM2];
  return {
    graph: g,
    numData,
    numParams: p.length,
    statesPerParam: states,
    gradients: grads.filter((v): v is Value => !!v),
  };
}

export interface EvalGraph {
  /** inputs [model inputs…, params…, valid_mask, test_mask]; outputs: see `outputs`. */
  graph: Graph;
  /**
   * "counts": [train loss, valid loss, correct train, correct valid, correct test];
   * "logits": [train loss, valid loss, logits].
   */
  outputs: "counts" | "logits";
}

/** The evaluation program's graph (dead ops stay: the pipeline removes them). */
export function evaluationGraph(m: LoweredModel): EvalGraph {
  const ins = m.graph.inputs.map((v) => fresh(v.shape, v.hint ?? "in"));
  const valid = fresh(["N", 1], "valid_mask");
  const test = fresh(["N", 1], "test_mask");
  const g = new Graph(`${m.name}_eval`, [...ins, valid, test]);
  const b = new Builder(g);
  const fwd = emitForward(b, m.graph, ins);
  const [loss, logits] = fwd.outputs as [Value, Value];
  const labelsIndex = m.inputs.findIndex((i) => i.role === "labels" || i.role === "multilabels");
  const y = ins[labelsIndex]!;
  const validLoss = lowerLoss(b, m.lossKind, logits, y, valid);
  if (m.lossKind !== "cross_entropy") {
    g.outputs = [loss, validLoss, logits];
    return { graph: g, outputs: "logits" };
  }
  const trainIndex = m.inputs.findIndex((i) => i.role === "train_mask");
  // One predicted class per node, the first maximum (numpy's and PyTorch's argmax): comparing the
  // label's logit with the row maximum instead would count every tie as right, so a model whose
  // outputs are all equal would score 100 %. An unlabelled node (y = −1) is never right.
  const correct = b.op("eq", [b.op("row_argmax", [logits]), y]);
  const count = (mask: Value) => b.op("sum_all", [b.mul(correct, mask)]);
  g.outputs = [loss, validLoss, count(ins[trainIndex]!), count(valid), count(test)];
  return { graph: g, outputs: "counts" };
}
