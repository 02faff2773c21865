// The device side of a training run: compiled programs (training step, evaluation), the
// parameters and optimizer state living on the device, and the data of the graph being trained
// on. Generic over the backend, so the same code either trains on the GPU or, on the dry-run
// backend, replays exactly the same allocations to produce the static memory plan.
import type { CompiledModel } from "../compiler/compile.js";
import { evalShape, numElements, shapeToString, type DimBindings } from "../compiler/ir/dims.js";
import type { ModelInput } from "../compiler/lower/signature.js";
import { compileProgram } from "../compiler/pipeline.js";
import { optimizerNamed, stepScalars, type OptimizerConfig } from "../compiler/optimizers.js";
import type { EvalGraph, StepGraph } from "../compiler/training.js";
import type { Dataset } from "../runtime/data/types.js";
import { getOp } from "../compiler/ir/registry.js";
import type { Dim, Value } from "../compiler/ir/types.js";
import { GRAPHS_DIM } from "../compiler/ir/ops/pool.js";
import type { MemoryCategory } from "../runtime/gpu/memory.js";
import type { Backend } from "../runtime/exec/backend.js";
import { Executor, type TensorRef, type View } from "../runtime/exec/executor.js";
import { featureChunks, type FeatureChunks } from "./feature-chunks.js";
import { stateTensorNames } from "./checkpoint.js";
import { initModelStates } from "./init.js";
import { FiniteCheck, NonFiniteStateError } from "./finite.js";
import type { Program } from "../compiler/contract.js";
import { paddedDims, type Padding } from "../compiler/padding.js";
import type { CompiledPrograms, PipelineOptions } from "../compiler/pipeline.js";
import {
  FEATURE_NONZEROS,
  countNonzeros,
  packSparseFeatures,
  sparseFeatureWords,
  wantsSparse,
} from "./sparse-features.js";
import { cropArray, padArray } from "./padded-arrays.js";

export class DataShapeError extends Error {}

/**
 * A model's programs by the options that shape them. A run builds the same programs twice, for
 * its memory plan (a dry-run session) and for its device session, each dense and sparse: 0.1 s
 * of a warm start spent compiling again what it had. Sessions only read their programs.
 */
const programsByModel = new WeakMap<CompiledModel, Map<string, CompiledPrograms>>();

function compileProgramOnce(model: CompiledModel, options: PipelineOptions): CompiledPrograms {
  const key = JSON.stringify([
    options.optimizer,
    options.storeActivations,
    options.checkpointEvery ?? null,
    options.perOp ?? false,
    options.target,
    options.sparseFeatures ?? false,
  ]);
  let programs = programsByModel.get(model);
  if (!programs) programsByModel.set(model, (programs = new Map()));
  let compiled = programs.get(key);
  if (!compiled) programs.set(key, (compiled = compileProgram(model, options)));
  return compiled;
}

/** Graphs in a dataset's batch (1 for a single graph). */
export function numGraphs(g: Dataset["graph"]): number {
  return g.graphPtr ? g.graphPtr.length - 1 : 1;
}

/** Rows the labels and the split masks cover: the nodes, or the graphs of a batch. */
export function targetRowCount(ds: Dataset): number {
  return ds.targets === "graphs" ? numGraphs(ds.graph) : ds.graph.numNodes;
}

/**
 * Mini-batches are random node partitions, which would cut the graphs of a batch apart and leave
 * their labels behind: a graph-level dataset trains full-batch over all its graphs.
 */
export function refusePartitionedGraphBatch(ds: Dataset, partitions: number): void {
  if (ds.targets === "graphs" && partitions > 1) {
    throw new DataShapeError(
      `--partitions ${partitions} cuts the nodes into random parts, which would split the graphs of ${ds.name}; graph-level datasets train full-batch over all graphs (leave out --partitions)`,
    );
  }
}

