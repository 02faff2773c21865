// Real training steps on the GPU, one configuration at a time, on one backend shared by the
// whole run. Sharing keeps the pipeline cache warm (kernels are shared across depths by their
// WGSL text), so a deep configuration's first step does not pay for shader compilation that a
// shallower one already did, and a single step can stand for a step's time where the budget
// allows no more.
//
// Memory is read from the runtime's own accounting. A configuration's peak is taken from the
// moment before its data is bound to the end of one step plus one evaluation (what the static
// plan replays), over a pool emptied by trim() after the previous configuration. A Session keeps
// a 12-byte scalar buffer for its lifetime and the run reuses the backend, so whatever is still
// live when a configuration starts (beyond the command stream's parameter ring, which the plan
// includes) is subtracted: the numbers are those of a fresh process.
import type { CompiledModel } from "../../compiler/compile.js";
import type { Dataset } from "../../runtime/data/types.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { acquireGpu, type GpuContext } from "../../runtime/gpu/device.js";
import type { Tuning } from "../../compiler/target.js";
import type { KernelOptions } from "./models.js";
import { MEMORY_CATEGORIES, type CategoryBytes } from "../../runtime/gpu/memory.js";
import { initParameters } from "../../driver/init.js";
import type { CategoryPlan } from "../../driver/plan.js";
import { Session } from "../../driver/session.js";
import { summarize } from "../lib/stats.js";
import type { Spread } from "../types.js";
import type { Stepper } from "../lib/alternate.js";
import type { OptimizerConfig } from "../../compiler/optimizers.js";

export interface Measurement {
  memory: CategoryPlan;
  firstStepSeconds: number;
  evalSeconds: number;
  /** Timed steps after the first (empty when reps = 0). */
  step?: Spread;
  dispatchesPerStep: number;
  losses: number[];
  initEvalLoss?: number;
}

export interface MeasureOptions {
  optimizer: OptimizerConfig;
  seed: number;
  lr: number;
  /** Timed steps after the first one. */
  reps: number;
  /** Evaluate once before training (the loss the PyTorch comparison checks against). */
  initEval: boolean;
}

export class GpuRig {
  private backend: GpuBackend;
  private ring: CategoryBytes;

  private constructor(private ctx: GpuContext) {
    this.backend = new GpuBackend(ctx);
    this.ring = this.backend.memory.snapshot().live;
  }

  static async acquire(): Promise<GpuRig> {
    return new GpuRig(await acquireGpu());
  }

  get context(): GpuContext {
    return this.ctx;
  }

  /** What the backend generates kernels with; plans must use the same. */
  get kernelOptions(): KernelOptions {
    const b = this.backend as {
      tuning?: Tuning;
      maxStorageBuffers?: number;
      immediateBytes?: number;
    };
    return {
      ...(b.tuning ? { tuning: b.tuning } : {}),
      ...(b.maxStorageBuffers ? { maxStorageBuffers: b.maxStorageBuffers } : {}),
      ...(b.immediateBytes ? { immediateBytes: b.immediateBytes } : {}),
    };
  }

  /**
   * Runs `fn` on the shared backend (warm pipeline cache); after a failure the backend is
   * replaced before rethrowing. `fn` must hand back every buffer it allocated.
   */
  async use<T>(fn: (backend: GpuBackend) => Promise<T>): Promise<T> {
    try {
      return await fn(this.backend);
    } catch (err) {
      await this.replace();
      throw err;
    }
  }

  /** Measures one configuration; after a failure the backend is replaced before rethrowing. */
  async measure(model: CompiledModel, ds: Dataset, o: MeasureOptions): Promise<Measurement> {
    try {
      return await this.run(model, ds, o);
    } catch (err) {
      await this.replace();
      throw err;
    }
  }

