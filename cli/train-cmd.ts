// `revgnn train` and `revgnn plan`.
import cliProgress from "cli-progress";
import { compileFile, expectModel, type CompiledModel } from "../compiler/compile.js";
import {
  defaultOptimizer,
  defaultWeightDecay,
  optimizerNamed,
  type OptimizerKind,
} from "../compiler/optimizers.js";
import { loadDataset } from "../runtime/data/load.js";
import type { Dataset } from "../runtime/data/types.js";
import { acquireGpu } from "../runtime/gpu/device.js";
import { GpuBackend } from "../runtime/exec/backend.js";
import { MEMORY_CATEGORIES, poolLimitsOf } from "../runtime/gpu/memory.js";
import { planDims, planLayout, planMemory, type CategoryPlan } from "../driver/plan.js";
import type { FeatureChunks } from "../driver/feature-chunks.js";
import { bindDims } from "../driver/session.js";
import { immediateBytesFor, nominalTarget } from "../compiler/target.js";
import {
  DEFAULT_DRIFT_EVERY,
  DEFAULT_DRIFT_THRESHOLD,
  median,
  train,
  trainInterpreted,
  type InterpretedResult,
  type Progress,
  type TrainOptions,
  type TrainResult,
} from "../driver/trainer.js";
import type { EpochLog, FixpointSummary } from "../driver/run-log.js";
import { isReversibleScan } from "../compiler/drift.js";
import { interpreterRunner } from "../driver/graph-runner.js";
import { writeFileAtomic } from "../runtime/util/atomic-write.js";
import { UsageError } from "./errors.js";
import { exactJson, exactReport, startingParams } from "./exact-report.js";
import { checkOutputPaths } from "./output-paths.js";
import { compileProgress } from "./compile-progress.js";
import { checkSyntheticFits, syntheticDims } from "../driver/limits.js";
import { profileOptions, printProfile, profileJson } from "./profile-output.js";
import { formatDiagnostics } from "../grammar/diagnostics.js";
import { loopsKeepingActivations, storedLoopDiagnostic } from "../compiler/stored-loops.js";
import { markPhase } from "../runtime/util/phases.js";

export interface TrainCommandOptions {
  data: string;
  split?: string;
  set: Record<string, string>;
  model?: string;
  epochs: number;
  /** The optimizer's default learning rate when not given. */
  lr?: number;
  optimizer: OptimizerKind;
  weightDecay?: number;
  seed: number;
  partitions: number;
  evalEvery: number;
  save?: string;
  initSave?: string;
  resume?: string;
  report?: string;
  storeActivations: boolean;
  /** Bind the node features dense even when they are sparse (`--dense-features`). */
  denseFeatures?: boolean;
  quiet?: boolean;
  checkpointEvery?: number;
  /** Fixed-point bits of exact mode (`--exact [bits]`), or false. */
  exact?: number | boolean;
  drift?: boolean;
  /** Time every kernel of a few steps (`--profile`, `--profile-steps`). */
  profile?: boolean;
  profileSteps?: number;
  /** Loops that would keep their activations are errors. */
  requireReversible?: boolean;
  /** Relative error of a rebuilt stack input above which the run warns. */
  driftThreshold?: number;
  /** WGSL kernels on the GPU (default) or the float64 reference interpreter. */
  backend?: "gpu" | "interpreter";
}

/** `--require-reversible` asks for rebuilt activations; `--store-activations` for stored ones. */
export function refuseContradiction(o: {
  requireReversible?: boolean;
  storeActivations?: boolean;
}): void {
  if (o.requireReversible && o.storeActivations)
    throw new UsageError(
      "--require-reversible and --store-activations contradict each other: choose one",
    );
}

/**
 * Says, once, located at the `repeat`, which loops will keep their activations and why: a loop
 * that cannot run reversibly is trained with stored activations, and that must not be silent.
 */
export function announceStoredLoops(model: CompiledModel): void {
  const loops = loopsKeepingActivations(model.train.graph);
  if (loops.length === 0) return;
  const sources = new Map([[model.source.file, model.source.text]]);
  console.error(
    formatDiagnostics(
      loops.map((l) => storedLoopDiagnostic(l, false)),
      sources,
    ),
  );
}

