// Exact mode's grid, checked against the data: at given weights, the largest state of every
// reversible loop (the grid's range must hold it) and how much the grid changes the model's output
// (exact against float, same weights, no dropout) — reported by `train --exact` and `check --exact`,
// with a warning when either is a problem (compiler/exact.ts builds the programs).
import type { CompiledModel } from "../compiler/compile.js";
import { exactChangeGraph, exactRange, exactRangeGraph } from "../compiler/exact.js";
import type { Dataset } from "../runtime/data/types.js";
import type { Backend } from "../runtime/exec/backend.js";
import { initModelStates } from "./init.js";
import { runOnce } from "./run-once.js";
import { bindDims, dataArrays } from "./session.js";

/**
 * Relative change of the model's output (logits) above which exact mode warns that the grid
 * changes the model. One step of RevGCN (L = 4, p = 0) on Cora at its initial weights, by bits:
 * output change 3.0e-3 (8), 1.9e-4 (12), 4.7e-5 (14), 2.9e-6 (18); the gradients moved 10–200
 * times as much (largest difference / largest entry: 3.7e-2, 6.5e-3, 2.7e-3, 4.3e-5).
 */
export const EXACT_CHANGE_WARNING = 1e-4;

/**
 * Headroom of the grid suggested: its range holds 8 times the largest state measured, for the
 * growth of training (RevGCN L = 4 on Cora: 21.0 at the initial weights, 22.5 after 200 epochs).
 */
const SUGGESTED_HEADROOM = 8;

export interface LoopRange {
  label: string;
  blocks: number;
  /** Largest |state| after each block. */
  largestByBlock: number[];
  /** Largest |state| anywhere: the loop's input and every block's output. */
  largest: number;
}

export interface ExactMeasurement {
  loops: LoopRange[];
  /** ‖logits_exact − logits_float‖ / ‖logits_float‖ (NaN when the exact model overflowed). */
  outputChange: number;
  lossFloat: number;
  lossExact: number;
}

/**
 * Measures exact mode at `params`: `float` and `exact` are the same model compiled without and
 * with --exact. Two forward passes on `backend` (a separate one keeps them out of a run's memory
 * accounting).
 */
export async function measureExact<H, K>(
  backend: Backend<H, K>,
  float: CompiledModel,
  exact: CompiledModel,
  ds: Dataset,
  params: Float32Array[],
  seed: number,
): Promise<ExactMeasurement> {
  const dims = bindDims(float.train.inputs, ds);
  const data = dataArrays(float.train.inputs, ds);
  // Model states (running statistics) at their initial values follow the parameters.
  params = [...params, ...initModelStates(float.train.states, dims)];
  const range = exactRangeGraph(float.train.graph);
  const r = await runOnce(backend, range.graph, [...data, ...params], dims, ds.graph, {
    seed,
    step: 1,
  });
  const loops = range.scans.map((s, k) => {
    const byBlock = [...r.outputs[1 + 2 * k]!];
    return {
      label: s.label,
      blocks: s.count,
      largestByBlock: byBlock,
      largest: Math.max(r.outputs[2 + 2 * k]![0]!, ...byBlock),
    };
  });
  const change = exactChangeGraph(float.eval.graph, exact.eval.graph);
  // The evaluation graphs take the training graph's inputs (the train mask among them).
  const c = await runOnce(backend, change, [...data, ...params], dims, ds.graph, {
    seed,
    step: 0,
    perOp: true,
  });
  const [diff, norm, lossFloat, lossExact] = c.outputs.map((o) => o[0]!) as [
    number,
    number,
    number,
    number,
  ];
  return {
    loops,
    outputChange: Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30),
    lossFloat,
    lossExact,
  };
}

/** The finest grid whose range holds `headroom` times `largest`: 2^(24−bits) ≥ headroom·largest. */
export function finestBits(largest: number, headroom = SUGGESTED_HEADROOM): number {
  if (!(largest > 0)) return 23;
  const bits = 24 - Math.ceil(Math.log2(largest * headroom));
  return Math.max(0, Math.min(23, bits));
}

export interface ExactSummary {
  bits: number;
  range: number;
  /** Largest |state| of any reversible loop at the weights measured. */
  largestState: number;
  outputChange: number;
  lossFloat: number;
  lossExact: number;
  /** The state leaves the grid's range (or the measurement is not finite). */
  exceeded: boolean;
  /** One line each, for the user. */
  warnings: string[];
}

export function summarizeExact(m: ExactMeasurement, bits: number): ExactSummary {
  const range = exactRange(bits);
  const largestState = Math.max(0, ...m.loops.map((l) => l.largest));
  const finer = finestBits(largestState);
  const exceeded = !(largestState < range) || !Number.isFinite(m.outputChange);
  const warnings: string[] = [];
  if (exceeded) {
    warnings.push(
      `the state reaches ${largestState.toPrecision(3)}, beyond the range ±${range} of the 2^-${bits} grid: ` +
        `exact mode cannot hold it (the state becomes NaN); use --exact ${finer} or fewer bits`,
    );
  } else if (m.outputChange > EXACT_CHANGE_WARNING) {
    warnings.push(
      `the 2^-${bits} grid changes the model's output by ${m.outputChange.toExponential(1)} (relative; ` +
        `warning above ${EXACT_CHANGE_WARNING}) and its gradients by more` +
        (finer > bits
          ? `; --exact ${finer} is the finest grid with ${SUGGESTED_HEADROOM}× room for the state (largest ${largestState.toPrecision(3)})`
          : "; no finer grid holds the state: train without --exact (--checkpoint-every bounds the drift instead)"),
    );
  }
  return {
    bits,
    range,
    largestState,
    outputChange: m.outputChange,
    lossFloat: m.lossFloat,
    lossExact: m.lossExact,
    exceeded,
    warnings,
  };
}
