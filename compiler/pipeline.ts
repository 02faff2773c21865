// The compiler's passes after the front end, in one ordered list, and the one driver that runs
// them. `train`, `plan`, `check`, the benchmark and `revgnn compile` all get their programs from
// here, so the kernels `compile --emit wgsl` writes are the kernels `train` dispatches for the
// same options (tests/cli/emit-matches-train.test.ts holds them to it).
//
//   front end (compile.ts: parse, check, lower; exact mode's grid)      → CompiledModel
//   model passes, once per model:  checkpoint-segmentation → training-step → evaluation → dead-code
//   graph passes, once per graph:  expand-reversible → hoist-invariants → codegen        → Program
//
// Diagnostic graphs (`revgnn check`'s gradients and drift measurement, tests) enter at the graph
// passes through `compileGraph`.
import { vjpGraph, type AdOptions } from "./autodiff/core.js";
import { segmentReversibleScans } from "./checkpointing.js";
import { expandRevBlocks } from "./codegen/expand.js";
import { hoistLoopInvariants } from "./hoist.js";
import { generateProgram, type CodegenOptions } from "./codegen/generate.js";
import type { CompiledModel } from "./compile.js";
import { eliminateDeadCode } from "./ir/dce.js";
import type { Graph } from "./ir/types.js";
import { describeOptimizer, type OptimizerConfig } from "./optimizers.js";
import { buildTrainingStep, evaluationGraph, type EvalGraph, type StepGraph } from "./training.js";
import type { Target } from "./target.js";
import type { Program } from "./contract.js";
import { featurePadding, type Padding } from "./padding.js";
import { sparseInputEligible } from "./codegen/sparse-input.js";

export interface PipelineOptions {
  optimizer: OptimizerConfig;
  /** Plain stored-activation backprop even for reversible loops. */
  storeActivations: boolean;
  /** Keep every k-th block's input of reversible loops. */
  checkpointEvery?: number;
  /** One kernel per op (exact mode: recomputation bitwise identical). */
  perOp?: boolean;
  target: Target;
  /** Bind the node features as a packed sparse matrix when the model allows it
   *  (codegen/sparse-input.ts): the session asks for it when the data is mostly zeros. */
  sparseFeatures?: boolean;
}

/** What the driver returns: the graphs (the session accounts memory on them) and the programs. */
export interface CompiledPrograms {
  stepGraph: StepGraph;
  evalGraph: EvalGraph;
  step: Program;
  eval: Program;
  /** Dims the device binds rounded up (the feature width; see padding.ts): data and parameters
   *  are laid out padded with zeros, and the kernels were generated knowing it. */
  padding: Padding;
  /** Whether the node features are read as a packed sparse matrix (asked for and possible). */
  sparseFeatures: boolean;
}

/** The state the model passes thread: filled in pass by pass. */
interface ModelState {
  model: CompiledModel;
  options: PipelineOptions;
  /** The forward graph the training step differentiates. */
  forward: Graph;
  stepGraph?: StepGraph;
  evalGraph?: EvalGraph;
}

/** The state of one graph through the graph passes. */
interface GraphState {
  graph: Graph;
  codegen: CodegenOptions;
  program?: Program;
}

interface Pass<S, O> {
  name: string;
  /** One line: what the pass does. */
  does: string;
  /** How the options configure it (printed by `revgnn compile --emit passes`). */
  setting(o: O): string;
  run(s: S): void;
}

const scanPolicy = (o: PipelineOptions): AdOptions => ({
  scanPolicy: o.storeActivations ? "store" : "auto",
});

function segment(g: Graph, every: number | undefined): Graph {
  return every ? segmentReversibleScans(g, every) : g;
}

