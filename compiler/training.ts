// The programs a training run executes, built in IR so that they compile to the same fused kernels
// as the model itself:
//   training step  forward + derived backward + optimizer update, one program per step;
//   evaluation     the dropout-free forward, the loss on the training nodes and, for single-label
//                  tasks, the number of correct predictions on the train/valid/test nodes (so only
//                  scalars are read back; multi-label tasks read back logits for ROC-AUC).
import { defaultAdOptions, emitBackward, emitForward, type AdOptions } from "./autodiff/core.js";
import { Builder } from "./ir/builder.js";
import { Graph, Value, tensorType, type Dim } from "./ir/types.js";
import { lowerLoss } from "./lower/builtins.js";
import type { LoweredModel } from "./lower/lower.js";
import type { ParamSpec } from "./lower/scope.js";
import { optimizerNamed, type OptimizerConfig } from "./optimizers.js";

export interface StepGraph {
  /**
   * inputs  [model inputs…, params…, states…, host scalars…, model states…]
   * outputs [loss, params'…, states'…, model states'…]
   * where states are every parameter's first state (Adam's m), then every second one, and so on,
   * and model states are the model's `state` tensors (running statistics), whose new values are
   * outputs of the forward pass: the backward never produces them.
   */
  graph: Graph;
  numData: number;
  numParams: number;
  /** Model-state tensors (`LoweredModel.states`), the last inputs and outputs. */
  numModelStates: number;
  /** Optimizer state tensors per parameter (0 for SGD, 2 for Adam/AdamW). */
  statesPerParam: number;
  /** The parameters' gradients (values of `graph`), for memory accounting. */
  gradients: Value[];
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
  const numParams = m.params.length;
  const params = m.graph.inputs.slice(numData, numData + numParams);
  const data = m.graph.inputs.slice(0, numData).map((v) => fresh(v.shape, v.hint ?? "data"));
  const p = params.map((v) => fresh(v.shape, v.hint ?? "param"));
  const modelStates = m.graph.inputs
    .slice(numData + numParams)
    .map((v) => fresh(v.shape, v.hint ?? "state"));
  const optimizer = optimizerNamed(opt.kind);
  // states[s][i]: state s of parameter i.
  const states = optimizer.states.map((s) => params.map((v) => fresh(v.shape, `${s}.${v.hint}`)));
  const scalars = optimizer.scalars.map((h) => fresh([], h));
  const g = new Graph(`${m.name}_train_step`, [
    ...data,
    ...p,
    ...states.flat(),
    ...scalars,
    ...modelStates,
  ]);
  const b = new Builder(g);
  const fwd = emitForward(b, model, [...data, ...p, ...modelStates], ad);
  // Only the loss is differentiated: the prediction and the new model states get no cotangent,
  // so the backward (a reversible loop's recomputation included) drops the state updates.
  const grads = emitBackward(b, model, fwd, [b.fill(1), undefined], ad).slice(
    numData,
    numData + numParams,
  );

  const newP: Value[] = [];
  const newStates: Value[][] = optimizer.states.map(() => []);
  p.forEach((param, i) => {
    const updated = optimizer.update({
      b,
      config: opt,
      param,
      grad: grads[i] ?? b.zerosLike(param.shape),
      weightDecay: paramDecay(opt, m.params[i]!),
      states: states.map((s) => s[i]!),
      scalars,
    });
    newP.push(updated.param);
    updated.states.forEach((v, s) => newStates[s]!.push(v));
  });
  const name = (i: number) => params[i]!.hint ?? "";
  newP.forEach((v, i) => (v.hint = `p.${name(i)}`));
  newStates.forEach((vs, s) =>
    vs.forEach((v, i) => (v.hint = `${optimizer.states[s]}.${name(i)}`)),
  );
  const newModelStates = fwd.outputs.slice(2);
  newModelStates.forEach((v, i) => (v.hint = `state.${m.states[i]!.name}`));
  g.outputs = [fwd.outputs[0]!, ...newP, ...newStates.flat(), ...newModelStates];
  return {
    graph: g,
    numData,
    numParams: p.length,
    numModelStates: modelStates.length,
    statesPerParam: optimizer.states.length,
    gradients: grads.filter((v): v is Value => !!v),
  };
}

/**
 * The weight decay of one parameter: its own (`param W: … = glorot, decay = 0.01`), else the
 * run's, which skips vectors when only matrices decay.
 */
export function paramDecay(opt: OptimizerConfig, spec: ParamSpec): number {
  if (spec.weightDecay !== undefined) return spec.weightDecay;
  return opt.decay === "matrices" && spec.blockShape.length < 2 ? 0 : opt.weightDecay;
}

export interface EvalGraph {
  /** inputs [model inputs…, params…, model states…, valid_mask, test_mask]; outputs: see `outputs`. */
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
  // The masks select the rows the targets label: nodes, or the graphs of a batch.
  const maskShape = m.inputs.find((i) => i.role === "train_mask")?.shape ?? ["N", 1];
  const valid = fresh(maskShape, "valid_mask");
  const test = fresh(maskShape, "test_mask");
  const g = new Graph(`${m.name}_eval`, [...ins, valid, test]);
  const b = new Builder(g);
  const fwd = emitForward(b, m.graph, ins, { ...defaultAdOptions, forwardOnly: true });
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
