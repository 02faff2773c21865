// What a split must hold before anything trains on it: at least one training node, and a label on
// every training node. A node without a label (NaN in node-label.csv.gz, a missing target of a
// multi-label node) would otherwise train as "no class" (single-label) or as 0 (multi-label):
// silently different losses for the same mistake, so both are refused, naming the split file's
// line. Validation and test nodes may lack labels: they are left out of the metrics
// (see `labelledCount`), as OGB's evaluators do.
import { DataError, type DataLocation } from "./errors.js";
import type { Labels } from "./types.js";

/** The first target a node lacks: -1 when it has them all (single-label: its class). */
function missingTarget(labels: Labels, node: number): number {
  if (labels.kind === "single") return labels.y[node]! < 0 ? 0 : -1;
  const t = labels.numTasks;
  for (let k = 0; k < t; k++) if (Number.isNaN(labels.y[node * t + k]!)) return k;
  return -1;
}

/**
 * Refuses an empty train split and a training node without a label. `where(i)` locates the i-th
 * training node (its split file and line); `labelFile` names the file the labels came from.
 */
export function checkTrainSplit(
  train: Uint32Array,
  labels: Labels,
  where: (i: number) => DataLocation,
  labelFile?: string,
  /** What the split indexes: nodes, or the graphs of a batch. */
  unit: "node" | "graph" = "node",
): void {
  if (train.length === 0) {
    const at = where(0);
    throw new DataError(
      `the train split is empty: there is no ${unit} to train on` +
        (at.file ? "" : " (a synthetic graph needs N >= 2)"),
      { file: at.file },
    );
  }
  for (let i = 0; i < train.length; i++) {
    const v = train[i]!;
    const k = missingTarget(labels, v);
    if (k < 0) continue;
    const row = labelFile ? ` (${labelFile} line ${v + 1})` : "";
    const what =
      labels.kind === "single"
        ? `training ${unit} ${v} has no label${row}`
        : `training ${unit} ${v} has no target for task ${k + 1} of ${labels.numTasks}${row}`;
    throw new DataError(
      `${what}; every training ${unit} needs one: label it, or move it out of the train split`,
      where(i),
    );
  }
}

/** Nodes of `index` that have a label (single-label; every node counts for multi-label). */
export function labelledCount(labels: Labels, index: Uint32Array): number {
  if (labels.kind !== "single") return index.length;
  let n = 0;
  for (const v of index) if (labels.y[v]! >= 0) n++;
  return n;
}
