// Against PyTorch: the same RevGCN and ResGCN in plain PyTorch (bench/torch/revgnn_torch.py),
// on the same graph, features, labels and initial parameter values, on this machine's CPU, in
// the same run. Each configuration runs in its own python process so that its peak RSS is its
// own. The evaluation loss at initialisation is compared with ours first: equal (to float32
// rounding) means both sides compute the same model on the same data.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { initParameters } from "../../driver/init.js";
import { bindDims } from "../../driver/session.js";
import type { SuiteConfig } from "../config.js";
import { Budget, predictStepSeconds, repsFor, type TimedPoint } from "../lib/budget.js";
import { seconds } from "../lib/format.js";
import { exportGraph, paramSpecs, twinHypers, writeParams } from "../lib/torch-export.js";
import type { DepthPoint, ModelName, TorchPoint, TorchSection } from "../types.js";
import type { BenchDataset } from "./datasets.js";
import { MODELS } from "./depth.js";
import { benchModel } from "./models.js";
import type { GpuRig } from "./rig.js";
import { alternateSteps, type AlternateResult } from "../lib/alternate.js";
import { TorchTwin } from "../lib/torch-twin.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

export interface TorchProbe {
  python: string;
  torch: string;
}

/** The first python3 that imports torch: $REVGNN_TORCH_PYTHON, Debian's /usr/bin/python3, PATH. */
export function findTorch(): TorchProbe | { error: string } {
  const candidates = [process.env.REVGNN_TORCH_PYTHON, "/usr/bin/python3", "python3"].filter(
    (p): p is string => !!p,
  );
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    if (r.status === 0) return { python, torch: r.stdout.trim() };
    tried.push(
      `${python}: ${r.error ? r.error.message : (r.stderr || "").trim().split("\n").pop()}`,
    );
  }
  return {
    error:
      `no python3 with torch (${tried.join("; ")}). On Debian, as root: ` +
      "apt-get install -y python3-torch libopenblas0-pthread",
  };
}

/** What to install where the set-up cannot: the same words as the timing section's note. */
export const TORCH_ADVICE =
  "PyTorch is needed. On Debian, as root: apt-get install -y python3-torch libopenblas0-pthread " +
  "(or point $REVGNN_TORCH_PYTHON at a python3 that imports torch)";

function debianRoot(): boolean {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (process.platform !== "linux" || !isRoot || !existsSync("/usr/bin/apt-get")) return false;
  try {
    return /^ID=("?)debian\1$/m.test(readFileSync("/etc/os-release", "utf8"));
  } catch {
    return false;
  }
}

/**
 * findTorch, and where no python has torch on a Debian machine run as root, Debian's
 * python3-torch installed with apt-get first (as scripts/setup.mjs installs lavapipe); elsewhere
 * the error says what to install.
 */
export function ensureTorch(log: (msg: string) => void): TorchProbe | { error: string } {
  const probe = findTorch();
  if (!("error" in probe) || !debianRoot()) return probe;
  log("[torch] installing Debian's python3-torch (apt-get)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-q"],
    ["install", "-y", "-q", "--no-install-recommends", "python3-torch", "libopenblas0-pthread"],
  ]) {
    const r = spawnSync("apt-get", args, { env, stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0)
      return { error: `apt-get ${args.join(" ")} failed (exit ${r.status}). ${TORCH_ADVICE}` };
  }
  return findTorch();
}

/** Our initial parameters (same seed as our run) and their specs, for the python side. */
function exportParams(
  dir: string,
  root: string,
  b: BenchDataset,
  m: ModelName,
  L: number,
  seed: number,
) {
  const model = benchModel(root, m, L, b.info.D);
  const dims = bindDims(model.train.inputs, b.ds);
  const file = join(dir, `params-${m}-${L}.bin`);
  writeParams(file, initParameters(model.train.params, dims, seed));
  return { file, params: paramSpecs(model, dims), ...twinHypers(model) };
}

interface TorchOutput {
  torch: string;
  threads: number;
  blas: string;
  init_eval_loss: number;
  losses: number[];
  first_step_seconds: number;
  step_seconds: number[];
  memory: { static_bytes: number; step_peak_delta: number | null; hwm_reset: boolean };
}

