import { FLT_MAX } from "../compiler/contract.js";
// Evaluation metrics on host-side logits, matching OGB's evaluators:
// accuracy for single-label (ogbn-arxiv, ogbn-products, Cora), mean ROC-AUC over tasks for
// multi-label (ogbn-proteins). Logits are row-major [numNodes, K]; `index` picks the nodes to score
// (a split), default all.

type Logits = Float32Array | Float64Array;

/**
 * Index of the largest entry of each row: the first one on ties (numpy, PyTorch), NaN entries
 * never win, and a row with nothing above −FLT_MAX gives 0 — exactly the evaluation graph's
 * `row_argmax`, so host and GPU predict the same class.
 */
export function argmax(logits: Logits, numClasses: number): Int32Array {
  if (numClasses < 1 || logits.length % numClasses !== 0) {
    throw new RangeError(
      `logits length ${logits.length} is not a multiple of ${numClasses} classes`,
    );
  }
  const n = logits.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * numClasses;
    let best = 0;
    let bestV = -FLT_MAX;
    for (let c = 0; c < numClasses; c++) {
      const v = logits[base + c]!;
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}

export interface AccuracyResult {
  accuracy: number; // NaN when no labelled node was scored
  correct: number;
  total: number;
}

/** Fraction of labelled nodes (y >= 0) in `index` whose argmax equals the label. */
export function accuracyDetail(
  logits: Logits,
  numClasses: number,
  y: Int32Array,
  index?: Uint32Array,
): AccuracyResult {
  checkRows(logits.length, numClasses, y.length);
  const pred = argmax(logits, numClasses);
  let correct = 0;
  let total = 0;
  const count = index ? index.length : y.length;
  for (let j = 0; j < count; j++) {
    const i = index ? index[j]! : j;
    if (i >= y.length) throw new RangeError(`index ${i} is out of range for ${y.length} nodes`);
    if (y[i]! < 0) continue;
    total++;
    if (pred[i] === y[i]) correct++;
  }
  return { accuracy: total ? correct / total : NaN, correct, total };
}

export function accuracy(
  logits: Logits,
  numClasses: number,
  y: Int32Array,
  index?: Uint32Array,
): number {
  return accuracyDetail(logits, numClasses, y, index).accuracy;
}

export interface RocAucResult {
  /** Mean over the tasks that could be scored; NaN if none could. */
  mean: number;
  /** Per task; NaN for a task skipped because only one class is present among the scored nodes. */
  perTask: Float64Array;
  tasksScored: number;
}

/**
 * ROC-AUC per task over labelled entries (y NaN = missing), averaged over tasks, as OGB's
 * ogbn-proteins evaluator: a task whose scored nodes are all positive or all negative is skipped.
 * Tied scores get the average rank (Mann–Whitney U), so AUC is exact, not a trapezoid estimate.
 * A NaN score makes its task's AUC NaN (a diverged model should show, not be hidden).
 */
export function rocAuc(
  scores: Logits,
  y: Float32Array,
  numTasks: number,
  index?: Uint32Array,
): RocAucResult {
  if (scores.length !== y.length || numTasks < 1 || y.length % numTasks !== 0) {
    throw new RangeError(
      `scores (${scores.length}) and labels (${y.length}) must both be [n, ${numTasks}]`,
    );
  }
  const n = y.length / numTasks;
  const count = index ? index.length : n;
  const perTask = new Float64Array(numTasks).fill(NaN);
  const all = new Float64Array(count);
  const pos = new Float64Array(count);
  let sum = 0;
  let scored = 0;
  for (let t = 0; t < numTasks; t++) {
    let na = 0;
    let np = 0;
    let nanScore = false;
    for (let j = 0; j < count; j++) {
      const i = index ? index[j]! : j;
      if (i >= n) throw new RangeError(`index ${i} is out of range for ${n} nodes`);
      const label = y[i * numTasks + t]!;
      if (Number.isNaN(label)) continue;
      const s = scores[i * numTasks + t]!;
      if (Number.isNaN(s)) nanScore = true;
      all[na++] = s;
      if (label === 1) pos[np++] = s;
    }
    const nn = na - np;
    if (np === 0 || nn === 0) continue;
    const auc = nanScore
      ? NaN
      : aucFromSorted(all.subarray(0, na).sort(), pos.subarray(0, np).sort(), np, nn);
    perTask[t] = auc;
    sum += auc;
    scored++;
  }
  return { mean: scored ? sum / scored : NaN, perTask, tasksScored: scored };
}

/**
 * AUC = (sum of positive ranks - np(np+1)/2) / (np nn), ranks 1-based over all scores with ties
 * averaged. Walks the two sorted arrays together, one run of equal scores at a time.
 */
function aucFromSorted(all: Float64Array, pos: Float64Array, np: number, nn: number): number {
  let rankSum = 0;
  let i = 0;
  let p = 0;
  while (i < all.length) {
    const v = all[i]!;
    let j = i;
    while (j < all.length && all[j] === v) j++;
    let posInRun = 0;
    while (p < pos.length && pos[p] === v) {
      posInRun++;
      p++;
    }
    // Ranks i+1..j share the average (i+1+j)/2.
    rankSum += (posInRun * (i + 1 + j)) / 2;
    i = j;
  }
  return (rankSum - (np * (np + 1)) / 2) / (np * nn);
}

function checkRows(len: number, k: number, n: number): void {
  if (len !== n * k) throw new RangeError(`logits length ${len} is not ${n} nodes × ${k} classes`);
}
