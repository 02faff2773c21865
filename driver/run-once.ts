// Runs an IR graph once on a backend: host arrays in, host arrays out. For diagnostics (`revgnn
// check`) and tests; training keeps its tensors on the device instead (driver/session.ts).
import type { CodegenOptions } from "../compiler/codegen/generate.js";
import { compileGraph } from "../compiler/pipeline.js";
import { evalShape, numElements, type DimBindings } from "../compiler/ir/dims.js";
import type { Graph } from "../compiler/ir/types.js";
import type { Graph as GraphData } from "../runtime/data/types.js";
import type { Backend } from "../runtime/exec/backend.js";
import { Executor, type TensorRef, type View } from "../runtime/exec/executor.js";
import { featureChunks, type FeatureChunks } from "./feature-chunks.js";
import type { Program } from "../compiler/contract.js";
import { BufferLimitError } from "../runtime/gpu/memory.js";

export interface RunOnceOptions extends CodegenOptions {
  seed?: number;
  step?: number;
  /** Fill every buffer with NaN first, so that an unwritten element shows (tests). */
  poison?: boolean;
}

export interface RunOnceResult {
  outputs: Float32Array[];
  dispatches: number;
  kernels: number;
  fixpoints: Executor<unknown, unknown>["fixpointStats"];
}

export async function runOnce<H, K>(
  backend: Backend<H, K>,
  g: Graph,
  inputs: ArrayLike<number>[],
  dims: DimBindings,
  graph: GraphData | undefined,
  opts: RunOnceOptions = {},
): Promise<RunOnceResult> {
  // The pipeline's graph passes (rev_block expansion, code generation), as for a training step.
  const program = compileGraph(g, {
    perOp: opts.perOp,
    tuning: opts.tuning ?? backend.tuning,
    maxStorageBuffers: opts.maxStorageBuffers ?? backend.maxStorageBuffers,
    immediateBytes: opts.immediateBytes ?? backend.immediateBytes ?? 0,
  });
  const ex = new Executor(backend, program, dims, graph);
  ex.poison = !!opts.poison;
  await ex.prepare();
  const refs = inputs.map((data, i): TensorRef<H> => {
    const shape = evalShape(g.inputs[i]!.shape, dims);
    const label = g.inputs[i]!.hint ?? `input${i}`;
    // Float32 inputs (the node features, parameters) upload as they are, without a copy.
    const host = data instanceof Float32Array ? data : Float32Array.from(data);
    // A matrix over one binding that only row-range kernels read (dense node features) goes in
    // row chunks, as a training session holds it; anything else over the limit is refused here.
    const [rows, ...rest] = shape;
    const chunks =
      shape.length === 2
        ? rowChunksIfServed(program, i, rows!, numElements(rest), backend.maxBindingBytes, label)
        : undefined;
    if (chunks) {
      const r = ex.allocateRows(
        rows!,
        numElements(rest),
        chunks.rowsPerChunk,
        "activations",
        label,
      );
      ex.writeRows(r, host);
      return r;
    }
    const v = ex.allocate(numElements(shape), "activations", label);
    backend.write(v.buf.handle, host);
    return v;
  });
  const before = backend.stats.dispatches;
  const outs = await ex.run(refs, { seed: opts.seed ?? 0, step: opts.step ?? 0 });
  refs.forEach((r) => ex.release(r));
  const outputs: Float32Array[] = [];
  for (const r of outs) {
    const v = r as View<H>;
    outputs.push(await backend.read(v.buf.handle, v.elements, v.offset * 4));
    ex.release(r);
  }
  ex.releaseGraph();
  return {
    outputs,
    dispatches: backend.stats.dispatches - before,
    kernels: program.kernels.length,
    fixpoints: ex.fixpointStats,
  };
}

/**
 * Row chunks for input `input` when it exceeds the binding limit and every kernel reading it runs
 * by rows; undefined otherwise (allocating it whole then names the limit it exceeds).
 */
function rowChunksIfServed(
  program: Program,
  input: number,
  rows: number,
  rowElements: number,
  limitBytes: number,
  label: string,
): FeatureChunks | undefined {
  try {
    return featureChunks([program], input, rows, rowElements, limitBytes, label, "");
  } catch (err) {
    if (err instanceof BufferLimitError) return undefined;
    throw err;
  }
}