/** Passes run once per model, in this order. */
export const MODEL_PASSES: readonly Pass<ModelState, PipelineOptions>[] = [
  {
    name: "checkpoint-segmentation",
    does: "splits each reversible loop of L blocks into L/k segments of k (stored segment inputs)",
    setting: (o) =>
      o.checkpointEvery ? `k = ${o.checkpointEvery}` : "off (no --checkpoint-every)",
    run: (s) => {
      s.forward = segment(s.forward, s.options.checkpointEvery);
    },
  },
  {
    name: "training-step",
    does: "forward + derived backward (autodiff; reversible loops rebuild their inputs) + optimizer update",
    setting: (o) => {
      const acts = o.storeActivations ? "stored activations" : "rebuilt activations";
      return `${describeOptimizer(o.optimizer)}; ${acts}`;
    },
    run: (s) => {
      const o = s.options;
      s.stepGraph = buildTrainingStep(s.model.train, s.forward, o.optimizer, scanPolicy(o));
    },
  },
  {
    name: "evaluation",
    does: "the dropout-free forward with train/valid losses and correct counts (or logits)",
    setting: () => "always",
    run: (s) => {
      s.evalGraph = evaluationGraph(s.model.eval);
    },
  },
  {
    name: "dead-code",
    does: "drops ops no output depends on (in the step and evaluation graphs)",
    setting: () => "always",
    run: (s) => {
      eliminateDeadCode(s.stepGraph!.graph);
      eliminateDeadCode(s.evalGraph!.graph);
    },
  },
];

/** The target as code generation reads it: the matmul templates and, on a CPU, row fusion. */
function describeTarget(o: CodegenOptions): string {
  const t = o.tuning;
  const tuning = !t
    ? "portable kernels (no adapter tuning)"
    : `${t.adapterClass === "cpu" ? "cpu" : "gpu"} tuning (matmul ${t.matmul.variant} ` +
      `${t.matmul.nn.workgroupSize}×${t.matmul.nn.rows}×${t.matmul.nn.cols}, ` +
      `subgroup ${t.subgroupSize ?? "none"})`;
  const padded = [...(o.padding ?? new Map())].map(
    ([d, k]) => `; ${d} padded to a multiple of ${k}`,
  );
  const sparse = o.sparseInput ? `; ${o.sparseInput.dim}-wide node features read sparse` : "";
  const immediates = o.immediateBytes
    ? `; parameter blocks ≤ ${o.immediateBytes} bytes as immediates`
    : "";
  return `${o.perOp ? "one kernel per op" : "fused"}; ${tuning}; ≤ ${o.maxStorageBuffers ?? 8} storage buffers per kernel${immediates}${padded.join("")}${sparse}`;
}

/** Passes run once per graph (the step, the evaluation, a diagnostic graph), in this order. */
export const GRAPH_PASSES: readonly Pass<GraphState, CodegenOptions>[] = [
  {
    name: "expand-reversible",
    does: "replaces each rev_block by its update statements (scans and fixpoints stay loops)",
    setting: () => "always",
    run: (s) => {
      s.graph = expandRevBlocks(s.graph);
    },
  },
  {
    name: "hoist-invariants",
    does: "computes what a loop body derives from the graph alone (deg^-1/2) once, before the loop",
    setting: () => "always",
    run: (s) => {
      s.graph = hoistLoopInvariants(s.graph);
    },
  },
  {
    name: "codegen",
    does: "partitions values into buffers, fuses elementwise chains, emits WGSL kernels and the schedule",
    setting: describeTarget,
    run: (s) => {
      s.program = generateProgram(s.graph, s.codegen);
    },
  },
];

function codegenOptions(
  perOp: boolean | undefined,
  target: Target,
  padding?: Padding,
): CodegenOptions {
  return {
    perOp,
    tuning: target.tuning,
    maxStorageBuffers: target.maxStorageBuffers,
    immediateBytes: target.immediateBytes,
    padding,
  };
}

/** The graph passes over one graph: its kernels and schedule. */
export function compileGraph(g: Graph, options: CodegenOptions = {}): Program {
  const s: GraphState = { graph: g, codegen: options };
  for (const pass of GRAPH_PASSES) pass.run(s);
  return s.program!;
}

/**
 * The model passes, in order: the training-step and evaluation graphs a run executes. The
 * interpreter backend (`train --backend interpreter`) runs these graphs as they are; the device
 * compiles them further (compileProgram).
 */