/** Compiles the model a run trains, in exact mode when asked; says which loops keep activations
 *  (an error under `--require-reversible`). */
export function compileForRun(
  file: string,
  o: {
    set: Record<string, string>;
    model?: string;
    exact?: number | boolean;
    requireReversible?: boolean;
    storeActivations?: boolean;
  },
): { bits: number | undefined; model: CompiledModel } {
  refuseContradiction(o);
  const bits = exactBits(o.exact);
  const model = expectModel(
    compileFile(file, {
      set: o.set,
      model: o.model,
      exact: bits !== undefined ? { bits } : undefined,
      requireReversible: o.requireReversible,
    }),
  );
  // Under --store-activations every loop stores by request: nothing to say.
  if (!o.storeActivations) announceStoredLoops(model);
  return { bits, model };
}

/** `--exact` alone means 14 fractional bits: a grid of 2^-14 ≈ 6.1e-5 and a range of ±1024 (a
 *  1000-block RevGCN on Cora reaches 370; 16 bits, ±256, overflowed there). */
export function exactBits(exact: number | boolean | undefined): number | undefined {
  if (exact === undefined || exact === false) return undefined;
  const bits = exact === true ? 14 : exact;
  if (!Number.isInteger(bits) || bits < 0 || bits > 23)
    throw new UsageError("--exact takes 0 to 23 fractional bits");
  return bits;
}

const pct = (x: number | undefined) =>
  x === undefined || Number.isNaN(x) ? "  —  " : `${(100 * x).toFixed(2)}%`;

/** The fixpoint (DEQ) solves of an epoch, for the progress line: `deq fwd 23 it 8.1e-6 bwd …`. */
export function fixpointText(e: EpochLog): string {
  const f = e.fixpoints;
  if (!f) return "";
  const one = (name: string, s: FixpointSummary | undefined) =>
    s ? ` ${name} ${s.iterations} it ${s.residual.toExponential(1)}` : "";
  return `deq${one("fwd", f.forward)}${one("bwd", f.backward)}`;
}

