// Memory and time against depth, the paper's central figure: RevGCN and ResGCN at L = 1, 10,
// 100, 1000 on each graph. Every configuration gets its static plan; configurations whose real
// step fits the time budget are also run for real (one step + evaluation for the memory peak,
// then timed steps), cheapest first, RevGCN and ResGCN of one depth together, their timed steps
// in alternation (Rev, Res, Res, Rev, …) so that their ratio comes from the same stretch of the
// machine's speed. A configuration whose plan exceeds the memory
// budget or the adapter's limits does not fit; for ResGCN the deepest L that fits is then found
// by a binary search over plans.
import { bindDims } from "../../driver/session.js";
import type { SuiteConfig } from "../config.js";
import { alternateSteps } from "../lib/alternate.js";
import { Budget, predictStepSeconds, repsFor, type TimedPoint } from "../lib/budget.js";
import { bytes, seconds } from "../lib/format.js";
import type { DepthPoint, DepthSection, ModelName } from "../types.js";
import type { BenchDataset } from "./datasets.js";
import { benchModel, planVerdict, type Limits, type PlanVerdict } from "./models.js";
import type { GpuRig } from "./rig.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

export const MODELS: ModelName[] = ["RevGCN", "ResGCN"];

export interface DepthContext {
  root: string;
  config: SuiteConfig;
  datasets: BenchDataset[];
  limits: Limits;
  /** Absent: plans only (no adapter). */
  rig?: GpuRig;
  /** Configurations whose evaluation loss at initialisation the PyTorch section compares. */
  initEval: (dataset: string, L: number) => boolean;
  log: (msg: string) => void;
}

/**
 * Untimed work per configuration, in steps: the first step and an evaluation (about 1.5), the
 * step after the evaluation that closes the memory window, and the warm-up step of the timed
 * session; an initial evaluation half a step more.
 */
const FIXED_STEPS = 3.5;
/** A configuration timed alone (no partner that fits) needs no session of its own for it. */
const FIXED_STEPS_ALONE = 2.5;

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0]!.slice(0, 300);
}