export interface TorchContext {
  root: string;
  config: SuiteConfig;
  datasets: BenchDataset[];
  /** Our depth points of this run: a comparison needs ours measured in the same invocation. */
  ours: DepthPoint[];
  /** Where our steps are timed again, in alternation with PyTorch's. */
  rig?: GpuRig;
  log: (msg: string) => void;
}

export async function torchSection(c: TorchContext, probe = findTorch()): Promise<TorchSection> {
  if ("error" in probe) {
    c.log(`[torch] skipped: ${probe.error}`);
    return { available: false, note: probe.error, points: [] };
  }
  const budget = new Budget(c.config.sectionSeconds.torch);
  const script = join(c.root, "bench", "torch", "revgnn_torch.py");
  // First, that the reversible backward (inverse, then re-forward) gives autograd's gradients.
  const check = spawnSync(probe.python, [script, "--self-check"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  const gradientSelfCheck = (() => {
    try {
      return (
        JSON.parse(check.stdout.trim().split("\n").pop()!) as { self_check_max_rel_diff: number }
      ).self_check_max_rel_diff;
    } catch {
      return NaN;
    }
  })();
  c.log(
    `[torch] RevStack gradient self-check: max relative difference ${gradientSelfCheck.toExponential(1)}`,
  );
  if (check.status !== 0) {
    const note = `the PyTorch RevGCN's gradient self-check failed (${gradientSelfCheck}): ${(check.stderr || "").trim().split("\n").pop()}`;
    return { available: false, note, python: probe.python, gradientSelfCheck, points: [] };
  }
  const tmp = mkdtempSync(join(tmpdir(), "revgnn-bench-torch-"));
  const optimizer = defaultOptimizer("adam", c.config.weightDecay);
  const threads = cpus().length;
  const points: TorchPoint[] = [];
  const timed = new Map<string, TimedPoint[]>();
  /** Process start, imports and data loading, per graph: measured from the first run on it. */
  const overhead = new Map<string, number>();
  let info: Pick<TorchSection, "torch" | "threads" | "blas"> = {};
  const sizeOf = (b: BenchDataset) => b.info.nodes + b.info.edges;
  /** PyTorch's step at L: from its own steps on this graph, else on another graph scaled by size, else ours. */
  const predictTorch = (b: BenchDataset, m: ModelName, L: number, ours: DepthPoint): number => {
    const own = predictStepSeconds(timed.get(`${b.info.key}:${m}`) ?? [], L);
    if (own !== undefined) return own;
    for (const o of c.datasets) {
      const p = o === b ? undefined : predictStepSeconds(timed.get(`${o.info.key}:${m}`) ?? [], L);
      if (p !== undefined) return p * Math.max(1, sizeOf(b) / sizeOf(o));
    }
    return ours.step?.median ?? ours.firstStepSeconds ?? 1;
  };
  try {
    for (const b of c.datasets) {
      const depths = c.config.torch.depths[b.info.key as keyof typeof c.config.torch.depths] ?? [];
      if (depths.length === 0) continue;
      const dir = join(tmp, b.info.key);
      mkdirSync(dir, { recursive: true });
      exportGraph(dir, b.ds);
      for (const L of depths) {
        for (const m of MODELS) {
          const ours = c.ours.find((p) => p.dataset === b.info.key && p.model === m && p.L === L);
          const point: TorchPoint = { dataset: b.info.key, model: m, L, status: "skipped" };
          points.push(point);
          if (ours?.status !== "measured" || !c.rig) {
            point.reason = c.rig
              ? `ours was not measured in this run (${ours?.status ?? "absent"})`
              : "no GPU rig to time our steps alongside";
            continue;
          }
          const rig = c.rig;
          const pred = predictTorch(b, m, L, ours);
          const reps = repsFor(pred, c.config.repSeconds, 2, c.config.torch.reps);
          // Theirs: a first step and a warm-up step, then the timed ones; ours the same in
          // alternation (warm-up, timed), on a session bound afresh.
          const oursStep = ours.step?.median ?? ours.firstStepSeconds ?? pred;
          const cost = (overhead.get(b.info.key) ?? 10) + pred * (2 + reps) + oursStep * (1 + reps);
          if (!budget.fits(cost)) {
            point.reason = `predicted ${seconds(cost)}, ${seconds(budget.left())} left of the section's budget`;
            c.log(`[torch] ${b.info.key} ${m} L=${L}: skipped (${point.reason})`);
            continue;
          }
          const ex = exportParams(dir, c.root, b, m, L, c.config.seed);
          const cfgFile = join(dir, `config-${m}-${L}.json`);
          writeFileSync(
            cfgFile,
            JSON.stringify({
              model: m === "RevGCN" ? "rev" : "res",
              L,
              C: ex.C,
              p: ex.p,
              lr: c.config.lr,
              weight_decay: c.config.weightDecay,
              steps: 1 + reps,
              threads,
              seed: c.config.seed,
              params_file: ex.file,
              params: ex.params,
            }),
          );
          const t0 = performance.now();
          // Passive waits: spinning OpenMP workers on a busy machine (other jobs, or lavapipe's
          // threads just released) made steps ~6x slower here than with waits that sleep.
          const twin = TorchTwin.start(
            probe.python,
            [script, "--serve", dir, cfgFile],
            { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: "PASSIVE" },
            // Generous: the prediction does not know the process's start-up and data loading
            // on a new graph, and killing a nearly finished run wastes all of it.
            Math.ceil(Math.max(300, 4 * cost) * 1000),
          );
          let paired: AlternateResult[];
          let out: TorchOutput;
          try {
            // Our step and theirs in alternation (ours, theirs, theirs, ours, …): the machine's
            // drift between the depth section and this one no longer enters the ratio.
            paired = await rig.withSteppers(
              [{ model: benchModel(c.root, m, L, b.info.D), ds: b.ds }],
              { optimizer, seed: c.config.seed, lr: c.config.lr },
              ([oursStepper]) => alternateSteps([oursStepper!, twin], reps),
            );
            out = await twin.finish<TorchOutput>();
          } catch (err) {
            twin.kill();
            point.status = "failed";
            point.reason = (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
            c.log(`[torch] ${b.info.key} ${m} L=${L}: FAILED: ${point.reason}`);
            continue;
          }
          const wall = (performance.now() - t0) / 1000;
          info = { torch: out.torch, threads: out.threads, blas: out.blas };
          const stepTotal =
            out.first_step_seconds +
            out.step_seconds.reduce((s, x) => s + x, 0) +
            paired[0]!.step.median * (1 + reps);
          if (!overhead.has(b.info.key))
            overhead.set(b.info.key, Math.max(1, wall - stepTotal * 1.5));
          Object.assign(point, {
            status: "measured",
            // The twin's warm-up step (its second) is not among the timed ones.
            step: paired[1]!.step,
            ours: paired[0]!.step,
            firstStepSeconds: out.first_step_seconds,
            staticBytes: out.memory.static_bytes,
            ...(out.memory.step_peak_delta !== null
              ? { stepPeakDelta: out.memory.step_peak_delta }
              : {}),
            initEvalLoss: out.init_eval_loss,
            losses: out.losses,
            ...(ours.initEvalLoss !== undefined
              ? { initEvalLossDiff: Math.abs(ours.initEvalLoss - out.init_eval_loss) }
              : {}),
          });
          const list = timed.get(`${b.info.key}:${m}`) ?? [];
          list.push({ L, seconds: point.step!.median });
          timed.set(`${b.info.key}:${m}`, list);
          c.log(
            `[torch] ${b.info.key} ${m} L=${L}: step ${seconds(point.step!.median)} (n=${point.step!.n}), ` +
              `ours alternated ${seconds(point.ours!.median)}, ` +
              `init loss ${out.init_eval_loss.toFixed(5)} vs ours ${ours.initEvalLoss?.toFixed(5) ?? "—"} ` +
              `[${budget.spent().toFixed(0)} s]`,
          );
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return {
    available: true,
    note:
      `plain PyTorch ${info.torch ?? probe.torch} on the CPU (${info.threads ?? threads} threads, OMP_WAIT_POLICY=PASSIVE, BLAS: ${info.blas ?? "?"}); ` +
      "memory = tensors alive before the step + the peak RSS increase over the first step",
    python: probe.python,
    ...info,
    gradientSelfCheck,
    points,
  };
}