/** The model's targets label nodes (N) or graphs (G); the dataset's must be the same kind. */
function checkTargetRows(inp: ModelInput, ds: Dataset): void {
  const perGraph = inp.shape[0] === GRAPHS_DIM;
  if (perGraph && ds.targets !== "graphs") {
    throw new DataShapeError(
      `the model predicts one target per graph (${inp.name}: ${inp.role}[G, …]); the dataset ${ds.name} labels nodes (use a graph-classification dataset: the OGB graph-property layout, or synthetic-graphs:…)`,
    );
  }
  if (!perGraph && ds.targets === "graphs") {
    throw new DataShapeError(
      `the dataset ${ds.name} labels graphs; the model's ${inp.name} labels nodes (declare ${inp.role}[G, …] and pool the node rows, e.g. pool_mean(h))`,
    );
  }
}

/** Binds the model's symbolic sizes (N, E, G, F, K, …) to a dataset's, checking fixed ones. */
export function bindDims(inputs: readonly ModelInput[], ds: Dataset): Record<string, number> {
  const dims: Record<string, number> = {
    N: ds.graph.numNodes,
    E: ds.graph.numEdges,
    [GRAPHS_DIM]: numGraphs(ds.graph),
  };
  const bind = (d: string | number, value: number, what: string) => {
    if (typeof d === "number") {
      if (d !== value)
        throw new DataShapeError(`the model declares ${what} = ${d}, the data has ${value}`);
      return;
    }
    if (d in dims && dims[d] !== value) {
      throw new DataShapeError(
        `dimension ${d} is ${dims[d]} from an earlier input but ${value} for ${what}`,
      );
    }
    dims[d] = value;
  };
  const features = inputs.filter((i) => i.role === "features");
  if (features.length > 1)
    throw new DataShapeError(
      `the model takes ${features.length} node feature inputs; a dataset provides one`,
    );
  for (const inp of inputs) {
    switch (inp.role) {
      case "features":
        bind(inp.shape[1]!, ds.numFeatures, `the width of ${inp.name}`);
        // For the choice of the sparse input path (sparse-features.ts): not a size of any tensor.
        // (Size checks bind a dataset without arrays: no count, and the dense path is assumed.)
        if (ds.features) dims[FEATURE_NONZEROS] = countNonzeros(ds.features);
        break;
      case "edge_features":
        if (!ds.edgeFeatures)
          throw new DataShapeError(
            `the model reads edge features (${inp.name}); the dataset has none`,
          );
        bind(inp.shape[1]!, ds.edgeFeatures.dim, `the width of ${inp.name}`);
        break;
      case "labels":
        checkTargetRows(inp, ds);
        if (ds.labels.kind !== "single") {
          throw new DataShapeError(
            "the model uses single-label `labels[N, K]`; the dataset is multi-label (use multilabels[N, T] and bce_with_logits)",
          );
        }
        bind(inp.shape[1]!, ds.labels.numClasses, "the number of classes");
        break;
      case "multilabels":
        checkTargetRows(inp, ds);
        if (ds.labels.kind !== "multi") {
          throw new DataShapeError(
            "the model uses `multilabels[N, T]`; the dataset is single-label (use labels[N, K] and cross_entropy)",
          );
        }
        bind(inp.shape[1]!, ds.labels.numTasks, "the number of tasks");
        break;
      case "train_mask":
        break;
    }
  }
  return dims;
}

/** The shape of an input as uploaded: class labels are one class id per row, whatever K. */
export function uploadedShape(inp: ModelInput): Dim[] {
  return inp.role === "labels" ? [inp.shape[0]!, 1] : inp.shape;
}

/** The training mask's shape: one entry per node, or per graph of a batch. */
export function trainMaskShape(inputs: readonly ModelInput[]): Dim[] {
  return inputs.find((i) => i.role === "train_mask")?.shape ?? ["N", 1];
}

function mask(n: number, index: Uint32Array): Float32Array {
  const m = new Float32Array(n);
  for (const i of index) m[i] = 1;
  return m;
}

