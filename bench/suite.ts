// The benchmark suite: every section in one process and one invocation, so that every ratio
// compares runs made minutes apart on the same machine. The result files are rewritten after
// each section, so an interrupted run still leaves what it measured.
import { spawnSync } from "node:child_process";
import { join, relative } from "node:path";
import { totalmem } from "node:os";
import type { SuiteConfig } from "./config.js";
import { bytes, seconds } from "./lib/format.js";
import { availableMemory, describeMachine } from "./lib/machine.js";
import { projectRoot, resultStem } from "./lib/paths.js";
import { writeResultSet } from "./report/write.js";
import { compileSection } from "./sections/compile-time.js";
import { DEFAULT_LR, DEFAULT_THRESHOLD, crosscheckSection } from "./sections/crosscheck.js";
import { loadBenchDataset, type BenchDataset } from "./sections/datasets.js";
import { depthSection } from "./sections/depth.js";
import { kernelSection } from "./sections/kernel-efficiency.js";
import type { Limits } from "./sections/models.js";
import { GpuRig } from "./sections/rig.js";
import { scaleSection } from "./sections/scale.js";
import { startSection } from "./sections/startup.js";
import { findTorch, torchSection } from "./sections/torch.js";
import type { SuiteResult } from "./types.js";

export interface SuiteOptions {
  config: SuiteConfig;
  /** Directory for the result files (default bench/results). */
  outDir?: string;
  log?: (msg: string) => void;
}

export interface SuiteOutcome {
  result: SuiteResult;
  files: string[];
}

/** The commit measured, and whether tracked files differed from it (others edit concurrently). */
export function codeVersion(root: string): string {
  const git = (...args: string[]) =>
    spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--untracked-files=no")
    .split("\n")
    .filter(Boolean).length;
  return dirty ? `${head} + ${dirty} modified tracked files` : head;
}

/** Lavapipe's limits, for plans made without an adapter. */
const DEFAULT_LIMITS = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 2 ** 32 - 1 };

export async function runSuite(o: SuiteOptions): Promise<SuiteOutcome> {
  const { config } = o;
  const log = o.log ?? ((m: string) => console.error(m));
  const root = projectRoot();
  const outDir = o.outDir ?? join(root, "bench", "results");
  const t0 = performance.now();
  const started = new Date();
  const notes: string[] = [];

  let rig: GpuRig | undefined;
  try {
    rig = await GpuRig.acquire();
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    notes.push(
      `No WebGPU adapter (${why}): memory numbers are plans only, no times were measured.`,
    );
    log(`[bench] no adapter: ${why}`);
  }
  const devLimits = rig
    ? {
        maxStorageBufferBindingSize: rig.context.limits.maxStorageBufferBindingSize,
        maxBufferSize: rig.context.limits.maxBufferSize,
      }
    : DEFAULT_LIMITS;
  const machine = describeMachine(rig?.context.adapterInfo, devLimits);
  // lavapipe's buffers live in this machine's RAM; leave the rest to the host side and others.
  const limits: Limits = {
    ...(rig ? { kernels: rig.kernelOptions } : {}),
    maxBindingBytes: devLimits.maxStorageBufferBindingSize,
    memoryBudgetBytes: Math.min(
      config.memoryFraction * totalmem(),
      Math.max(availableMemory() - 2 ** 30, 0.25 * totalmem()),
    ),
  };
  const stem = resultStem(started, machine.slug, config.quick);
  const result: SuiteResult = {
    version: 1,
    quick: config.quick,
    startedAt: started.toISOString(),
    seconds: 0,
    machine,
    settings: { ...config, memoryBudgetBytes: limits.memoryBudgetBytes, code: codeVersion(root) },
    notes,
  };
  log(`[bench] ${machine.adapter}; ${machine.cpu}, ${machine.cores} cores`);
  log(
    `[bench] memory budget per configuration ${bytes(limits.memoryBudgetBytes)}; results ${join(outDir, stem)}.*`,
  );
  let files: string[] = [];
  const save = async () => {
    result.seconds = (performance.now() - t0) / 1000;
    files = await writeResultSet(outDir, stem, result);
  };

  // A section that throws is recorded and skipped: the others still run and are written.
  const section = async (name: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      notes.push(`The ${name} section failed: ${text.split("\n").slice(0, 3).join(" ")}`);
      log(`[bench] ${name} section FAILED: ${text}`);
    }
    await save();
  };

  try {
    // First, while this process is still idle: the CLI's runs are separate processes, and the
    // section's figures are about a user's start, not about what this suite has warmed.
    if (config.start.enabled)
      await section("start-up", async () => {
        result.start = startSection({ root, config: config.start, log });
      });

    await section("compile-time", async () => {
      result.compile = compileSection({
        root,
        model: "RevGCN",
        D: config.datasets[0]?.D ?? 64,
        depths: config.compile.depths,
        reps: config.compile.reps,
        log,
      });
    });

    const datasets: BenchDataset[] = [];
    for (const d of config.datasets) {
      const l0 = performance.now();
      datasets.push(await loadBenchDataset(root, d.key, d.D, config.seed));
      log(`[bench] loaded ${d.key} in ${seconds((performance.now() - l0) / 1000)}`);
    }
    const torch = config.torch.enabled ? findTorch() : { error: "disabled in this configuration" };
    const torchDepths = (ds: string, L: number) =>
      !("error" in torch) &&
      (config.torch.depths[ds as keyof typeof config.torch.depths] ?? []).includes(L);

    await section("memory/time vs depth", async () => {
      result.depth = await depthSection({
        root,
        config,
        datasets,
        limits,
        rig,
        initEval: torchDepths,
        log,
      });
    });
    const depthPoints = result.depth?.points ?? [];

    await section("PyTorch", async () => {
      result.torch = await torchSection(
        { root, config, datasets, ours: depthPoints, rig, log },
        torch,
      );
    });

    await section("gradient cross-check", async () => {
      if (!config.crosscheck.enabled) return;
      if (!rig) {
        result.crosscheck = {
          available: false,
          note: "no WebGPU adapter",
          threshold: DEFAULT_THRESHOLD,
          seed: 0,
          lr: DEFAULT_LR,
          models: [],
          datasets: [],
          rows: [],
          failures: [],
          seconds: 0,
        };
        return;
      }
      result.crosscheck = await crosscheckSection({
        root,
        rig,
        probe: torch,
        datasets: config.crosscheck.datasets,
        log,
      });
    });

    await section("kernel efficiency", async () => {
      if (config.kernels.enabled) {
        result.kernels = kernelSection({
          root,
          runs: config.kernels.runs,
          timeoutSeconds: config.sectionSeconds.kernels,
          log,
        });
        log(`[kernels] ${result.kernels.status}: ${result.kernels.note.slice(0, 200)}`);
      } else {
        result.kernels = {
          status: "skipped",
          note: "not part of the quick suite (run `npm run bench:kernels`)",
        };
      }
    });

    if (config.scale.enabled) {
      await section("scale", async () => {
        result.scale = await scaleSection({ root, config, limits, rig, depthPoints, log });
      });
    }
  } catch (err) {
    notes.push(
      `The suite stopped early: ${(err instanceof Error ? (err.stack ?? err.message) : String(err)).split("\n").slice(0, 3).join(" ")}`,
    );
    await save();
    throw err;
  } finally {
    rig?.close();
  }
  await save();
  log(
    `[bench] done in ${seconds(result.seconds)}: ${files.map((f) => relative(process.cwd(), f)).join(", ")}`,
  );
  return { result, files };
}