function progressFor(quiet: boolean, metric: string): Progress {
  if (quiet) return { start() {}, epoch() {}, message: (m) => console.error(m), stop() {} };
  if (process.stderr.isTTY) {
    const bars = new cliProgress.MultiBar(
      {
        format:
          "epoch {value}/{total} [{bar}] loss {loss} | valid {valid} test {test} | best {best} @{bestEpoch} | ETA {eta_formatted} {deq}",
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let bar: cliProgress.SingleBar | undefined;
    return {
      start: (total, first) => {
        bar = bars.create(total, first - 1, {
          loss: "—",
          valid: "—",
          test: "—",
          best: "—",
          bestEpoch: "—",
          deq: "",
        });
      },
      epoch: (e, best) =>
        bar?.update(e.epoch, {
          loss: e.loss.toFixed(4),
          ...(e.valid !== undefined ? { valid: pct(e.valid), test: pct(e.test) } : {}),
          best: pct(best?.test),
          bestEpoch: best?.epoch ?? "—",
          deq: fixpointText(e),
        }),
      message: (m) => bars.log(m + "\n"),
      stop: () => bars.stop(),
    };
  }
  return {
    start: (total, first) =>
      console.error(`training epochs ${first}..${total} (${metric} on valid/test)`),
    epoch: (e, best) => {
      if (e.valid === undefined) return;
      console.error(
        `epoch ${e.epoch}  loss ${e.loss.toFixed(4)}  train ${pct(e.train)}  valid ${pct(e.valid)}  test ${pct(e.test)}  ` +
          `best test ${pct(best?.test)} @${best?.epoch}  ${e.seconds.toFixed(2)}s` +
          (e.fixpoints ? `  ${fixpointText(e)}` : ""),
      );
    },
    message: (m) => console.error(m),
    stop() {},
  };
}

function formatBytes(b: number): string {
  if (b >= 1 << 30) return `${(b / (1 << 30)).toFixed(2)} GiB`;
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(2)} MiB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`;
  return `${b} B`;
}

export function memoryTable(rows: Record<string, CategoryPlan>): string {
  const cols = Object.keys(rows);
  const cats = [...MEMORY_CATEGORIES, "total"] as const;
  const lines = [`${"category".padEnd(12)}${cols.map((c) => c.padStart(14)).join("")}`];
  for (const cat of cats)
    lines.push(
      `${cat.padEnd(12)}${cols.map((c) => formatBytes(rows[c]![cat]).padStart(14)).join("")}`,
    );
  return lines.join("\n");
}

export function loadData(o: { data: string; split?: string }): Promise<Dataset> {
  return loadDataset(o.data, o.split ? { split: o.split } : {});
}

export async function trainCommand(file: string, o: TrainCommandOptions): Promise<number> {
  markPhase("command's modules loaded");
  if (!(o.epochs >= 1)) throw new UsageError("--epochs must be at least 1");
  if (!(o.partitions >= 1)) throw new UsageError("--partitions must be at least 1");
  if (!(o.evalEvery >= 1)) throw new UsageError("--eval-every must be at least 1");
  const interpreted = o.backend === "interpreter";
  if (interpreted && o.exact !== undefined && o.exact !== false)
    throw new UsageError(
      "--exact needs the GPU backend (its grid report and one-kernel-per-op schedule are the device's); " +
        "the interpreter computes in float64",
    );
  checkOutputPaths(
    [
      { option: "--init-save", path: o.initSave },
      { option: "--save", path: o.save },
      { option: "--report", path: o.report },
    ],
    [{ option: "the model's source file", path: file }],
  );
  // The device opens and a dataset directory is read while the model compiles (Dawn's threads
  // and file reads run beside the compiler): 0.1 s of a warm start. A synthetic graph is
  // generated only after the check that it fits the device.
  const gpu = interpreted ? undefined : acquireGpu();
  const synthetic = o.data.startsWith("synthetic:");
  const files = synthetic ? undefined : loadData(o);
  // Awaited below, unless compiling fails first: then its error is the one to report.
  void gpu?.catch(() => undefined);
  void files?.catch(() => undefined);
  const { bits, model } = compileForRun(file, o);
  markPhase("model compiled");
  const ctx = await gpu;
  markPhase("device opened");
  const optimizer = defaultOptimizer(o.optimizer, o.weightDecay ?? defaultWeightDecay(o.optimizer));
  const planOptions = ctx && {
    optimizer,
    storeActivations: o.storeActivations,
    partitions: o.partitions,
    maxBindingBytes: ctx.limits.maxStorageBufferBindingSize,
    maxBufferBytes: ctx.limits.maxBufferSize,
    tuning: ctx.tuning,
    maxStorageBuffers: ctx.limits.maxStorageBuffersPerShaderStage,
    immediateBytes: immediateBytesFor(ctx.tuning, ctx.limits),
    checkpointEvery: o.checkpointEvery,
    perOp: bits !== undefined,
    denseFeatures: o.denseFeatures,
  };
  if (ctx) {
    ctx.onCompileProgress = compileProgress(!!o.quiet);
    // A synthetic graph too big for this device is refused before it is generated: its data
    // inputs first, then (dense features can go in row chunks, so x no longer bounds N) every
    // tensor of a step and an evaluation, from the plan of the spec's sizes.
    if (synthetic) {
      checkSyntheticFits(model, o.data, poolLimitsOf(ctx.limits));
      await planMemory(model, syntheticDims(model, o.data), planOptions!);
    }
  }
  const ds = await (files ?? loadData(o));
  markPhase("data loaded");
  if (o.partitions > ds.graph.numNodes)
    throw new UsageError(
      `--partitions ${o.partitions} is more than the ${ds.graph.numNodes} nodes of ${ds.name}; ` +
        `every part needs a node: use at most ${ds.graph.numNodes}`,
    );
  const dims = bindDims(model.train.inputs, ds);
  const lr = o.lr ?? optimizerNamed(o.optimizer).defaults.lr;
  // The memory plan first: its dry run meets every tensor of a step and an evaluation under the
  // device's limits, so one too big for a buffer is refused (saying whether --partitions helps)
  // before any GPU work; the report compares it with the measured peak.
  const plan = planOptions && (await planMemory(model, dims, planOptions));
  markPhase("memory planned");
  // Exact mode: the grid against the data, before training (a state beyond its range cannot train).
  const start = ctx && bits !== undefined ? startingParams(model, dims, o, optimizer) : undefined;
  const exact =
    start && (await exactReport(file, o, model, ds, ctx!, bits!, start.params, start.where));
  if (exact?.exceeded) return 1;
  // Rebuilt inputs drift in float32: sampled every few evaluations (every one with --drift), on
  // the run's own engine, for models whose backward rebuilds anything.
  const rebuilds = !o.storeActivations && model.train.graph.ops.some(isReversibleScan);
  const opts: TrainOptions = {
    epochs: o.epochs,
    lr,
    optimizer,
    seed: o.seed,
    partitions: o.partitions,
    evalEvery: o.evalEvery,
    storeActivations: o.storeActivations,
    denseFeatures: o.denseFeatures,
    save: o.save,
    initSave: o.initSave,
    resume: o.resume,
    checkpointEvery: o.checkpointEvery,
    perOp: bits !== undefined,
    exactBits: bits,
    drift: !rebuilds ? undefined : ctx ? (new GpuBackend(ctx) as never) : interpreterRunner,
    driftEvery: o.drift ? 1 : DEFAULT_DRIFT_EVERY,
    driftThreshold: o.driftThreshold,
    profile: profileOptions(o, o.epochs * o.partitions),
  };
  const metricName = ds.labels.kind === "single" ? "accuracy" : "ROC-AUC";
  const engine = ctx
    ? ctx.adapterInfo.description
    : "the float64 reference interpreter (--backend interpreter)";
  console.error(
    `${model.name} on ${ds.name}: ${ds.graph.numNodes} nodes, ${ds.graph.numEdges} edges, ${ds.numFeatures} features; ` +
      engine,
  );
  const progress = progressFor(!!o.quiet, metricName);
  const t0 = performance.now();
  const result: InterpretedResult & { memory?: TrainResult["memory"] } = ctx
    ? await train(new GpuBackend(ctx), model, ds, opts, progress)
    : await trainInterpreted(model, ds, opts, progress);
  const total = (performance.now() - t0) / 1000;
  let peak: CategoryPlan | undefined;
  if (result.memory) {
    peak = { total: result.memory.peakTotal } as CategoryPlan;
    for (const c of MEMORY_CATEGORIES) peak[c] = result.memory.peak[c];
  }
  console.log(
    `${result.stopped === "completed" ? "done" : "stopped"}: best valid ${metricName} ${pct(result.valid)} at epoch ${result.bestEpoch}, ` +
      `test ${pct(result.test)}; median step ${(median(result.stepSeconds) * 1000).toFixed(1)} ms` +
      (ctx ? `, ${result.dispatchesPerStep} dispatches/step` : " (interpreter)"),
  );
  if (peak && plan) console.log(memoryTable({ "peak (measured)": peak, plan: plan }));
  if (result.profile) printProfile(result.profile, result.stepSeconds);
  if (o.report) {
    const report = {
      version: 1,
      backend: ctx ? "gpu" : "interpreter",
      model: {
        file,
        name: model.name,
        hyperparameters: model.train.hypers,
        parameter_tensors: model.train.params.length,
      },
      dataset: {
        source: ds.source,
        name: ds.name,
        nodes: ds.graph.numNodes,
        edges: ds.graph.numEdges,
        features: ds.numFeatures,
        ...(ds.labels.kind === "single"
          ? { classes: ds.labels.numClasses }
          : { tasks: ds.labels.numTasks }),
        split: {
          name: ds.split.name,
          train: ds.split.train.length,
          valid: ds.split.valid.length,
          test: ds.split.test.length,
        },
      },
      training: {
        epochs: o.epochs,
        lr,
        optimizer: optimizer.kind,
        weight_decay: optimizer.weightDecay,
        // The parameters declared with their own decay (`param W: … = glorot, decay = 0.01`).
        own_weight_decay: Object.fromEntries(
          model.train.params.flatMap((p) =>
            p.weightDecay !== undefined ? [[p.name, p.weightDecay]] : [],
          ),
        ),
        seed: o.seed,
        partitions: o.partitions,
        eval_every: o.evalEvery,
        store_activations: o.storeActivations,
        checkpoint_every: o.checkpointEvery ?? null,
        exact_bits: bits ?? null,
        resumed_from: o.resume ?? null,
      },
      ...(exact ? { exact: exactJson(exact) } : {}),
      log: result.epochs,
      result: {
        metric: result.metric,
        valid: result.valid,
        test: result.test,
        best_epoch: result.bestEpoch,
        stopped: result.stopped,
      },
      ...(result.drift
        ? {
            drift: {
              max_relative_reconstruction_error: result.drift.max,
              input_relative_reconstruction_error: result.drift.input,
              threshold: opts.driftThreshold ?? DEFAULT_DRIFT_THRESHOLD,
              sampled_every_evaluations: opts.driftEvery,
              samples: result.drift.samples,
              ...(result.drift.skipped ? { skipped: result.drift.skipped } : {}),
            },
          }
        : {}),
      timing: {
        step_seconds_median: median(result.stepSeconds),
        eval_seconds_median: median(result.evalSeconds),
        total_seconds: total,
        dispatches_per_step: result.dispatchesPerStep,
      },
      ...(peak && plan ? { memory: { peak, plan } } : {}),
      ...(result.profile ? { profile: profileJson(result.profile, result.stepSeconds) } : {}),
      adapter: ctx ? ctx.adapterInfo : null,
    };
    await writeFileAtomic(o.report, JSON.stringify(report, null, 2) + "\n");
    console.log(`report written to ${o.report}`);
  }
  return result.stopped === "completed" ? 0 : 1;
}

export interface PlanCommandOptions {
  set: Record<string, string>;
  model?: string;
  nodes: number;
  edges: number;
  features?: number;
  classes?: number;
  graphs?: number;
  optimizer: OptimizerKind;
  partitions: number;
  storeActivations: boolean;
  checkpointEvery?: number;
  exact?: number | boolean;
  adapter: "cpu" | "gpu";
}

/** What the plan did with dense features over one binding: row chunks, and who reads them. */
function featureChunksLine(model: CompiledModel, c: FeatureChunks): string {
  const x = model.train.inputs.find((i) => i.role === "features")?.name ?? "x";
  return (
    `${x} exceeds one storage binding: held in ${c.chunks} chunks of ${c.rowsPerChunk} rows ` +
    `(one buffer each); ${x}·W and ${x}ᵀ·G run chunk by chunk`
  );
}

export async function planCommand(file: string, o: PlanCommandOptions): Promise<number> {
  if (o.partitions > o.nodes)
    throw new UsageError(`--partitions ${o.partitions} is more than --nodes ${o.nodes}`);
  const { bits, model } = compileForRun(file, o);
  const dims = planDims(model, o);
  const optimizer = defaultOptimizer(o.optimizer, defaultWeightDecay(o.optimizer));
  const { plan, featureChunks } = await planLayout(model, dims, {
    optimizer,
    storeActivations: o.storeActivations,
    partitions: o.partitions,
    checkpointEvery: o.checkpointEvery,
    perOp: bits !== undefined,
    // The target `compile --adapter` uses: the plan is for the kernels it writes.
    ...nominalTarget(o.adapter),
  });
  console.log(
    `${model.name} with ${Object.entries(model.train.hypers)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")} on ` +
      `${Object.entries(dims)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}${o.partitions > 1 ? `, ${o.partitions} partitions` : ""}` +
      `${o.storeActivations ? ", stored activations" : ""}: predicted peak GPU memory`,
  );
  console.log(memoryTable({ plan }));
  if (featureChunks) console.log(featureChunksLine(model, featureChunks));
  return 0;
}