/** Host arrays for the model's data inputs, in input order. */
export function dataArrays(inputs: readonly ModelInput[], ds: Dataset): Float32Array[] {
  const n = targetRowCount(ds);
  return inputs.map((inp) => {
    switch (inp.role) {
      case "features":
        return ds.features;
      case "edge_features":
        return ds.edgeFeatures!.values;
      case "labels":
        return ds.labels.kind === "single" ? Float32Array.from(ds.labels.y) : new Float32Array(n);
      case "multilabels":
        return ds.labels.kind === "multi"
          ? ds.labels.y.map((v) => (Number.isNaN(v) ? 0 : v))
          : new Float32Array(n);
      case "train_mask":
        return mask(n, ds.split.train);
    }
  });
}

export interface SessionOptions {
  optimizer: OptimizerConfig;
  /** Plain stored-activation backprop even for reversible loops (A/B checks). */
  storeActivations: boolean;
  /** Keep every k-th block's input of reversible loops (bounds drift; memory O(L/k)). */
  checkpointEvery?: number;
  /** One kernel per op, so that recomputation is bitwise identical (exact mode). */
  perOp?: boolean;
  /** Bind the node features dense even when they are sparse (A/B checks of the sparse path). */
  denseFeatures?: boolean;
  /**
   * Largest buffer of dense node features before they are split into row chunks (default: the
   * device's binding limit). Tests lower it to split small graphs' features.
   */
  featureChunkBytes?: number;
}

/** A fixpoint (DEQ) solve of the last run of a program: its tag (`…_adjoint` for the backward's
 *  implicit solve), iterations and final relative residual. */
export interface FixpointStat {
  tag: string;
  iterations: number;
  residual: number;
}

export interface Evaluation {
  loss: number;
  validLoss: number;
  counts?: [number, number, number];
  logits?: Float32Array;
}

/**
 * What a training run needs of where it computes: the device (Session) or the float64 reference
 * interpreter (InterpreterSession). Both run the programs of the one compiler pipeline.
 */
export interface TrainingSession {
  readonly dims: DimBindings | undefined;
  /** Kernel dispatches so far (0 on the interpreter). */
  readonly dispatches: number;
  /** Fixpoint solves of the last step and of the last evaluation. */
  readonly fixpoints: { step: FixpointStat[]; eval: FixpointStat[] };
  bind(ds: Dataset): Promise<void>;
  unbind(): void;
  paramShapes(dims?: DimBindings): number[][];
  /**
   * Parameters, optimizer states (zeros when absent) and model states (`state` tensors: running
   * statistics; their declared initial values when absent).
   */
  setParameters(
    values: Float32Array[],
    states?: Float32Array[],
    modelStates?: Float32Array[],
  ): void;
  step(lr: number, t: number, seed: number): Promise<number>;
  evaluate(): Promise<Evaluation>;
  readState(): Promise<SessionState>;
}

/** What a checkpoint keeps of a session: parameters, optimizer states, model states. */
export interface SessionState {
  params: Float32Array[];
  states: Float32Array[];
  modelStates: Float32Array[];
}

/** A graph's data on the device, with executors sized for it. */
interface Bound<H, K> {
  /** The data's sizes, as the model declares them (the interpreter's, checkpoints'). */
  dims: DimBindings;
  /** The sizes the device binds: `dims` with padded dims rounded up (compiler/padding.ts). */
  deviceDims: DimBindings;
  data: TensorRef<H>[];
  /** Dense features held in row chunks (over one binding), if they are. */
  featureChunks?: FeatureChunks;
  valid: View<H>;
  test: View<H>;
  step: Executor<H, K>;
  eval: Executor<H, K>;
}

