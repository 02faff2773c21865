// The shape of a benchmark result set: what bench/results/<date>-<machine>.json holds and what
// the markdown summary and the plots are rendered from. Every number in it was measured in the
// run that wrote it, except those under a `planned` key or a row whose source is "planned"
// (the static memory plan: a dry run of the same allocation sequence, no GPU work).
import type { CategoryPlan } from "../driver/plan.js";

/** Median and spread of repeated measurements (seconds unless said otherwise). */
export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  /** Quartiles (linear interpolation); equal to the median when n < 3. */
  q1: number;
  q3: number;
}

export interface MachineInfo {
  /** Short slug used in file names: adapter + CPU + cores. */
  slug: string;
  adapter: string;
  adapterClass: string;
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

export type ModelName = "RevGCN" | "ResGCN";

export interface DatasetInfo {
  key: string;
  name: string;
  source: string;
  nodes: number;
  /** Directed edges after symmetrisation. */
  edges: number;
  features: number;
  classes: number;
  /** Hidden channels used for this dataset. */
  D: number;
}

/** One (dataset, model, L) point of the depth sweep. */
export interface DepthPoint {
  dataset: string;
  model: ModelName;
  L: number;
  /**
   * measured: a real training step + evaluation ran; planned: only the static plan (the real step
   * was predicted to exceed the time budget); no-fit: the plan exceeds this machine's memory
   * budget or the adapter's limits; failed: the real run threw.
   */
  status: "measured" | "planned" | "no-fit" | "failed";
  reason?: string;
  /** Peak bytes by category: measured when status is measured, else the plan (if any). */
  memory?: CategoryPlan;
  /** The static plan for the same configuration (always computed when it fits the limits). */
  plan?: CategoryPlan;
  /** Seconds per training step over the timed repetitions (after a warm-up step). */
  step?: Spread;
  /** The first step (warm-up, also the one the memory peak is taken over). */
  firstStepSeconds?: number;
  evalSeconds?: number;
  dispatchesPerStep?: number;
  /** Training losses of the steps run (a sanity check: finite). */
  losses?: number[];
  /** Evaluation loss at initialisation (only where the PyTorch comparison needs it). */
  initEvalLoss?: number;
  /** Predicted seconds of one step, from shallower measured points (why it was skipped). */
  predictedStepSeconds?: number;
}

export interface DepthSection {
  datasets: DatasetInfo[];
  depths: number[];
  points: DepthPoint[];
  /** Deepest ResGCN (and RevGCN) whose plan fits the memory budget, per dataset (binary search). */
  maxDepth: { dataset: string; model: ModelName; L: number; limit: string; planned: true }[];
  memoryBudgetBytes: number;
  stepBudgetSeconds: number;
}

export interface TorchPoint {
  dataset: string;
  model: ModelName;
  L: number;
  status: "measured" | "skipped" | "failed";
  reason?: string;
  step?: Spread;
  /**
   * Our step timed in alternation with these (ours, theirs, theirs, ours, …): the ratio's
   * numerator. The depth section's own timing of the configuration was minutes earlier.
   */
  ours?: Spread;
  firstStepSeconds?: number;
  /** Peak RSS increase over the first training step (see bench/torch/revgnn_torch.py). */
  stepPeakDelta?: number;
  /** Bytes of the tensors alive before the step: graph, features, labels, parameters. */
  staticBytes?: number;
  initEvalLoss?: number;
  /** Ours, from the same configuration's depth point: |ours − torch| at initialisation. */
  initEvalLossDiff?: number;
  losses?: number[];
}

export interface TorchSection {
  available: boolean;
  note: string;
  python?: string;
  torch?: string;
  threads?: number;
  blas?: string;
  /** Largest relative difference of RevStack's gradients from plain autograd (float64, small graph). */
  gradientSelfCheck?: number;
  points: TorchPoint[];
}

export interface KernelSection {
  status: "measured" | "skipped" | "failed";
  note: string;
  file?: string;
  seconds?: number;
  /** Rows as bench/kernels.ts writes them (name, shape, median, gflops, gbps, numpy…). */
  rows?: Record<string, unknown>[];
  dispatch?: Record<string, unknown>;
}

export interface CompilePoint {
  L: number;
  /** Source → checked, lowered model (compileFile). */
  frontend: Spread;
  /** Training-step and evaluation graphs, autodiff, kernel generation (the Session's part). */
  codegen: Spread;
  stepKernels: number;
  evalKernels: number;
}

export interface CompileSection {
  model: string;
  points: CompilePoint[];
}

export interface ScaleCandidate {
  nodes: number;
  edges: number;
  partitions: number;
  /**
   * trainer: what `revgnn train --partitions P` does (a step per part, then an evaluation of the
   * whole graph); part: one part's step and evaluation only (what a per-part evaluation would need).
   */
  scope: "trainer" | "part";
  fits: boolean;
  reason?: string;
  planned?: CategoryPlan;
}

export interface ScaleSection {
  L: number;
  D: number;
  density: string;
  memoryBudgetBytes: number;
  candidates: ScaleCandidate[];
  /** Largest fitting candidate per (partitions, scope). */
  largest: ScaleCandidate[];
  /** The real step that confirms the largest full-batch graph. */
  confirmed?: {
    nodes: number;
    edges: number;
    L: number;
    status: "measured" | "failed" | "skipped";
    reason?: string;
    memory?: CategoryPlan;
    plan?: CategoryPlan;
    stepSeconds?: number;
    loss?: number;
  };
}

/** One parameter tensor's (or the loss's) error against the float64 PyTorch reference. */
export interface TensorError {
  tensor: string;
  /** max |got − ref| / max |ref| (0 when both are all zeros, Infinity when only ref is). */
  error: number;
  maxAbsDiff: number;
  maxRef: number;
  /** revgnn only: the relative error that reading the gradient back as (p0 − p1)/lr allows. */
  floor?: number;
}

/** One (model, graph, schedule) of the gradient cross-check. */
export interface CrosscheckRow {
  model: ModelName;
  /** "cora" or a degenerateDataset kind. */
  dataset: string;
  /**
   * reversible: revgnn's default training step (inputs rebuilt by the derived inverse); stored:
   * revgnn with --store-activations; torch-*: PyTorch in float32 (plain autograd, or RevStack's
   * inverse + re-forward), for scale.
   */
  schedule: "reversible" | "stored" | "torch-autograd-f32" | "torch-revstack-f32";
  loss: { got: number; ref: number; error: number };
  tensors: TensorError[];
}

export interface CrosscheckSection {
  available: boolean;
  note: string;
  python?: string;
  torch?: string;
  /** The verdict's bound on every tensor's relative error. */
  threshold: number;
  seed: number;
  /** The SGD learning rate of the step the gradient is read from (a power of two). */
  lr: number;
  models: { model: ModelName; file: string; hypers: Record<string, number | boolean> }[];
  datasets: {
    key: string;
    description: string;
    nodes: number;
    edges: number;
    features: number;
    classes: number;
    train: number;
  }[];
  rows: CrosscheckRow[];
  /** Configurations that could not be compared, and why. */
  failures: { model: ModelName; dataset: string; schedule?: string; reason: string }[];
  seconds: number;
}

/** One `[timing]` line of a run: when a phase ended, in ms since the child process started. */
export interface PhaseMark {
  name: string;
  atMs: number;
  /** Since the previous mark (or the process start). */
  tookMs: number;
}

/** One run of the CLI as a child process (bench/sections/startup.ts). */
export interface StartRun {
  /** cold: an empty Mesa shader cache; warm: the same cache afterwards; default: `npm start`'s run, warm. */
  kind: "cold" | "warm" | "default";
  epochs: number | "default";
  status: "ok" | "failed";
  reason?: string;
  /** The whole command, spawn to exit, as the parent saw it. */
  wallSeconds: number;
  /** User + system of the child and its threads (Linux only). */
  cpuSeconds?: number;
  /** The "first step" mark: seconds from the child's start to its first training step done. */
  firstStepSeconds?: number;
  phases: PhaseMark[];
  /** The machine's 1-minute load average just before and just after the run. */
  load: { before: number; after: number };
}

export interface StartTarget {
  name: string;
  /** "≤": at most the limit; "<": under it (the "under 60 s"). */
  comparison: "≤" | "<";
  limitSeconds: number;
  valueSeconds?: number;
  pass?: boolean;
}

export interface StartSection {
  status: "measured" | "failed" | "skipped";
  note: string;
  /** The 1-epoch command line (the default run drops --epochs 1 --quiet). */
  command: string;
  runs: StartRun[];
  /** Over the warm 1-epoch runs that succeeded. */
  warm: { firstStep?: Spread; wall?: Spread; cpu?: Spread };
  targets: StartTarget[];
}

export interface SuiteResult {
  version: 1;
  quick: boolean;
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  depth?: DepthSection;
  torch?: TorchSection;
  kernels?: KernelSection;
  compile?: CompileSection;
  scale?: ScaleSection;
  crosscheck?: CrosscheckSection;
  start?: StartSection;
  /** Things that went wrong or were cut, in words. */
  notes: string[];
}
