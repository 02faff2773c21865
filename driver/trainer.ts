// A training run: epochs of full-batch or partition-wise steps, evaluation every k epochs, the
// best-validation result, checkpoints (atomic safetensors), resumption, NaN detection, the run's
// report. Progress goes to a callback so that the CLI decides how to show it.
import type { CompiledModel } from "../compiler/compile.js";
import type { OptimizerConfig } from "../compiler/optimizers.js";
import { randomPartition } from "../runtime/data/graph.js";
import { Rng } from "../runtime/data/rng.js";
import { subsetDataset } from "../runtime/data/subset.js";
import { labelledCount } from "../runtime/data/split-check.js";
import type { Dataset } from "../runtime/data/types.js";
import type { MemorySnapshot } from "../runtime/gpu/memory.js";
import type { Backend } from "../runtime/exec/backend.js";
import { rocAuc } from "../runtime/metrics.js";
import { measureDrift } from "./check.js";
import {
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointState,
} from "./checkpoint.js";
import { NonFiniteStateError, describeTensors } from "./finite.js";
import type { EpochLog, FixpointSummary } from "./run-log.js";
import { initParameters } from "./init.js";
import { checkTensorSizes, refusePerNodeParameters } from "./limits.js";
import {
  Session,
  bindDims,
  refusePartitionedGraphBatch,
  type FixpointStat,
  type SessionOptions,
  type TrainingSession,
} from "./session.js";
import { InterpreterSession } from "./interpreter-session.js";
import type { GraphRunner } from "./graph-runner.js";
import { BufferLimitError, DeviceAllocationError } from "../runtime/gpu/memory.js";
import type { TimedDispatch, TimingMethod } from "../runtime/gpu/dispatch-timer.js";
import { summarizeProfile, type KernelProfile } from "../runtime/profile/profile.js";
import { markPhase } from "../runtime/util/phases.js";

export interface TrainOptions {
  epochs: number;
  lr: number;
  optimizer: OptimizerConfig;
  seed: number;
  partitions: number;
  evalEvery: number;
  storeActivations: boolean;
  /** Bind the node features dense even when they are sparse (A/B checks). */
  denseFeatures?: boolean;
  save?: string;
  initSave?: string;
  resume?: string;
  /** Keep every k-th block's input of reversible loops (bounds drift). */
  checkpointEvery?: number;
  /** One kernel per op: bitwise-identical recomputation (exact mode). */
  perOp?: boolean;
  /** Exact mode's fixed-point bits: a state beyond ±2^(24−bits) becomes NaN and stops the run. */
  exactBits?: number;
  /**
   * Sample the reconstruction drift of reversible loops on this engine (a separate backend, so
   * that the measurement's stored activations do not count in the run's memory).
   */
  drift?: Backend<unknown, unknown> | GraphRunner;
  /** Sample at every this-many-th evaluation, counting from the first (default 10; --drift: 1). */
  driftEvery?: number;
  /** Warn, once, when the first block's rebuilt input is off by more than this (relative). */
  driftThreshold?: number;
  /**
   * Time every kernel of `steps` optimizer steps, after `warmup` untimed ones (the first steps
   * touch fresh buffers), on a backend with dispatch timing (runtime/gpu/dispatch-timer.ts).
   */
  profile?: { steps: number; warmup: number; method?: TimingMethod };
  /**
   * Asked after every epoch: true ends the run there as "stopped", saving the checkpoint to
   * `save` as a completed run does, so that `resume` continues it bit for bit (the playground's
   * stop button).
   */
  shouldStop?: () => boolean;
}

/** Default relative error of a rebuilt stack input above which `train` warns. */
export const DEFAULT_DRIFT_THRESHOLD = 1e-3;
/** Default: drift is sampled at the 1st, 11th, 21st, … evaluation. */
export const DEFAULT_DRIFT_EVERY = 10;