export class Session<H, K> implements TrainingSession {
  /** The programs with dense features (what `revgnn compile` emits), built when first needed:
   *  a run on sparse features never needs them. */
  private dense?: CompiledPrograms;
  /** The programs chosen for the first bound data: the sparse-feature ones when that data is
   *  sparse enough (driver/sparse-features.ts) and the model allows it, else the dense ones. */
  private chosen?: CompiledPrograms;
  params: View<H>[] = [];
  states: View<H>[] = [];
  /**
   * The model's `state` tensors (running statistics): inputs of both programs, replaced by the
   * step's outputs. Small; accounted as parameters.
   */
  modelStates: View<H>[] = [];
  private scalars?: View<H>;
  private bound?: Bound<H, K>;
  /** Counts NaN/±Infinity in the updated parameters and optimizer state after every step. */
  private readonly finite: FiniteCheck<H, K>;

  constructor(
    readonly backend: Backend<H, K>,
    readonly model: CompiledModel,
    readonly options: SessionOptions,
  ) {
    const names = model.train.params.map((p) => p.name);
    this.finite = new FiniteCheck(backend, [
      ...names,
      ...stateTensorNames(model.train.params, options.optimizer),
      ...model.train.states.map((s) => s.name),
    ]);
  }

  /** The programs the device runs (the dense ones until data is bound). */
  private get active(): CompiledPrograms {
    return this.chosen ?? (this.dense ??= this.compile(false));
  }

  // The one compiler pipeline, for this backend's adapter: `revgnn compile --emit wgsl` runs the
  // same driver, so it writes exactly these kernels for the same options.
  private compile(sparseFeatures: boolean): CompiledPrograms {
    return compileProgramOnce(this.model, {
      optimizer: this.options.optimizer,
      storeActivations: this.options.storeActivations,
      checkpointEvery: this.options.checkpointEvery,
      perOp: this.options.perOp,
      target: {
        tuning: this.backend.tuning,
        maxStorageBuffers: this.backend.maxStorageBuffers,
        immediateBytes: this.backend.immediateBytes ?? 0,
      },
      sparseFeatures,
    });
  }

  get stepGraph(): StepGraph {
    return this.active.stepGraph;
  }
  get evalGraph(): EvalGraph {
    return this.active.evalGraph;
  }
  get stepProgram(): Program {
    return this.active.step;
  }
  get evalProgram(): Program {
    return this.active.eval;
  }
  /** Dims the device binds padded with zeros (the feature width), from the compiler. */
  get padding(): Padding {
    return this.active.padding;
  }
  /** Whether the node features are on the device as a packed sparse matrix. */
  get sparseFeatures(): boolean {
    return this.active.sparseFeatures;
  }

  /**
   * Dense or sparse features, decided once, on the first data bound (parameters and optimizer
   * state are laid out for one choice; partitions of one graph share its density).
   */
  private choosePrograms(dims: Readonly<Record<string, number>>): void {
    if (this.chosen) return;
    const features = this.model.train.inputs.find((i) => i.role === "features");
    const dim = features?.shape[1];
    const sparse =
      !this.options.denseFeatures && typeof dim === "string" && wantsSparse(dims, dim)
        ? this.compile(true)
        : undefined;
    this.chosen = sparse?.sparseFeatures ? sparse : this.active;
  }

  get dims(): DimBindings | undefined {
    return this.bound?.dims;
  }

  get dispatches(): number {
    return this.backend.stats.dispatches;
  }

  get fixpoints(): { step: FixpointStat[]; eval: FixpointStat[] } {
    return {
      step: this.bound?.step.fixpointStats ?? [],
      eval: this.bound?.eval.fixpointStats ?? [],
    };
  }

  private upload(
    elements: number,
    data: Float32Array | undefined,
    category: MemoryCategory,
    label: string,
    ex: Executor<H, K>,
  ): View<H> {
    const v = ex.allocate(elements, category, label);
    if (data && data.length > 0) this.backend.write(v.buf.handle, data);
    return v;
  }

  /** Puts a dataset (the full graph or one partition) on the device. */
  bind(ds: Dataset): Promise<void> {
    return this.bindSized(bindDims(this.model.train.inputs, ds), ds);
  }

