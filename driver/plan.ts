// The static memory plan: a training step and an evaluation replayed on the dry-run backend, which
// allocates nothing but goes through the same buffer pool, in the same order, as a real run. The
// plan's peak per category is what a run of these sizes will measure.
import type { CompiledModel } from "../compiler/compile.js";
import { FEATURE_NONZEROS } from "./sparse-features.js";
import { evalShape, numElements } from "../compiler/ir/dims.js";
import { BufferLimitError, MEMORY_CATEGORIES, type MemoryCategory } from "../runtime/gpu/memory.js";
import { DryRunBackend } from "../runtime/exec/backend.js";
import { checkTensorSizes, refusePerNodeParameters } from "./limits.js";
import { Session } from "./session.js";
import type { FeatureChunks } from "./feature-chunks.js";
import type { Tuning } from "../compiler/target.js";
import type { OptimizerConfig } from "../compiler/optimizers.js";

export type CategoryPlan = Record<MemoryCategory | "total", number>;

export interface PlanOptions {
  optimizer: OptimizerConfig;
  storeActivations: boolean;
  partitions?: number;
  /** The device's storage binding limit (stacked activations are split to fit). */
  maxBindingBytes?: number;
  /** The device's largest buffer (maxBufferSize). */
  maxBufferBytes?: number;
  checkpointEvery?: number;
  perOp?: boolean;
  /** Node features bound dense even when sparse (the run's `--dense-features`). */
  denseFeatures?: boolean;
  /** Largest buffer of dense features before they go in row chunks (default: the binding limit). */
  featureChunkBytes?: number;
  /** The adapter's kernel tuning (workspace sizes depend on the kernels). */
  tuning?: Tuning;
  /** The adapter's storage-buffer limit per kernel (fusion depends on it). */
  maxStorageBuffers?: number;
  /** The adapter's immediates for parameter blocks (compiler/target.ts immediateBytesFor). */
  immediateBytes?: number;
}

/** A backend that allocates nothing, with the limits and kernel tuning of the planned device. */
function dryRunBackend(o: PlanOptions): DryRunBackend {
  return new DryRunBackend(
    o.maxBindingBytes,
    undefined,
    o.maxBufferBytes,
    undefined,
    o.tuning,
    o.maxStorageBuffers,
    o.immediateBytes,
  );
}

/**
 * The sizes a plan binds without a dataset: N and E as given, the model's feature and class symbols
 * from its inputs' roles (`revgnn plan`'s defaults where not given).
 */
export function planDims(
  model: CompiledModel,
  o: { nodes: number; edges: number; features?: number; classes?: number; graphs?: number },
): Record<string, number> {
  // G, the graphs of a batch, is 1 unless given: a single graph.
  const dims: Record<string, number> = { N: o.nodes, E: o.edges, G: o.graphs ?? 1 };
  for (const inp of model.train.inputs) {
    const bindSym = (d: string | number | undefined, v: number) => {
      if (typeof d === "string" && !(d in dims)) dims[d] = v;
    };
    if (inp.role === "features") bindSym(inp.shape[1], o.features ?? 128);
    if (inp.role === "labels") bindSym(inp.shape[1], o.classes ?? 40);
    if (inp.role === "multilabels") bindSym(inp.shape[1], o.classes ?? 112);
    if (inp.role === "edge_features") bindSym(inp.shape[1], 8);
  }
  return dims;
}

/** Sizes of the data: N, E and the model's own symbols (F, K, …). */
export async function planMemory(
  model: CompiledModel,
  dims: Record<string, number>,
  o: PlanOptions,
): Promise<CategoryPlan> {
  return (await planLayout(model, dims, o)).plan;
}

