// Running IR graphs on the GPU (lavapipe here) for oracle tests against the interpreter.
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Graph } from "../../compiler/ir/types.js";
import type { CsrGraph } from "../../compiler/ir/interp.js";
import { graphFromCsr } from "../../runtime/data/graph.js";
import { acquireGpu, type GpuContext } from "../../runtime/gpu/device.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { runOnce, type RunOnceResult } from "../../driver/run-once.js";

let shared: Promise<GpuContext> | undefined;
export function gpu(): Promise<GpuContext> {
  shared ??= acquireGpu();
  return shared;
}

/** Runs g on the GPU with every buffer poisoned with NaN first; returns its outputs. */
export async function runOnGpu(
  g: Graph,
  inputs: Tensor[],
  dims: Record<string, number>,
  csr?: CsrGraph,
  opts: { seed?: number; step?: number; perOp?: boolean; immediateBytes?: number } = {},
): Promise<RunOnceResult> {
  const backend = new GpuBackend(await gpu());
  const graph = csr
    ? { ...graphFromCsr(csr.numNodes, csr.dstRowPtr, csr.srcIdx), graphPtr: csr.graphPtr }
    : undefined;
  try {
    return await runOnce(
      backend,
      g,
      inputs.map((t) => t.data),
      dims,
      graph,
      { ...opts, poison: true },
    );
  } finally {
    backend.stream.destroy();
    backend.memory.trim();
  }
}
