// The static memory plan: a training step and an evaluation replayed on the dry-run backend, which
// allocates nothing but goes through the same buffer pool, in the same order, as a real run. The
// plan's peak per category is what a run of these sizes will measure.
import type { CompiledModel } from "../../compiler/compile.js";
import { evalShape, numElements } from "../../compiler/ir/dims.js";
import type { OptimizerConfig } from "../../compiler/training.js";
import { MEMORY_CATEGORIES, type MemoryCategory } from "../gpu/memory.js";
import { DryRunBackend } from "../exec/backend.js";
import { Session } from "./session.js";
import type { Tuning } from "../gpu/tuning.js";

export type CategoryPlan = Record<MemoryCategory | "total", number>;

export interface PlanOptions {
  optimizer: OptimizerConfig;
  storeActivations: boolean;
  partitions?: number;
  /** The device's storage binding limit (stacked activations are split to fit). */
  maxBindingBytes?: number;
  checkpointEvery?: number;
  perOp?: boolean;
  /** The adapter's kernel tuning (workspace sizes depend on the kernels). */
  tuning?: Tuning;
  /** The adapter's storage-buffer limit per kernel (fusion depends on it). */
  maxStorageBuffers?: number;
}

/** Sizes of the data: N, E and the model's own symbols (F, K, …). */
export async function planMemory(
  model: CompiledModel,
  dims: Record<string, number>,
  o: PlanOptions,
): Promise<CategoryPlan> {
  const backend = new DryRunBackend(
    o.maxBindingBytes,
    undefined,
    undefined,
    undefined,
    o.tuning,
    o.maxStorageBuffers,
  );
  const session = new Session(backend, model, {
    optimizer: o.optimizer,
    storeActivations: o.storeActivations,
    checkpointEvery: o.checkpointEvery,
    perOp: o.perOp,
  });
  const p = Math.max(1, o.partitions ?? 1);
  // A random partition into P parts gives each part about N/P nodes and, since an edge survives
  // when both its endpoints fall in that part, about E/P² edges: an estimate, since parts vary.
  const partDims =
    p > 1 ? { ...dims, N: Math.ceil(dims.N! / p), E: Math.ceil(dims.E! / (p * p)) } : dims;
  await session.bindSized(partDims);
  session.setParameters(
    model.train.params.map((spec) => new Float32Array(numElements(evalShape(spec.shape, dims)))),
  );
  await session.step(0.01, 1, 0);
  if (p > 1) await session.bindSized(dims);
  await session.evaluate();
  const snap = backend.memory.snapshot();
  const out = { total: snap.peakTotal } as CategoryPlan;
  for (const c of MEMORY_CATEGORIES) out[c] = snap.peak[c];
  return out;
}
