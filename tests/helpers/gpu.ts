// Running IR graphs on the GPU (lavapipe here) for oracle tests against the interpreter.
import { generateProgram } from "../../compiler/codegen/generate.js";
import { evalShape, numElements } from "../../compiler/ir/dims.js";
import type { Tensor } from "../../compiler/ir/tensor.js";
import type { Graph } from "../../compiler/ir/types.js";
import type { CsrGraph } from "../../compiler/ir/interp.js";
import { graphFromCsr } from "../../runtime/data/graph.js";
import { acquireGpu, type GpuContext } from "../../runtime/gpu/device.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { Executor, type View } from "../../runtime/exec/executor.js";

let shared: Promise<GpuContext> | undefined;
export function gpu(): Promise<GpuContext> {
  shared ??= acquireGpu();
  return shared;
}

export interface GpuRun {
  outputs: Float32Array[];
  dispatches: number;
  kernels: number;
}

/** Runs g on the GPU with every buffer poisoned with NaN first; returns its outputs. */
export async function runOnGpu(
  g: Graph,
  inputs: Tensor[],
  dims: Record<string, number>,
  csr?: CsrGraph,
  opts: { seed?: number; step?: number } = {},
): Promise<GpuRun> {
  const ctx = await gpu();
  const backend = new GpuBackend(ctx);
  const program = generateProgram(g);
  const graph = csr ? graphFromCsr(csr.numNodes, csr.dstRowPtr, csr.srcIdx) : undefined;
  const ex = new Executor(backend, program, dims, graph);
  ex.poison = true;
  await ex.prepare();
  const refs = inputs.map((t, i) => {
    const n = numElements(evalShape(g.inputs[i]!.shape, dims));
    const v = ex.allocate(n, "activations", `input${i}`);
    backend.write(v.buf.handle, Float32Array.from(t.data));
    return v;
  });
  const before = backend.stats.dispatches;
  const outs = await ex.run(refs, { seed: opts.seed ?? 0, step: opts.step ?? 0 });
  refs.forEach((r) => ex.release(r));
  const outputs: Float32Array[] = [];
  for (const r of outs) {
    const v = r as View<GPUBuffer>;
    outputs.push(await backend.read(v.buf.handle, v.elements, v.offset * 4));
    ex.release(r);
  }
  const dispatches = backend.stats.dispatches - before;
  ex.releaseGraph();
  backend.stream.destroy();
  backend.memory.trim();
  return { outputs, dispatches, kernels: program.kernels.length };
}