export async function depthSection(c: DepthContext): Promise<DepthSection> {
  const { config, limits } = c;
  const optimizer = defaultOptimizer("adam", config.weightDecay);
  const budget = new Budget(config.sectionSeconds.depth);
  const points = new Map<string, DepthPoint>();
  const key = (d: string, m: ModelName, L: number) => `${d}:${m}:${L}`;
  const verdicts = new Map<string, PlanVerdict>();

  // 1. Plans for every configuration (a dry run: seconds even at L = 1000).
  for (const b of c.datasets) {
    for (const L of config.depths) {
      for (const m of MODELS) {
        const model = benchModel(c.root, m, L, b.info.D);
        const v = await planVerdict(model, bindDims(model.train.inputs, b.ds), optimizer, limits);
        verdicts.set(key(b.info.key, m, L), v);
        points.set(key(b.info.key, m, L), {
          dataset: b.info.key,
          model: m,
          L,
          status: v.fits ? "planned" : "no-fit",
          ...(v.fits ? {} : { reason: v.reason }),
          ...(v.plan ? { memory: v.plan, plan: v.plan } : {}),
        });
      }
    }
  }
  c.log(`[depth] ${points.size} plans done (${budget.spent().toFixed(0)} s)`);

  // 2. Real runs, cheapest first: cost grows with L times the graph's size.
  const timed = new Map<string, TimedPoint[]>();
  const timedOf = (d: string, m: ModelName) => timed.get(`${d}:${m}`) ?? [];
  const sizeOf = (b: BenchDataset) => b.info.nodes + b.info.edges;
  const predict = (b: BenchDataset, m: ModelName, L: number): number | undefined => {
    const own = predictStepSeconds(timedOf(b.info.key, m), L);
    if (own !== undefined) return own;
    // No point on this graph yet: scale another graph's prediction by the size ratio.
    for (const o of c.datasets) {
      if (o === b) continue;
      const p = predictStepSeconds(timedOf(o.info.key, m), L);
      if (p !== undefined) return p * Math.max(1, sizeOf(b) / sizeOf(o));
    }
    return undefined;
  };
  const pairs = c.datasets
    .flatMap((b) => config.depths.map((L) => ({ b, L })))
    .sort((x, y) => x.L * sizeOf(x.b) - y.L * sizeOf(y.b));

  for (const { b, L } of pairs) {
    if (!c.rig) break;
    const runnable = MODELS.filter((m) => verdicts.get(key(b.info.key, m, L))!.fits);
    if (runnable.length === 0) continue;
    const predicted = runnable.map((m) => predict(b, m, L));
    const known = predicted.filter((p): p is number => p !== undefined);
    const skip = (reason: string) => {
      runnable.forEach((m, i) => {
        const p = points.get(key(b.info.key, m, L))!;
        p.reason = reason;
        if (predicted[i] !== undefined) p.predictedStepSeconds = predicted[i];
      });
      c.log(`[depth] ${b.info.key} L=${L}: planned only (${reason})`);
    };
    const slowest = Math.max(0, ...known);
    if (slowest > config.stepBudgetSeconds) {
      skip(
        `a real step is predicted to take ${seconds(slowest)} > the ${seconds(config.stepBudgetSeconds)} step budget`,
      );
      continue;
    }
    const init = c.initEval(b.info.key, L) ? 0.5 : 0;
    // Alone, a configuration's timed steps follow its evaluation in the measuring session.
    const alone = runnable.length === 1;
    const fixed = alone ? FIXED_STEPS_ALONE : FIXED_STEPS;
    const cost = (reps: number) => known.reduce((s, p) => s + p * (fixed + init + reps), 0);
    let reps = repsFor(slowest, config.repSeconds, config.minReps, config.maxReps);
    while (reps > 0 && !budget.fits(cost(reps))) reps--;
    if (!budget.fits(cost(reps))) {
      skip(
        `predicted ${seconds(cost(0))} for the pair, ${seconds(budget.left())} left of the section's budget`,
      );
      continue;
    }
    // Memory, first step and evaluation one configuration at a time (each its own pool window);
    // then the timed steps of the pair in alternation, so that both sides of Rev/Res see the
    // same stretch of the machine's speed.
    const measured: ModelName[] = [];
    for (const m of runnable) {
      const p = points.get(key(b.info.key, m, L))!;
      const model = benchModel(c.root, m, L, b.info.D);
      try {
        const r = await c.rig.measure(model, b.ds, {
          optimizer,
          seed: config.seed,
          lr: config.lr,
          reps: alone ? reps : 0,
          initEval: init > 0,
        });
        Object.assign(p, {
          status: "measured",
          memory: r.memory,
          firstStepSeconds: r.firstStepSeconds,
          evalSeconds: r.evalSeconds,
          dispatchesPerStep: r.dispatchesPerStep,
          losses: alone ? r.losses : r.losses.slice(0, 1),
          ...(r.step ? { step: r.step } : {}),
          ...(r.initEvalLoss !== undefined ? { initEvalLoss: r.initEvalLoss } : {}),
        });
        delete p.reason;
        measured.push(m);
      } catch (err) {
        p.status = "failed";
        p.reason = firstLine(err);
        c.log(`[depth] ${b.info.key} ${m} L=${L}: FAILED: ${p.reason}`);
      }
    }
    if (reps > 0 && !alone && measured.length > 0) {
      try {
        const timedSteps = await c.rig.withSteppers(
          measured.map((m) => ({ model: benchModel(c.root, m, L, b.info.D), ds: b.ds })),
          { optimizer, seed: config.seed, lr: config.lr },
          (steppers) => alternateSteps(steppers, reps),
        );
        measured.forEach((m, i) => {
          const p = points.get(key(b.info.key, m, L))!;
          p.step = timedSteps[i]!.step;
          p.losses = [...(p.losses ?? []), ...timedSteps[i]!.losses];
        });
      } catch (err) {
        for (const m of measured)
          points.get(key(b.info.key, m, L))!.reason = `timed steps failed: ${firstLine(err)}`;
        c.log(`[depth] ${b.info.key} L=${L}: timed steps FAILED: ${firstLine(err)}`);
      }
    }
    for (const m of measured) {
      const p = points.get(key(b.info.key, m, L))!;
      const list = timedOf(b.info.key, m);
      list.push({ L, seconds: p.step?.median ?? p.firstStepSeconds! });
      timed.set(`${b.info.key}:${m}`, list);
      const agree = p.plan ? ` (plan ${bytes(p.plan.total)})` : "";
      c.log(
        `[depth] ${b.info.key} ${m} L=${L}: step ${seconds(p.step?.median ?? p.firstStepSeconds!)} ` +
          `(n=${p.step?.n ?? 1}${measured.length > 1 ? ", alternated" : ""}), ${p.dispatchesPerStep} dispatches, ` +
          `peak ${bytes(p.memory!.total)}${agree} [${budget.spent().toFixed(0)} s]`,
      );
    }
  }

  // 3. The deepest ResGCN each graph holds.
  const maxDepth: DepthSection["maxDepth"] = [];
  for (const b of c.datasets) {
    const r = await deepestFitting(c, b, "ResGCN", optimizer);
    maxDepth.push({ dataset: b.info.key, model: "ResGCN", ...r, planned: true });
    c.log(`[depth] ${b.info.key}: deepest ResGCN that fits: L=${r.L} (${r.limit})`);
  }

  return {
    datasets: c.datasets.map((b) => b.info),
    depths: config.depths,
    points: [...points.values()],
    maxDepth,
    memoryBudgetBytes: limits.memoryBudgetBytes,
    stepBudgetSeconds: config.stepBudgetSeconds,
  };
}

/** Largest L (up to 10,000) whose plan fits, by doubling then bisection; and what stops L + 1. */
async function deepestFitting(
  c: DepthContext,
  b: BenchDataset,
  m: ModelName,
  optimizer: ReturnType<typeof defaultOptimizer>,
): Promise<{ L: number; limit: string }> {
  const cap = 10_000;
  const verdict = async (L: number) => {
    const model = benchModel(c.root, m, L, b.info.D);
    return planVerdict(model, bindDims(model.train.inputs, b.ds), optimizer, c.limits);
  };
  let lo = 0;
  let hi = 1;
  let why = "";
  for (;;) {
    const v = await verdict(hi);
    if (!v.fits) {
      why = v.reason;
      break;
    }
    lo = hi;
    if (hi >= cap) return { L: cap, limit: `not reached below L = ${cap}` };
    hi = Math.min(cap, hi * 4);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const v = await verdict(mid);
    if (v.fits) lo = mid;
    else {
      hi = mid;
      why = v.reason;
    }
  }
  return { L: lo, limit: `L = ${hi}: ${why}` };
}
