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
import type { EpochLog } from "./run-log.js";
import { initParameters } from "./init.js";
import { checkTensorSizes } from "./limits.js";
import { Session, bindDims } from "./session.js";
import type { TimedDispatch, TimingMethod } from "../runtime/gpu/dispatch-timer.js";
import { summarizeProfile, type KernelProfile } from "../runtime/profile/profile.js";

export interface TrainOptions {
  epochs: number;
  lr: number;
  optimizer: OptimizerConfig;
  seed: number;
  partitions: number;
  evalEvery: number;
  storeActivations: boolean;
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
   * Measure the reconstruction drift at every evaluation, on this backend (a separate one, so
   * that the measurement's stored activations do not count in the run's memory).
   */
  drift?: Backend<unknown, unknown>;
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
  /** Over the run: the largest per-block reconstruction error and the first block's. */
  drift?: { max: number; input: number };
  /** The kernel profile of the timed steps, and their indices in `stepSeconds`. */
  profile?: { table: KernelProfile; steps: number[] };
}

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

export async function train<H, K>(
  backend: Backend<H, K>,
  model: CompiledModel,
  ds: Dataset,
  opts: TrainOptions,
  progress: Progress,
): Promise<TrainResult> {
  // Every parameter and data input must fit one buffer: refused here, before anything compiles.
  checkTensorSizes(model, bindDims(model.train.inputs, ds), backend.memory.limits);
  const session = new Session(backend, model, {
    optimizer: opts.optimizer,
    storeActivations: opts.storeActivations,
    checkpointEvery: opts.checkpointEvery,
    perOp: opts.perOp,
  });
  let drift: TrainResult["drift"];
  await session.bind(ds);
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
    session.setParameters(ck.params, ck.states);
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
        const d0 = backend.stats.dispatches;
        const s0 = performance.now();
        steps++;
        profiler?.beforeStep(stepSeconds.length);
        try {
          lossSum += await session.step(opts.lr, ++t, opts.seed);
        } finally {
          stepSeconds.push((performance.now() - s0) / 1000);
          dispatchesPerStep = backend.stats.dispatches - d0;
        }
        await profiler?.afterStep();
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
      if (epoch % opts.evalEvery === 0 || epoch === opts.epochs) {
        const e0 = performance.now();
        const ev = await session.evaluate();
        evalSeconds.push((performance.now() - e0) / 1000);
        Object.assign(entry, evaluationMetric(ds, ev), {
          evalLoss: ev.loss,
          validLoss: ev.validLoss,
        });
        if (opts.drift) {
          const loops = await measureDrift(
            opts.drift,
            model,
            ds,
            (await session.readState()).params,
            {
              seed: opts.seed,
              checkpointEvery: opts.checkpointEvery,
              perOp: opts.perOp,
            },
          );
          const errs = loops.flatMap((l) => l.relativeError);
          entry.drift = Math.max(0, ...errs);
          const input = Math.max(0, ...loops.map((l) => l.relativeError[0] ?? 0));
          drift = {
            max: Math.max(drift?.max ?? 0, entry.drift),
            input: Math.max(drift?.input ?? 0, input),
          };
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
  const memory = backend.memory.snapshot();
  session.release();
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
    memory,
    drift,
    profile: profiler?.result,
  };
}

/**
 * Times the steps `warmup` … `warmup + steps − 1` (0-based), each on its own (evaluations between
 * them are not timed); the profile is then in `result`. Undefined when no profile is asked for or
 * the backend cannot time.
 */
function kernelProfiler<H, K>(backend: Backend<H, K>, want: TrainOptions["profile"]) {
  const timing = backend.timing;
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