  /**
   * Allocates the data buffers for graphs of the given sizes and, when a dataset is given, fills
   * them. Planning calls it without data: the same allocations, nothing computed.
   */
  async bindSized(dims: Record<string, number>, ds?: Dataset): Promise<void> {
    this.unbind();
    this.choosePrograms(dims);
    const deviceDims = paddedDims(dims, this.padding);
    const graph = ds?.graph ?? { numNodes: dims.N!, numEdges: dims.E!, numGraphs: dims.G };
    // Parameter gradients are their own category; the iteration numbers of loops ([L] scalars)
    // are bookkeeping, not activations.
    const categories = new Map<Value, MemoryCategory>(
      this.stepGraph.gradients.map((v) => [v, "gradients"]),
    );
    for (const op of this.stepGraph.graph.ops)
      if (getOp(op.opcode).bookkeeping) categories.set(op.outputs[0]!, "workspace");
    // Dense features over one binding go in row chunks, or are refused — before compiling kernels.
    const chunked = this.featureChunksFor(deviceDims);
    const step = new Executor(this.backend, this.stepProgram, deviceDims, graph, categories);
    const evalEx = new Executor(this.backend, this.evalProgram, deviceDims, graph);
    await Promise.all([step.prepare(), evalEx.prepare(), this.finite.prepare()]);
    const arrays = ds ? dataArrays(this.model.train.inputs, ds) : undefined;
    const data = this.model.train.inputs.map((inp, i): TensorRef<H> => {
      if (inp.role === "features" && this.sparseFeatures) {
        const f = dims[inp.shape[1] as string]!;
        const words = sparseFeatureWords(dims.N!, f, dims[FEATURE_NONZEROS]!);
        const host = ds && packSparseFeatures(ds.features, dims.N!, f);
        return this.upload(words, host, "graph", `${inp.name} (sparse)`, step);
      }
      const shape = uploadedShape(inp);
      const [declared, device] = [evalShape(shape, dims), evalShape(shape, deviceDims)];
      const host = arrays?.[i] && padArray(arrays[i], declared, device);
      if (i === chunked?.input)
        return this.uploadRows(device, chunked.rowsPerChunk, host, inp.name, step);
      return this.upload(numElements(device), host, "graph", inp.name, step);
    });
    // The masks cover the rows of the targets: nodes, or graphs of a batch.
    const n = numElements(evalShape(trainMaskShape(this.model.train.inputs), dims));
    const valid = this.upload(n, ds && mask(n, ds.split.valid), "graph", "valid_mask", step);
    const test = this.upload(n, ds && mask(n, ds.split.test), "graph", "test_mask", step);
    this.bound = {
      dims,
      deviceDims,
      data,
      ...(chunked
        ? { featureChunks: { rowsPerChunk: chunked.rowsPerChunk, chunks: chunked.chunks } }
        : {}),
      valid,
      test,
      step,
      eval: evalEx,
    };
  }

  /** Row chunks of the bound dense features, when they exceed one binding (else undefined). */
  get featureChunks(): FeatureChunks | undefined {
    return this.bound?.featureChunks;
  }

  /** Whether (and how) dense features of these device sizes are split into row chunks, with
   *  the features' input index. */
  private featureChunksFor(
    deviceDims: DimBindings,
  ): (FeatureChunks & { input: number }) | undefined {
    const input = this.model.train.inputs.findIndex((i) => i.role === "features");
    if (input < 0 || this.sparseFeatures) return undefined;
    const inp = this.model.train.inputs[input]!;
    const [rows, ...rest] = evalShape(inp.shape, deviceDims);
    const chunks = featureChunks(
      [this.stepProgram, this.evalProgram],
      input,
      rows!,
      numElements(rest),
      this.options.featureChunkBytes ?? this.backend.maxBindingBytes,
      inp.name,
      `${shapeToString(inp.shape)} = [${[rows, ...rest].join(", ")}]`,
    );
    return chunks && { ...chunks, input };
  }

