// The model's signature and its loss: the data inputs (node and edge tensors, class labels or 0/1
// targets, the training mask) and the `loss` statement that ties the logits to the labels.
import type { Expr, ModelDecl } from "../../grammar/ast.js";
import { shapeEquals, shapeToString } from "../ir/dims.js";
import { GRAPHS_DIM } from "../ir/ops/pool.js";
import type { Dim, Value } from "../ir/types.js";
import { LOSSES, lowerLoss } from "./builtins.js";
import { tensorOf } from "./coerce.js";
import { guard, type LowerContext } from "./context.js";
import { evalTypeDims } from "./dims.js";
import type { ModelScope } from "./scope.js";
import { LowerError, type Frame } from "./values.js";

export type ModelInputRole = "features" | "edge_features" | "labels" | "multilabels" | "train_mask";

export interface ModelInput {
  name: string;
  role: ModelInputRole;
  shape: Dim[];
}

/** The input the loss compares the logits with: class indices or 0/1 targets. */
export interface Labels {
  value: Value;
  role: "labels" | "multilabels";
  classes?: Dim;
  /** What the targets label: nodes (N) or the graphs of a batch (G). */
  rows: TargetRows;
}

/** The rows targets (and the train/valid/test masks) are over: nodes, or graphs of a batch. */
export type TargetRows = "N" | typeof GRAPHS_DIM;

const isTargetRows = (d: Dim): d is TargetRows => d === "N" || d === GRAPHS_DIM;

export interface LoweredLoss {
  value: Value;
  kind: "cross_entropy" | "bce_with_logits";
  prediction: Value;
}

/**
 * Declares the model's arguments in its frame and appends the training mask. Names in the
 * signature other than hyperparameters are sizes of the data (F, K, …).
 */
export function lowerSignature(
  cx: LowerContext,
  model: ModelDecl,
  scope: ModelScope,
  frame: Frame,
): { inputs: ModelInput[]; labels: Labels | undefined; mask: Value } {
  const inputs: ModelInput[] = [];
  let labels: Labels | undefined;
  const dataSymbol = (name: string) => {
    frame.dims.set(name, name);
    return name;
  };
  for (const arg of model.args) {
    guard(cx, () => {
      const dims = evalTypeDims(arg.type, frame, dataSymbol);
      if (arg.type.role === "labels") {
        if (dims.length !== 2 || !isTargetRows(dims[0]!)) {
          throw new LowerError(
            "class labels are declared `labels[N, K]` (one of K classes per node) or `labels[G, K]` (per graph of a batch)",
            arg.type.span,
          );
        }
        const rows = dims[0]! as TargetRows;
        const v = scope.dataInput([rows, 1], arg.name.name);
        inputs.push({ name: arg.name.name, role: "labels", shape: [rows, dims[1]!] });
        labels = { value: v, role: "labels", classes: dims[1], rows };
        frame.vars.declare(arg.name.name, { value: v, mutable: false, declaredAt: arg.span });
        return;
      }
      const graphTargets = arg.type.role === "multilabels" && dims[0] === GRAPHS_DIM;
      if (dims.length !== 2 || (dims[0] !== "N" && dims[0] !== "E" && !graphTargets)) {
        throw new LowerError(
          `model inputs are node tensors [N, …] or edge tensors [E, …], got ${shapeToString(dims)}`,
          arg.type.span,
          dims[0] === GRAPHS_DIM
            ? "graph-level targets are `labels[G, K]` or `multilabels[G, T]`"
            : undefined,
        );
      }
      const v = scope.dataInput(dims, arg.name.name);
      const role: ModelInputRole =
        arg.type.role === "multilabels"
          ? "multilabels"
          : dims[0] === "E"
            ? "edge_features"
            : "features";
      inputs.push({ name: arg.name.name, role, shape: dims });
      if (role === "multilabels") labels = { value: v, role, rows: dims[0] as TargetRows };
      frame.vars.declare(arg.name.name, { value: v, mutable: false, declaredAt: arg.span });
    });
  }
  // The training mask selects rows of the targets: nodes, or graphs of a batch.
  const rows = labels?.rows ?? "N";
  const mask = scope.dataInput([rows, 1], "train_mask");
  inputs.push({ name: "train_mask", role: "train_mask", shape: [rows, 1] });
  return { inputs, labels, mask };
}

export function lowerLossStmt(
  cx: LowerContext,
  e: Expr,
  f: Frame,
  labels: Labels | undefined,
  mask: Value,
): LoweredLoss {
  if (e.kind !== "call" || !LOSSES.has(e.callee.name)) {
    throw new LowerError(
      "a loss is `cross_entropy(logits, y)` or `bce_with_logits(logits, y)`",
      e.span,
    );
  }
  const kind = e.callee.name as "cross_entropy" | "bce_with_logits";
  if (e.args.length !== 2 || e.args.some((a) => a.name)) {
    throw new LowerError(`${kind} takes two arguments: (logits, labels)`, e.span);
  }
  const logits = tensorOf(cx.lowerExpr(e.args[0]!.value, f), e.args[0]!.span, "logits");
  const y = tensorOf(cx.lowerExpr(e.args[1]!.value, f), e.args[1]!.span, "labels");
  const want = kind === "cross_entropy" ? "labels" : "multilabels";
  if (!labels || labels.value !== y) {
    throw new LowerError(
      `the second argument of ${kind} must be the model's \`${want}[…]\` input`,
      e.args[1]!.span,
    );
  }
  if (labels.role !== want) {
    throw new LowerError(
      `${kind} needs ${want === "labels" ? "class labels `labels[N, K]`" : "0/1 targets `multilabels[N, T]`"}`,
      e.args[1]!.span,
      kind === "cross_entropy"
        ? "for multi-label tasks use bce_with_logits"
        : "for single-label tasks use cross_entropy",
    );
  }
  const expected = kind === "cross_entropy" ? [labels.rows, labels.classes!] : y.shape;
  if (!shapeEquals(logits.shape, expected)) {
    throw new LowerError(
      `${kind}: logits are ${shapeToString(logits.shape)}, the labels need ${shapeToString(expected)}`,
      e.args[0]!.span,
      labels.rows === GRAPHS_DIM && logits.shape[0] === "N"
        ? "the labels are per graph: pool the node rows first, e.g. `pool_mean(h)`"
        : undefined,
    );
  }
  return { value: lowerLoss(f.scope.b, kind, logits, y, mask), kind, prediction: logits };
}
