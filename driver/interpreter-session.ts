// `--backend interpreter`: a training session on the float64 reference interpreter instead of
// WGSL kernels. It runs the training-step and evaluation graphs of the one compiler pipeline
// (compileGraphs: the same segmentation, autodiff, optimizer and evaluation passes as the device),
// so a run differs from the GPU's only by float64 against float32 arithmetic. No shader is
// compiled: an idea is tried in seconds on a small graph, and a kernel is debugged against it.
import type { CompiledModel } from "../compiler/compile.js";
import { evalShape, numElements, type DimBindings } from "../compiler/ir/dims.js";
import { graphView, interpret } from "../compiler/ir/interp.js";
import type { GraphView } from "../compiler/ir/op-def.js";
import { fixpointAttrs, isFixpoint, isScan } from "../compiler/ir/ops/control.js";
import { getOp } from "../compiler/ir/registry.js";
import { tensor, type Tensor } from "../compiler/ir/tensor.js";
import type { Graph } from "../compiler/ir/types.js";
import { compileGraphs } from "../compiler/pipeline.js";
import { optimizerNamed, stepScalars } from "../compiler/optimizers.js";
import type { EvalGraph, StepGraph } from "../compiler/training.js";
import type { Dataset } from "../runtime/data/types.js";
import { stateTensorNames } from "./checkpoint.js";
import { initModelStates } from "./init.js";
import { NonFiniteStateError, type NonFiniteTensor } from "./finite.js";
import {
  bindDims,
  dataArrays,
  targetRowCount,
  type Evaluation,
  type FixpointStat,
  type SessionOptions,
  type SessionState,
  type TrainingSession,
} from "./session.js";

export class InterpreterLimitError extends Error {}

/**
 * Scalar operations one run of a graph costs, roughly: every op touches its largest operand once
 * (a matmul once per output column), loops multiply their body by their count and fixpoints by
 * their iteration limit. It decides whether the interpreter can run a step in reasonable time.
 */
export function interpreterWork(g: Graph, dims: DimBindings): number {
  let work = 0;
  for (const op of g.ops) {
    const sizes = [...op.inputs, ...op.outputs].map((v) => numElements(evalShape(v.shape, dims)));
    const touched = Math.max(0, ...sizes);
    if (getOp(op.opcode).lowering.kind === "matmul") {
      const out = evalShape(op.outputs[0]!.shape, dims);
      work += numElements(evalShape(op.inputs[0]!.shape, dims)) * (out[out.length - 1] ?? 1);
    } else work += touched;
    const times = isScan(op)
      ? (op.attrs.count as number)
      : isFixpoint(op)
        ? fixpointAttrs(op.attrs).maxIter
        : 1;
    for (const r of op.regions) work += times * interpreterWork(r, dims);
  }
  return work;
}

/** Above this a training step in the interpreter takes over half a minute: it runs about 3·10⁶ of
 *  these operations a second (RevGCN, N = 200, D = 16, L = 4: 2.6·10⁶ a step, 0.8 s). A
 *  default RevGCN on Cora costs 6·10⁸ (minutes a step) and is refused. */
export const INTERPRETER_WORK_LIMIT = 1e8;

/** Refuses a graph the interpreter would take minutes over, saying what to shrink. */
export function checkInterpretable(g: Graph, dims: DimBindings, limit = INTERPRETER_WORK_LIMIT) {
  const work = interpreterWork(g, dims);
  if (work > limit) {
    const sizes = Object.entries(dims)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    throw new InterpreterLimitError(
      `--backend interpreter: a training step here (${sizes}) costs about ${work.toExponential(1)} ` +
        `scalar operations, over the interpreter's limit of ${limit.toExponential(0)} (a step would take minutes in float64 on the CPU); ` +
        `use a smaller graph (e.g. --data synthetic:200:800:16:4) or smaller sizes (--set D=…, L=…), ` +
        `or the GPU backend`,
    );
  }
}

const toF32 = (t: Tensor) => Float32Array.from(t.data);

function nonFinite(name: string, t: Tensor): NonFiniteTensor | undefined {
  let nan = 0;
  let inf = 0;
  for (const x of t.data) {
    if (Number.isNaN(x)) nan++;
    else if (!Number.isFinite(x)) inf++;
  }
  return nan + inf > 0 ? { name, nan, inf, elements: t.data.length } : undefined;
}

interface Bound {
  dims: DimBindings;
  view: GraphView;
  data: Tensor[];
  valid: Tensor;
  test: Tensor;
}

export class InterpreterSession implements TrainingSession {
  readonly stepGraph: StepGraph;
  readonly evalGraph: EvalGraph;
  readonly dispatches = 0;
  readonly fixpoints: { step: FixpointStat[]; eval: FixpointStat[] } = { step: [], eval: [] };
  private params: Tensor[] = [];
  private states: Tensor[] = [];
  /** The model's `state` tensors (running statistics): read by both graphs, written by the step. */
  private modelStates: Tensor[] = [];
  private bound?: Bound;
  private readonly stateNames: string[];