  /** Uploads a [rows, …] matrix in chunks of `rowsPerChunk` rows, one buffer each. */
  private uploadRows(
    device: number[],
    rowsPerChunk: number,
    data: Float32Array | undefined,
    label: string,
    ex: Executor<H, K>,
  ): TensorRef<H> {
    const rowElements = numElements(device.slice(1));
    const r = ex.allocateRows(device[0]!, rowElements, rowsPerChunk, "graph", label);
    if (data && data.length > 0) ex.writeRows(r, data);
    return r;
  }

  unbind(): void {
    const b = this.bound;
    if (!b) return;
    [...b.data, b.valid, b.test].forEach((v) => b.step.release(v));
    b.step.releaseGraph();
    b.eval.releaseGraph();
    this.bound = undefined;
  }

  /**
   * Unbinds the data and gives back the parameters and optimizer state too: for a backend that
   * outlives the run (the playground keeps one for its compiled pipelines across runs).
   */
  release(): void {
    const ex = this.bound?.step;
    if (ex) {
      [...this.params, ...this.states, ...this.modelStates].forEach((v) => ex.release(v));
      this.params = [];
      this.states = [];
      this.modelStates = [];
    }
    this.unbind();
  }

  private get b(): Bound<H, K> {
    if (!this.bound) throw new Error("session: no dataset bound");
    return this.bound;
  }

  /** Shapes of the parameters under the bound data's sizes. */
  paramShapes(dims: DimBindings = this.b.dims): number[][] {
    return this.model.train.params.map((p) => evalShape(p.shape, dims));
  }

  /** Parameter shapes as the device holds them (padded dims rounded up). */
  private deviceParamShapes(): number[][] {
    return this.paramShapes(this.b.deviceDims);
  }

  /**
   * Uploads parameter values (and optimizer state; zeros when not given), in their declared
   * shapes: padded parameters get zero rows on the device.
   */
  setParameters(values: Float32Array[], states?: Float32Array[], modelStates?: Float32Array[]) {
    const ex = this.b.step;
    [...this.params, ...this.states, ...this.modelStates].forEach((v) => ex.release(v));
    this.uploadModelStates(modelStates);
    const declared = this.paramShapes();
    const device = this.deviceParamShapes();
    const onDevice = (a: Float32Array, i: number) => padArray(a, declared[i]!, device[i]!);
    values = values.map(onDevice);
    states = states?.map((a, j) => onDevice(a, j % Math.max(1, values.length)));
    this.params = values.map((a, i) =>
      this.upload(a.length, a, "parameters", this.model.train.params[i]!.name, ex),
    );
    const optimizer = optimizerNamed(this.options.optimizer.kind);
    this.states = [];
    optimizer.states.forEach((name, s) => {
      values.forEach((a, i) => {
        const given = states?.[s * values.length + i];
        const st = given ?? new Float32Array(a.length);
        this.states.push(
          this.upload(
            st.length,
            st,
            "optimizer",
            `${name}.${this.model.train.params[i]!.name}`,
            ex,
          ),
        );
      });
    });
    this.scalars ??= ex.allocate(optimizer.scalars.length, "workspace", "step_scalars");
    this.finite.allocate(ex);
  }

  /** Model-state shapes under the data's sizes (`dims`) or the device's (padded). */
  private modelStateShapes(dims: DimBindings): number[][] {
    return this.model.train.states.map((s) => evalShape(s.shape, dims));
  }

  private uploadModelStates(given?: Float32Array[]): void {
    const ex = this.b.step;
    const specs = this.model.train.states;
    const declared = this.modelStateShapes(this.b.dims);
    const device = this.modelStateShapes(this.b.deviceDims);
    const values = given ?? initModelStates(specs, this.b.dims);
    this.modelStates = values.map((a, i) => {
      const padded = padArray(a, declared[i]!, device[i]!);
      return this.upload(padded.length, padded, "parameters", `state.${specs[i]!.name}`, ex);
    });
  }

