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
import { summarize } from "../lib/stats.js";
import type { DepthPoint, ModelName, TorchPoint, TorchSection } from "../types.js";
import type { BenchDataset } from "./datasets.js";
import { MODELS } from "./depth.js";
import { benchModel } from "./models.js";

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
          if (ours?.status !== "measured") {
            point.reason = `ours was not measured in this run (${ours?.status ?? "absent"})`;
            continue;
          }
          const pred = predictTorch(b, m, L, ours);
          const reps = repsFor(pred, c.config.repSeconds, 2, c.config.torch.reps);
          const cost = (overhead.get(b.info.key) ?? 10) + pred * (1.5 + reps);
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
          const r = spawnSync(probe.python, [script, dir, cfgFile], {
            encoding: "utf8",
            // Generous: the prediction does not know the process's start-up and data loading on
            // a new graph, and killing a nearly finished run wastes all of it.
            timeout: Math.ceil(Math.max(300, 4 * cost) * 1000),
            maxBuffer: 16 << 20,
            // Passive waits: spinning OpenMP workers on a busy machine (other jobs, or lavapipe's
            // threads just released) made steps ~6x slower here than with waits that sleep.
            env: { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: "PASSIVE" },
          });
          const wall = (performance.now() - t0) / 1000;
          if (r.status !== 0) {
            point.status = "failed";
            const why =
              r.error?.message ?? (r.stderr || "").trim().split("\n").slice(-3).join(" | ");
            point.reason = r.signal
              ? `killed by ${r.signal} (out of memory or timeout): ${why}`
              : why;
            c.log(`[torch] ${b.info.key} ${m} L=${L}: FAILED: ${point.reason}`);
            continue;
          }
          const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as TorchOutput;
          info = { torch: out.torch, threads: out.threads, blas: out.blas };
          const stepTotal = out.first_step_seconds + out.step_seconds.reduce((s, x) => s + x, 0);
          if (!overhead.has(b.info.key))
            overhead.set(b.info.key, Math.max(1, wall - stepTotal * 1.5));
          Object.assign(point, {
            status: "measured",
            step: summarize(out.step_seconds.length ? out.step_seconds : [out.first_step_seconds]),
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