  constructor(
    readonly model: CompiledModel,
    readonly options: SessionOptions,
  ) {
    // The pipeline's model passes; the device's further passes only turn these into kernels.
    const g = compileGraphs(model, { ...options, target: {} });
    this.stepGraph = g.stepGraph;
    this.evalGraph = g.evalGraph;
    this.stateNames = [
      ...model.train.params.map((p) => p.name),
      ...stateTensorNames(model.train.params, options.optimizer),
      ...model.train.states.map((s) => s.name),
    ];
  }

  get dims(): DimBindings | undefined {
    return this.bound?.dims;
  }

  bind(ds: Dataset): Promise<void> {
    const dims = bindDims(this.model.train.inputs, ds);
    checkInterpretable(this.stepGraph.graph, dims);
    const inputs = this.stepGraph.graph.inputs;
    const data = dataArrays(this.model.train.inputs, ds).map((a, i) =>
      tensor(evalShape(inputs[i]!.shape, dims), a),
    );
    const n = targetRowCount(ds);
    const mask = (idx: Uint32Array) => {
      const m = tensor([n, 1]);
      for (const i of idx) m.data[i] = 1;
      return m;
    };
    this.bound = {
      dims,
      view: graphView(ds.graph),
      data,
      valid: mask(ds.split.valid),
      test: mask(ds.split.test),
    };
    return Promise.resolve();
  }

  unbind(): void {
    this.bound = undefined;
  }

  private get b(): Bound {
    if (!this.bound) throw new Error("interpreter session: no dataset bound");
    return this.bound;
  }

  paramShapes(dims: DimBindings = this.b.dims): number[][] {
    return this.model.train.params.map((p) => evalShape(p.shape, dims));
  }

  setParameters(values: Float32Array[], states?: Float32Array[], modelStates?: Float32Array[]) {
    const shapes = this.paramShapes();
    this.params = values.map((a, i) => tensor(shapes[i]!, a));
    const specs = this.model.train.states;
    const initial = modelStates ?? initModelStates(specs, this.b.dims);
    this.modelStates = specs.map((s, i) => tensor(evalShape(s.shape, this.b.dims), initial[i]));
    const k = optimizerNamed(this.options.optimizer.kind).states.length;
    this.states = [];
    for (let s = 0; s < k; s++)
      shapes.forEach((shape, i) =>
        this.states.push(tensor(shape, states?.[s * values.length + i])),
      );
  }

  private run(g: Graph, inputs: Tensor[], seed: number, step: number, into: FixpointStat[]) {
    into.length = 0;
    return interpret(g, inputs, {
      dims: this.b.dims,
      graph: this.b.view,
      seed,
      step,
      record: (tag, d) => into.push({ tag, iterations: d.iterations!, residual: d.residual! }),
    });
  }

  step(lr: number, t: number, seed: number): Promise<number> {
    const b = this.b;
    const scalars = [...stepScalars(this.options.optimizer, lr, t)].map((x) => tensor([], [x]));
    const outs = this.run(
      this.stepGraph.graph,
      [...b.data, ...this.params, ...this.states, ...scalars, ...this.modelStates],
      seed,
      t,
      this.fixpoints.step,
    );
    const np = this.params.length;
    const nm = this.modelStates.length;
    this.params = outs.slice(1, 1 + np);
    this.states = outs.slice(1 + np, outs.length - nm);
    this.modelStates = outs.slice(outs.length - nm);
    const loss = outs[0]!.data[0]!;
    const bad = [...this.params, ...this.states, ...this.modelStates]
      .map((x, i) => nonFinite(this.stateNames[i]!, x))
      .filter((x): x is NonFiniteTensor => x !== undefined);
    if (bad.length > 0) return Promise.reject(new NonFiniteStateError(bad, t, loss));
    return Promise.resolve(loss);
  }

  evaluate(): Promise<Evaluation> {
    const b = this.b;
    const v = this.run(
      this.evalGraph.graph,
      [...b.data, ...this.params, ...this.modelStates, b.valid, b.test],
      0,
      0,
      this.fixpoints.eval,
    );
    const [loss, validLoss] = [v[0]!.data[0]!, v[1]!.data[0]!];
    if (this.evalGraph.outputs === "counts")
      return Promise.resolve({
        loss,
        validLoss,
        counts: [v[2]!.data[0]!, v[3]!.data[0]!, v[4]!.data[0]!],
      });
    return Promise.resolve({ loss, validLoss, logits: toF32(v[2]!) });
  }

  /** Rounded to float32: checkpoints hold float32 (resuming in the interpreter is therefore not
   *  bit for bit, unlike on the device). */
  readState(): Promise<SessionState> {
    return Promise.resolve({
      params: this.params.map(toF32),
      states: this.states.map(toF32),
      modelStates: this.modelStates.map(toF32),
    });
  }
}
