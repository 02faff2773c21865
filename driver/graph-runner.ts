// Running one IR graph with host arrays in and out, on either engine: a device backend (the
// pipeline's graph passes, WGSL kernels) or the float64 reference interpreter (no shader
// compilation). `revgnn check` and the drift sampling of `train` measure through this, so that
// `--backend interpreter` reuses the same measurement programs.
import type { DimBindings } from "../compiler/ir/dims.js";
import { evalShape } from "../compiler/ir/dims.js";
import { graphView, interpret } from "../compiler/ir/interp.js";
import { tensor } from "../compiler/ir/tensor.js";
import type { Graph } from "../compiler/ir/types.js";
import type { Graph as GraphData } from "../runtime/data/types.js";
import type { Backend } from "../runtime/exec/backend.js";
import { runOnce } from "./run-once.js";

export interface GraphRunOptions {
  seed: number;
  step: number;
  /** One kernel per op (exact mode); the interpreter computes op by op anyway. */
  perOp?: boolean;
}

export interface GraphRunner {
  /** Outputs in float32 (device) or float64 (interpreter). */
  run(
    g: Graph,
    inputs: ArrayLike<number>[],
    dims: DimBindings,
    graph: GraphData | undefined,
    o: GraphRunOptions,
  ): Promise<{ outputs: (Float32Array | Float64Array)[] }>;
}

export function deviceRunner<H, K>(backend: Backend<H, K>): GraphRunner {
  return { run: (g, inputs, dims, graph, o) => runOnce(backend, g, inputs, dims, graph, o) };
}

export const interpreterRunner: GraphRunner = {
  run: (g, inputs, dims, graph, o) => {
    const args = inputs.map((data, i) => tensor(evalShape(g.inputs[i]!.shape, dims), data));
    const outs = interpret(g, args, {
      dims,
      graph: graph && graphView(graph),
      seed: o.seed,
      step: o.step,
    });
    return Promise.resolve({ outputs: outs.map((t) => t.data) });
  },
};

/** A device backend or a runner: the diagnostics take either. */
export function asRunner<H, K>(engine: Backend<H, K> | GraphRunner): GraphRunner {
  return "run" in engine ? engine : deviceRunner(engine);
}