export interface TrainResult {
  metric: "accuracy" | "rocauc";
  valid: number;
  test: number;
  bestEpoch: number;
  epochs: EpochLog[];
  stopped: "completed" | "stopped" | "non-finite loss" | "non-finite parameters";
  stepSeconds: number[];
  evalSeconds: number[];
  dispatchesPerStep: number;
  memory: MemorySnapshot;
  /** Over the run: the largest per-block reconstruction error and the first block's, and every
   *  sample. */
  drift?: { max: number; input: number; samples: DriftSample[]; skipped?: string };
  /** The kernel profile of the timed steps, and their indices in `stepSeconds`. */
  profile?: { table: KernelProfile; steps: number[] };
}

export interface DriftSample {
  epoch: number;
  max: number;
  input: number;
}

/** The result of a run on the float64 interpreter: no device memory, no dispatches. */
export type InterpretedResult = Omit<TrainResult, "memory">;

export class NonFiniteLossError extends Error {}

export interface Progress {
  start(total: number, startEpoch: number): void;
  epoch(log: EpochLog, best: { valid: number; test: number; epoch: number } | undefined): void;
  message(text: string): void;
  stop(): void;
}

function evaluationMetric(
  ds: Dataset,
  ev: Awaited<ReturnType<Session<unknown, unknown>["evaluate"]>>,
) {
  const s = ds.split;
  if (ev.counts) {
    const [tr, va, te] = ev.counts;
    // Over the labelled nodes of each split: an unlabelled validation or test node is not scored.
    const of = (idx: Uint32Array) => Math.max(1, labelledCount(ds.labels, idx));
    return { train: tr / of(s.train), valid: va / of(s.valid), test: te / of(s.test) };
  }
  const labels = ds.labels;
  if (labels.kind !== "multi")
    throw new Error("internal: logits evaluation of a single-label dataset");
  const auc = (idx: Uint32Array) => rocAuc(ev.logits!, labels.y, labels.numTasks, idx).mean;
  return { train: auc(s.train), valid: auc(s.valid), test: auc(s.test) };
}

const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export { median };

const sessionOptions = (opts: TrainOptions): SessionOptions => ({
  optimizer: opts.optimizer,
  storeActivations: opts.storeActivations,
  checkpointEvery: opts.checkpointEvery,
  perOp: opts.perOp,
  denseFeatures: opts.denseFeatures,
});

/** A run on a device backend (WGSL kernels). */
export async function train<H, K>(
  backend: Backend<H, K>,
  model: CompiledModel,
  ds: Dataset,
  opts: TrainOptions,
  progress: Progress,
): Promise<TrainResult> {
  // Every parameter and data input must fit one buffer: refused here, before anything compiles.
  checkTensorSizes(model, bindDims(model.train.inputs, ds), backend.memory.limits);
  const session = new Session(backend, model, sessionOptions(opts));
  markPhase("programs built");
  const result = await runTraining(session, model, ds, opts, progress, backend);
  const memory = backend.memory.snapshot();
  session.unbind();
  session.release();
  return { ...result, memory };
}

/** A run on the float64 reference interpreter (`--backend interpreter`): the same programs. */
export async function trainInterpreted(
  model: CompiledModel,
  ds: Dataset,
  opts: TrainOptions,
  progress: Progress,
): Promise<InterpretedResult> {
  const session = new InterpreterSession(model, sessionOptions(opts));
  const result = await runTraining(session, model, ds, opts, progress);
  session.unbind();
  return result;
}

/** The most iterations and the largest residual over the solves whose tag says `backward` or not. */
function summarise(stats: FixpointStat[], backward: boolean): FixpointSummary | undefined {
  const of = stats.filter((s) => s.tag.endsWith("_adjoint") === backward);
  if (of.length === 0) return undefined;
  return {
    solves: of.length,
    iterations: Math.max(...of.map((s) => s.iterations)),
    // NaN must show, not lose the comparison.
    residual: of.some((s) => Number.isNaN(s.residual))
      ? NaN
      : Math.max(...of.map((s) => s.residual)),
  };
}