export function compileGraphs(
  model: CompiledModel,
  options: PipelineOptions,
): { stepGraph: StepGraph; evalGraph: EvalGraph } {
  const s: ModelState = { model, options, forward: model.train.graph };
  for (const pass of MODEL_PASSES) pass.run(s);
  return { stepGraph: s.stepGraph!, evalGraph: s.evalGraph! };
}

/** The driver: every pass, in order, for a compiled model; the programs a training run executes. */
export function compileProgram(model: CompiledModel, options: PipelineOptions): CompiledPrograms {
  const { stepGraph, evalGraph } = compileGraphs(model, options);
  const codegen = inputCodegen(model, options, [stepGraph.graph, evalGraph.graph]);
  const padding = codegen.padding ?? new Map<string, number>();
  const sparse = codegen.sparseInput;
  return {
    stepGraph,
    evalGraph,
    step: compileGraph(stepGraph.graph, codegen),
    eval: compileGraph(evalGraph.graph, codegen),
    padding,
    sparseFeatures: sparse !== undefined,
  };
}

/** Code generation options with the input layout: sparse features (asked for and possible) or
 *  the feature width padded (see padding.ts). */
function inputCodegen(
  model: CompiledModel,
  options: PipelineOptions,
  graphs: Graph[],
): CodegenOptions {
  const sparse = options.sparseFeatures ? sparseFeatureInput(model, graphs) : undefined;
  // Sparse features have no dense columns to pad: the padding is for the dense vec4 path.
  const padding = sparse ? new Map<string, number>() : featurePadding(model, options.optimizer);
  return { ...codegenOptions(options.perOp, options.target, padding), sparseInput: sparse };
}

/** The node feature input, when every graph reads it only through the sparse kernel's products. */
function sparseFeatureInput(
  model: CompiledModel,
  graphs: Graph[],
): { index: number; dim: string } | undefined {
  const index = model.train.inputs.findIndex((i) => i.role === "features");
  const dim = model.train.inputs[index]?.shape[1];
  if (index < 0 || typeof dim !== "string" || dim === "N" || dim === "E") return undefined;
  const eligible = graphs.every((g) => sparseInputEligible(g, g.inputs[index]!));
  return eligible ? { index, dim } : undefined;
}

/** The pass list with the options applied, one line a pass (`revgnn compile --emit passes`). */
export function printPasses(options: PipelineOptions, model?: CompiledModel): string {
  const codegen = model
    ? inputCodegen(
        model,
        options,
        Object.values(compileGraphs(model, options)).map((g) => g.graph),
      )
    : codegenOptions(options.perOp, options.target);
  const rows = [
    ...MODEL_PASSES.map((p) => ({ p, setting: p.setting(options), scope: "model" })),
    ...GRAPH_PASSES.map((p) => ({ p, setting: p.setting(codegen), scope: "graph" })),
  ];
  const width = Math.max(...rows.map((r) => r.p.name.length));
  const lines = rows.map(
    ({ p, setting, scope }, i) =>
      `${String(i + 1).padStart(2)}. ${p.name.padEnd(width)}  [${scope}] ${p.does} — ${setting}`,
  );
  return (
    "front end: parse → check → lower (compile.ts)\n" +
    lines.join("\n") +
    "\n[model]: once per model; [graph]: once for the step and once for the evaluation graph\n"
  );
}

/**
 * The loss gradients of a model with respect to its parameters (`revgnn check`): the same
 * segmentation and autodiff as the training step, without the optimizer. Compile the result
 * with `compileGraph`.
 */
export function gradientGraph(
  model: CompiledModel,
  o: { checkpointEvery?: number; storeActivations: boolean },
): Graph {
  const m = model.train;
  const g = segment(m.graph, o.checkpointEvery);
  const lossOnly = { ...g, outputs: [g.outputs[0]!] } as Graph;
  return vjpGraph(
    lossOnly,
    m.params.map((_, i) => m.inputs.length + i),
    { scanPolicy: o.storeActivations ? "store" : "auto" },
  );
}