/** The plan, and how the data is laid out for it: dense features in row chunks, if they are. */
export async function planLayout(
  model: CompiledModel,
  dims: Record<string, number>,
  o: PlanOptions,
): Promise<{ plan: CategoryPlan; featureChunks?: FeatureChunks }> {
  const backend = dryRunBackend(o);
  // Before any host array is made: a parameter of 1e9 blocks is refused, not a RangeError.
  checkTensorSizes(model, dims, backend.memory.limits);
  refusePerNodeParameters(model, o.partitions ?? 1);
  const session = new Session(backend, model, {
    optimizer: o.optimizer,
    storeActivations: o.storeActivations,
    checkpointEvery: o.checkpointEvery,
    perOp: o.perOp,
    denseFeatures: o.denseFeatures,
    featureChunkBytes: o.featureChunkBytes,
  });
  const p = Math.max(1, o.partitions ?? 1);
  // A random partition into P parts gives each part about N/P nodes and, since an edge survives
  // when both its endpoints fall in that part, about E/P² edges: an estimate, since parts vary.
  // A part keeps its nodes' feature rows: about 1/P of the non-zeros (sparse features).
  const nnz = dims[FEATURE_NONZEROS];
  const partDims =
    p > 1
      ? {
          ...dims,
          N: Math.ceil(dims.N! / p),
          E: Math.ceil(dims.E! / (p * p)),
          ...(nnz !== undefined ? { [FEATURE_NONZEROS]: Math.ceil(nnz / p) } : {}),
        }
      : dims;
  await session.bindSized(partDims);
  session.setParameters(
    model.train.params.map((spec) => new Float32Array(numElements(evalShape(spec.shape, dims)))),
  );
  try {
    await session.step(0.01, 1, 0);
  } catch (err) {
    throw await stepLimit(err, model, dims, o, partDims.N!);
  }
  if (p > 1) await session.bindSized(dims);
  try {
    await session.evaluate();
    // A run reads its state back at evaluations (drift samples, checkpoints): one staging buffer.
    await session.readState();
  } catch (err) {
    throw evaluationLimit(err);
  }
  // The next step runs with what the first evaluation left allocated (its graph buffers stay):
  // a run's peak is the second step's, not the first's.
  if (p > 1) await session.bindSized(partDims);
  try {
    await session.step(0.01, 2, 0);
  } catch (err) {
    throw await stepLimit(err, model, dims, o, partDims.N!);
  }
  const snap = backend.memory.snapshot();
  const out = { total: snap.peakTotal } as CategoryPlan;
  for (const c of MEMORY_CATEGORIES) out[c] = snap.peak[c];
  const chunks = session.featureChunks;
  return { plan: out, ...(chunks ? { featureChunks: chunks } : {}) };
}

/** A node-sized tensor of a step or an evaluation over a buffer limit (not a parameter's). */
function nodeTensorLimit(err: unknown): err is BufferLimitError {
  return (
    err instanceof BufferLimitError &&
    (err.category === "activations" || err.category === "workspace")
  );
}

const readvise = (e: BufferLimitError, advice: string) =>
  new BufferLimitError(e.label, e.bytes, e.limit, e.limitBytes, e.category, advice, e.shape);

/** The evaluation runs on the whole graph: no option splits its tensors. */
function evaluationLimit(err: unknown): unknown {
  if (!nodeTensorLimit(err)) return err;
  return readvise(
    err,
    "the evaluation runs on the whole graph at once, so each of its per-node tensors must fit " +
      "one buffer (--partitions does not split it): use a narrower model (--set D=…) or a device " +
      `with a larger ${err.limit}`,
  );
}

/**
 * A training step's tensor over a limit: --partitions helps when the step on fewer nodes is the
 * only problem, which a dry run of the full-graph evaluation (on a fresh pool) decides.
 */
async function stepLimit(
  err: unknown,
  model: CompiledModel,
  dims: Record<string, number>,
  o: PlanOptions,
  stepNodes: number,
): Promise<unknown> {
  if (!nodeTensorLimit(err)) return err;
  const backend = dryRunBackend(o);
  const session = new Session(backend, model, {
    optimizer: o.optimizer,
    storeActivations: o.storeActivations,
    checkpointEvery: o.checkpointEvery,
    perOp: o.perOp,
    denseFeatures: o.denseFeatures,
    featureChunkBytes: o.featureChunkBytes,
  });
  try {
    await session.bindSized(dims);
    session.setParameters(
      model.train.params.map((spec) => new Float32Array(numElements(evalShape(spec.shape, dims)))),
    );
    await session.evaluate();
  } catch (evalErr) {
    return evaluationLimit(evalErr);
  }
  // The tensor grows with the step's nodes; parts vary in size, so leave a margin.
  const parts = Math.ceil((1.25 * err.bytes) / err.limitBytes) * Math.max(1, o.partitions ?? 1);
  return readvise(
    err,
    `a training step on ${stepNodes} nodes holds it: --partitions ${parts} or more trains on ` +
      `about N/${parts} nodes per step (the evaluation fits)` +
      (o.storeActivations
        ? ", and dropping --store-activations keeps no per-block activations"
        : ""),
  );
}