/** The epochs of a run on either engine: steps, evaluations, checkpoints, drift samples. */
async function runTraining(
  session: TrainingSession,
  model: CompiledModel,
  ds: Dataset,
  opts: TrainOptions,
  progress: Progress,
  /** The device backend, when there is one: the profiler times its dispatches. */
  backend?: Backend<unknown, unknown>,
): Promise<InterpretedResult> {
  let drift: TrainResult["drift"];
  let evaluations = 0;
  const driftEvery = opts.driftEvery ?? DEFAULT_DRIFT_EVERY;
  const threshold = opts.driftThreshold ?? DEFAULT_DRIFT_THRESHOLD;
  let lastStepFixpoints: FixpointStat[] = [];
  refusePerNodeParameters(model, opts.partitions);
  refusePartitionedGraphBatch(ds, opts.partitions);
  await session.bind(ds);
  markPhase("kernels ready, data bound");
  const dims = session.dims!;
  const shapes = session.paramShapes(dims);
  const metric: TrainResult["metric"] = ds.labels.kind === "single" ? "accuracy" : "rocauc";

  let startEpoch = 1;
  let t = 0; // optimizer steps taken
  let log: EpochLog[] = [];
  let best: { valid: number; test: number; epoch: number } | undefined;
  if (opts.resume) {
    const ck = loadCheckpoint(opts.resume, model, session.paramShapes(), opts.optimizer);
    if (ck.epoch >= opts.epochs)
      throw new CheckpointError(
        `${opts.resume}: the checkpoint is at epoch ${ck.epoch}; --epochs ${opts.epochs} leaves nothing to train (ask for more epochs)`,
      );
    session.setParameters(ck.params, ck.states, ck.modelStates);
    startEpoch = ck.epoch + 1;
    t = ck.step;
    log = ck.log;
    best = ck.best;
    progress.message(`resumed from ${opts.resume} after epoch ${ck.epoch}`);
  } else {
    session.setParameters(initParameters(model.train.params, dims, opts.seed));
  }
  const state = (epoch: number): Promise<CheckpointState> =>
    session
      .readState()
      .then((s) => ({ ...s, epoch, step: t, log, best, seed: opts.seed, data: ds.source }));
  if (opts.initSave)
    await saveCheckpoint(opts.initSave, model, opts.optimizer, await state(startEpoch - 1), shapes);

  const stepSeconds: number[] = [];
  const profiler = kernelProfiler(backend, opts.profile);
  const evalSeconds: number[] = [];
  let dispatchesPerStep = 0;
  let stopped: TrainResult["stopped"] = "completed";
  let current = startEpoch; // the epoch being trained, for messages
  // The epoch of the checkpoint in opts.save, once written (or resumed from that same file).
  let lastSaved: number | undefined =
    opts.resume && opts.resume === opts.save ? startEpoch - 1 : undefined;
  const kept = () =>
    !opts.save
      ? ""
      : lastSaved !== undefined
        ? ` (the last good checkpoint, of epoch ${lastSaved}, is kept in ${opts.save})`
        : ` (nothing was saved to ${opts.save})`;
  const advice = () =>
    opts.exactBits !== undefined
      ? `. In exact mode a state value beyond the fixed-point range ±${2 ** (24 - opts.exactBits)} ` +
        "(2^(24−bits)) becomes NaN instead of silently losing exactness: " +
        "`revgnn check --exact` shows the state's range; use fewer --exact bits, or a smaller --lr."
      : ". Try a smaller --lr.";
  progress.start(opts.epochs, startEpoch);
  try {
    for (let epoch = startEpoch; epoch <= opts.epochs; epoch++) {
      current = epoch;
      const t0 = performance.now();
      let lossSum = 0;
      let steps = 0;
      // One optimizer step, timed; a step stopped for non-finite weights still ran, so its time
      // and dispatches count.
      const step = async () => {
        const d0 = session.dispatches;
        const s0 = performance.now();
        steps++;
        profiler?.beforeStep(stepSeconds.length);
        try {
          lossSum += await session.step(opts.lr, ++t, opts.seed);
        } finally {
          stepSeconds.push((performance.now() - s0) / 1000);
          dispatchesPerStep = session.dispatches - d0;
          lastStepFixpoints = [...session.fixpoints.step];
        }
        await profiler?.afterStep();
        if (stepSeconds.length === 1) markPhase("first step");
      };
      if (opts.partitions <= 1) {
        await step();
      } else {
        // The paper's mini-batch training: a fresh random partition of the nodes every epoch, one
        // optimizer step on the subgraph induced by each part.
        const parts = randomPartition(
          ds.graph.numNodes,
          opts.partitions,
          new Rng(opts.seed * 1_000_003 + epoch),
        );
        for (const nodes of parts) {
          const part = subsetDataset(ds, nodes).dataset;
          // A part without training nodes has no loss to descend (its mean is 0/0, which stopped
          // runs as a "non-finite loss"): it takes no step this epoch.
          if (part.split.train.length === 0) continue;
          await session.bind(part);
          await step();
        }
        await session.bind(ds);
      }
      const loss = lossSum / Math.max(1, steps);
      if (!Number.isFinite(loss)) {
        stopped = "non-finite loss";
        throw new NonFiniteLossError(
          `the training loss became ${loss} at epoch ${epoch}; stopping` + kept() + advice(),
        );
      }
      const entry: EpochLog = { epoch, loss, seconds: 0 };
      const forward = summarise(lastStepFixpoints, false);
      if (forward) entry.fixpoints = { forward, backward: summarise(lastStepFixpoints, true) };
      if (epoch % opts.evalEvery === 0 || epoch === opts.epochs) {
        const e0 = performance.now();
        const ev = await session.evaluate();
        evalSeconds.push((performance.now() - e0) / 1000);
        if (evalSeconds.length === 1) markPhase("first evaluation");
        Object.assign(entry, evaluationMetric(ds, ev), {
          evalLoss: ev.loss,
          validLoss: ev.validLoss,
        });
        const evalFixpoints = summarise(session.fixpoints.eval, false);
        if (evalFixpoints) entry.fixpoints = { ...entry.fixpoints, eval: evalFixpoints };
        if (opts.drift && !drift?.skipped && evaluations++ % driftEvery === 0) {
          drift = await sampleDrift(opts.drift, session, model, ds, opts, epoch, drift);
          const last = drift.samples[drift.samples.length - 1];
          if (last && last.epoch === epoch) {
            entry.drift = last.max;
            entry.driftInput = last.input;
            if (
              !(last.input <= threshold) &&
              !drift.samples.slice(0, -1).some((s) => !(s.input <= threshold))
            )
              progress.message(driftWarning(last, threshold));
          } else if (drift.skipped) progress.message(`note: ${drift.skipped}`);
        }
        if (!best || entry.valid! > best.valid)
          best = { valid: entry.valid!, test: entry.test!, epoch };
        entry.seconds = (performance.now() - t0) / 1000;
        log.push(entry);
        if (opts.save) {
          await saveCheckpoint(opts.save, model, opts.optimizer, await state(epoch), shapes);
          lastSaved = epoch;
        }
      } else {
        entry.seconds = (performance.now() - t0) / 1000;
        log.push(entry);
      }
      progress.epoch(entry, best);
      if (epoch < opts.epochs && opts.shouldStop?.()) {
        stopped = "stopped";
        break;
      }
    }
  } catch (err) {
    if (err instanceof NonFiniteStateError) {
      // The loss alone is not trusted: on lavapipe max/relu hide NaN, so the weights are checked.
      stopped = "non-finite parameters";
      progress.message(
        `the update of epoch ${current} (optimizer step ${err.step}) left non-finite values in ` +
          `${describeTensors(err.tensors)} (the step's loss read ${err.loss}); stopping` +
          kept() +
          advice(),
      );
    } else if (err instanceof NonFiniteLossError) {
      progress.message(err.message);
    } else throw err;
  } finally {
    progress.stop();
  }
  // A run shorter than warm-up plus profiled steps reports the steps it timed.
  profiler?.stop();
  if (opts.save && (stopped === "completed" || stopped === "stopped"))
    await saveCheckpoint(opts.save, model, opts.optimizer, await state(current), shapes);
  return {
    metric,
    valid: best?.valid ?? NaN,
    test: best?.test ?? NaN,
    bestEpoch: best?.epoch ?? 0,
    epochs: log,
    stopped,
    stepSeconds,
    evalSeconds,
    dispatchesPerStep,
    drift,
    profile: profiler?.result,
  };
}