  private async run(model: CompiledModel, ds: Dataset, o: MeasureOptions): Promise<Measurement> {
    const backend = this.backend;
    const before = backend.memory.snapshot().live;
    const leaked = {} as CategoryBytes;
    for (const c of MEMORY_CATEGORIES) leaked[c] = before[c] - this.ring[c];
    const leakedTotal = MEMORY_CATEGORIES.reduce((s, c) => s + leaked[c], 0);
    backend.memory.resetPeak();

    const session = new Session(backend, model, {
      optimizer: o.optimizer,
      storeActivations: false,
    });
    await session.bind(ds);
    try {
      const init = initParameters(model.train.params, session.dims!, o.seed);
      session.setParameters(init);
      const losses: number[] = [];
      let t = 0;
      const d0 = backend.stats.dispatches;
      const s0 = performance.now();
      losses.push(await session.step(o.lr, ++t, o.seed));
      const firstStepSeconds = (performance.now() - s0) / 1000;
      // The schedule is static: every step records the same dispatches.
      const dispatchesPerStep = backend.stats.dispatches - d0;
      const e0 = performance.now();
      await session.evaluate();
      const evalSeconds = (performance.now() - e0) / 1000;
      // Peaks since the configuration began, less what an earlier one left live.
      const peaks = (): CategoryPlan => {
        const snap = backend.memory.snapshot();
        const m = { total: snap.peakTotal - leakedTotal } as CategoryPlan;
        for (const c of MEMORY_CATEGORIES) m[c] = snap.peak[c] - leaked[c];
        return m;
      };
      let memory = peaks();

      let initEvalLoss: number | undefined;
      if (o.initEval) {
        // After the memory window (the plan has no evaluation before the first step, and one
        // shifts the step's peak slightly): back to the initial values, then evaluate.
        session.setParameters(init);
        initEvalLoss = (await session.evaluate()).loss;
      }
      // A step after an evaluation runs with the buffers the evaluation left (its graph arrays):
      // the plan's window (driver/plan.ts) and any run that evaluates between steps. Without it
      // the measured total sat 62 KiB under the plan on Cora. So at least one step follows the
      // evaluation, timed only when timed steps were asked for.
      const times: number[] = [];
      for (let r = 0; r < Math.max(1, o.reps); r++) {
        const t0 = performance.now();
        losses.push(await session.step(o.lr, ++t, o.seed));
        if (o.reps > 0) times.push((performance.now() - t0) / 1000);
      }
      memory = peaks();
      return {
        memory,
        firstStepSeconds,
        evalSeconds,
        ...(times.length ? { step: summarize(times) } : {}),
        dispatchesPerStep,
        losses,
        ...(initEvalLoss !== undefined ? { initEvalLoss } : {}),
      };
    } finally {
      // Hand every buffer back: parameters and optimizer state, then the graph's data.
      session.setParameters([]);
      session.unbind();
      backend.memory.trim();
      backend.stream.clearBindGroupCache();
    }
  }

  /**
   * Opens one training session per configuration on the shared backend, all alive at once, and
   * hands `fn` a Stepper for each (initial parameters from `seed`, steps counted from 1): for
   * steps timed in alternation (lib/alternate.ts). Memory is not measured here (the sessions
   * share the pool); `measure` does that one configuration at a time. Every buffer is handed
   * back afterwards; after a failure the backend is replaced before rethrowing.
   */
  async withSteppers<T>(
    configs: readonly { model: CompiledModel; ds: Dataset }[],
    o: Pick<MeasureOptions, "optimizer" | "seed" | "lr">,
    fn: (steppers: Stepper[]) => Promise<T>,
  ): Promise<T> {
    const sessions: Pick<Session<unknown, unknown>, "setParameters" | "unbind">[] = [];
    try {
      const steppers: Stepper[] = [];
      for (const { model, ds } of configs) {
        const session = new Session(this.backend, model, {
          optimizer: o.optimizer,
          storeActivations: false,
        });
        sessions.push(session);
        await session.bind(ds);
        session.setParameters(initParameters(model.train.params, session.dims!, o.seed));
        let t = 0;
        steppers.push({
          step: async () => {
            const t0 = performance.now();
            const loss = await session.step(o.lr, ++t, o.seed);
            return { seconds: (performance.now() - t0) / 1000, loss };
          },
        });
      }
      const result = await fn(steppers);
      for (const session of sessions.splice(0)) {
        session.setParameters([]);
        session.unbind();
      }
      this.backend.memory.trim();
      this.backend.stream.clearBindGroupCache();
      return result;
    } catch (err) {
      await this.replace();
      throw err;
    }
  }

  /** A fresh backend (and device, if it was lost): nothing of a failed run stays around. */
  private async replace(): Promise<void> {
    try {
      this.backend.stream.destroy();
    } catch {
      // the stream may be unusable after the failure; its buffers go with destroyAll
    }
    try {
      this.backend.memory.destroyAll();
    } catch {
      // ditto
    }
    if (this.ctx.isLost) this.ctx = await acquireGpu();
    this.backend = new GpuBackend(this.ctx);
    this.ring = this.backend.memory.snapshot().live;
  }

  close(): void {
    try {
      this.backend.stream.destroy();
      this.backend.memory.destroyAll();
    } finally {
      this.ctx.destroy();
    }
  }
}