  /**
   * One optimizer step at optimizer time t (1-based): forward, backward, update in place.
   * Returns the training loss, read back together with the counts of non-finite values in the
   * updated parameters and optimizer state (the only synchronisation of a step); throws
   * NonFiniteStateError when there are any.
   */
  async step(lr: number, t: number, seed: number): Promise<number> {
    const b = this.b;
    const ex = b.step;
    this.backend.write(this.scalars!.buf.handle, stepScalars(this.options.optimizer, lr, t));
    const np = this.params.length;
    const scalarViews = Array.from({ length: this.scalars!.elements }, (_, i): View<H> => ({
      ...this.scalars!,
      offset: i,
      elements: 1,
    }));
    const nm = this.modelStates.length;
    const inputs: TensorRef<H>[] = [
      ...b.data,
      ...this.params,
      ...this.states,
      ...scalarViews,
      ...this.modelStates,
    ];
    // The step replaces parameters, optimizer and model states: their old buffers die in it.
    const trained = b.data.length + np + this.states.length;
    const consume = inputs.map(
      (_, i) => (i >= b.data.length && i < trained) || i >= inputs.length - nm,
    );
    const numOuts = 1 + np + this.states.length + nm;
    const outs = await ex.run(inputs, {
      seed,
      step: t,
      consume,
      outputCategory: (i) =>
        i === 0 ? "activations" : i <= np || i >= numOuts - nm ? "parameters" : "optimizer",
    });
    this.params = outs.slice(1, 1 + np) as View<H>[];
    this.states = outs.slice(1 + np, outs.length - nm) as View<H>[];
    this.modelStates = outs.slice(outs.length - nm) as View<H>[];
    const lossRef = outs[0]! as View<H>;
    const { loss, bad } = await this.finite.run(
      [...this.params, ...this.states, ...this.modelStates],
      lossRef,
    );
    ex.release(lossRef);
    if (bad.length > 0) throw new NonFiniteStateError(bad, t, loss);
    return loss;
  }

  /** Evaluates without dropout: losses on the training and validation nodes, and the correct
   *  counts (single-label) or the logits (multi-label). */
  async evaluate(): Promise<Evaluation> {
    const b = this.b;
    const outs = await b.eval.run(
      [...b.data, ...this.params, ...this.modelStates, b.valid, b.test],
      {
        seed: 0,
        step: 0,
      },
    );
    const values = await this.readInTurn(outs as View<H>[]);
    outs.forEach((r) => b.eval.release(r));
    const [loss, validLoss] = [values[0]![0]!, values[1]![0]!];
    if (this.evalGraph.outputs === "counts") {
      return { loss, validLoss, counts: [values[2]![0]!, values[3]![0]!, values[4]![0]!] };
    }
    return { loss, validLoss, logits: values[2]! };
  }

  /** Current parameter values and optimizer state, read back in their declared shapes (for
   *  checkpoints and comparisons with the interpreter). */
  async readState(): Promise<SessionState> {
    const declared = this.paramShapes();
    const device = this.deviceParamShapes();
    const np = Math.max(1, this.params.length);
    const crop = (a: Float32Array, i: number) => cropArray(a, declared[i % np]!, device[i % np]!);
    const stateDeclared = this.modelStateShapes(this.b.dims);
    const stateDevice = this.modelStateShapes(this.b.deviceDims);
    return {
      params: (await this.readInTurn(this.params)).map(crop),
      states: (await this.readInTurn(this.states)).map(crop),
      modelStates: (await this.readInTurn(this.modelStates)).map((a, i) =>
        cropArray(a, stateDeclared[i]!, stateDevice[i]!),
      ),
    };
  }

  /**
   * Reads tensors back one after another: each read holds a staging buffer until it is mapped, so
   * reads in parallel would hold one per tensor at once — device memory the plan (one read at a
   * time, dry-run backend) does not predict.
   */
  private async readInTurn(views: readonly View<H>[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const v of views)
      out.push(await this.backend.read(v.buf.handle, v.elements, v.offset * 4));
    return out;
  }
}