/**
 * Times the steps `warmup` … `warmup + steps − 1` (0-based), each on its own (evaluations between
 * them are not timed); the profile is then in `result`. Undefined when no profile is asked for or
 * the backend cannot time.
 */
function kernelProfiler(
  backend: Backend<unknown, unknown> | undefined,
  want: TrainOptions["profile"],
) {
  const timing = backend?.timing;
  if (!want || !timing || want.steps < 1) return undefined;
  const timed: number[] = [];
  const dispatches: TimedDispatch[] = [];
  let method: TimingMethod | undefined;
  const state = {
    result: undefined as TrainResult["profile"],
    beforeStep(index: number) {
      if (index >= want.warmup && index < want.warmup + want.steps) {
        timing.start(want.method);
        timed.push(index);
      }
    },
    async afterStep() {
      method = timing.method ?? method;
      if (timing.method) dispatches.push(...(await timing.stop()));
      if (timed.length === want.steps) state.stop();
    },
    /** Summarises what was timed (a run shorter than warm-up plus steps: the steps it had). */
    stop() {
      if (state.result || !method || timed.length === 0) return;
      state.result = { table: summarizeProfile(dispatches, timed.length, method), steps: timed };
    },
  };
  return state;
}

/**
 * One drift sample: the reconstruction error of every block of every reversible loop at the
 * current weights (`revgnn check`'s measurement). A model without reversible loops, or one whose
 * measurement does not fit the device (it keeps every block's input), records why it has none.
 */
