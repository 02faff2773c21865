// `revgnn check`: one training step of a reversible model both ways — activations rebuilt by the
// derived inverse, and stored — reporting, for every block, how far the rebuilt input is from the
// true one, and how far the rebuilt-activation gradients are from the stored-activation ones.
import type { CompiledModel } from "../compiler/compile.js";
import { checkpointFlags, driftGraph } from "../compiler/drift.js";
import { relativeError } from "../compiler/ir/tensor.js";
import { gradientGraph } from "../compiler/pipeline.js";
import type { Dataset } from "../runtime/data/types.js";
import type { Backend } from "../runtime/exec/backend.js";
import { asRunner, type GraphRunner } from "./graph-runner.js";
import { initModelStates, initParameters } from "./init.js";
import { bindDims, dataArrays } from "./session.js";

export interface CheckOptions {
  seed: number;
  checkpointEvery?: number;
  /** One kernel per op (exact mode's bitwise-identical recomputation). */
  perOp?: boolean;
  /** Parameter values to check at (default: the initial weights for `seed`). */
  params?: Float32Array[];
}

export interface LoopDrift {
  label: string;
  blocks: number;
  /** ‖rebuilt input − true input‖ / ‖true input‖ of every block (index = block). */
  relativeError: number[];
  /** Elements of each block's rebuilt input that differ from the true one at all. */
  differing: number[];
  /** Largest |value| of each block's true input (exact mode: must stay within its range). */
  largest: number[];
}

export interface CheckResult {
  loops: LoopDrift[];
  loss: number;
  gradients: { name: string; relativeDifference: number }[];
}

/** Per-block reconstruction error of every reversible loop at the given parameters. */
export async function measureDrift<H, K>(
  engine: Backend<H, K> | GraphRunner,
  model: CompiledModel,
  ds: Dataset,
  params: Float32Array[],
  o: Omit<CheckOptions, "params">,
): Promise<LoopDrift[]> {
  const m = model.train;
  const dims = bindDims(m.inputs, ds);
  const drift = driftGraph(m.graph);
  if (drift.scans.length === 0) return [];
  const flags = drift.scans.map((s) => checkpointFlags(s.count, o.checkpointEvery));
  const run = { seed: o.seed, step: 1, perOp: o.perOp };
  const d = await asRunner(engine).run(
    drift.graph,
    [...dataArrays(m.inputs, ds), ...params, ...initModelStates(m.states, dims), ...flags],
    dims,
    ds.graph,
    run,
  );
  return drift.scans.map((s, k) => {
    const [err, norm, differ, largest] = d.outputs.slice(1 + 4 * k, 5 + 4 * k) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    return {
      label: s.label,
      blocks: s.count,
      relativeError: [...err].map((e, l) => Math.sqrt(e) / Math.max(Math.sqrt(norm[l]!), 1e-30)),
      differing: [...differ],
      largest: [...largest],
    };
  });
}

export async function checkReversibility<H, K>(
  engine: Backend<H, K> | GraphRunner,
  model: CompiledModel,
  ds: Dataset,
  o: CheckOptions,
): Promise<CheckResult> {
  const m = model.train;
  const dims = bindDims(m.inputs, ds);
  const data = dataArrays(m.inputs, ds);
  const params = o.params ?? initParameters(m.params, dims, o.seed);
  const loops = await measureDrift(engine, model, ds, params, o);
  // The training step's segmentation and autodiff, without the optimizer; the stored-activation
  // reference keeps every block's input, so it needs no segments.
  const rebuilt = gradientGraph(model, {
    checkpointEvery: o.checkpointEvery,
    storeActivations: false,
  });
  const stored = gradientGraph(model, { storeActivations: true });
  const run = { seed: o.seed, step: 1, perOp: o.perOp };
  const runner = asRunner(engine);
  // Model states (running statistics) at their initial values: the training forward reads them
  // only to update them.
  const states = initModelStates(m.states, dims);
  const a = await runner.run(rebuilt, [...data, ...params, ...states, [1]], dims, ds.graph, run);
  const b = await runner.run(stored, [...data, ...params, ...states, [1]], dims, ds.graph, run);
  return {
    loops,
    loss: a.outputs[0]![0]!,
    gradients: m.params.map((p, i) => ({
      name: p.name,
      relativeDifference: relativeError(a.outputs[1 + i]!, b.outputs[1 + i]!),
    })),
  };
}