async function sampleDrift(
  engine: Backend<unknown, unknown> | GraphRunner,
  session: TrainingSession,
  model: CompiledModel,
  ds: Dataset,
  opts: TrainOptions,
  epoch: number,
  before: TrainResult["drift"],
): Promise<NonNullable<TrainResult["drift"]>> {
  const drift = before ?? { max: 0, input: 0, samples: [] };
  let loops;
  try {
    loops = await measureDrift(engine, model, ds, (await session.readState()).params, {
      seed: opts.seed,
      checkpointEvery: opts.checkpointEvery,
      perOp: opts.perOp,
    });
  } catch (err) {
    if (!(err instanceof BufferLimitError || err instanceof DeviceAllocationError)) throw err;
    return {
      ...drift,
      skipped: `drift sampling stopped: its measurement (which keeps every block's input) does not fit this device (${err.message})`,
    };
  }
  if (loops.length === 0) return drift;
  const max = Math.max(0, ...loops.flatMap((l) => l.relativeError));
  const input = Math.max(0, ...loops.map((l) => l.relativeError[0] ?? 0));
  return {
    max: Math.max(drift.max, max),
    input: Math.max(drift.input, input),
    samples: [...drift.samples, { epoch, max, input }],
  };
}

function driftWarning(s: DriftSample, threshold: number): string {
  return (
    `warning: at epoch ${s.epoch} the reversibly rebuilt input of the first block is ` +
    `${s.input.toExponential(2)} off the true one (relative; largest over blocks ${s.max.toExponential(2)}; ` +
    `threshold ${threshold.toExponential(0)}, --drift-threshold): the backward's gradients use ` +
    `inputs that drifted in float32. Use --checkpoint-every k (rebuild from a kept input every k ` +
    `blocks) or --exact (bit-exact rebuilds); \`revgnn check\` shows the error block by block`
  );
}
