// Kernel efficiency: bench/kernels.ts (`npm run bench:kernels`, another engineer's) measures
// GFLOP/s and GB/s of the matmul, SpMM and elementwise templates against numpy/scipy. It runs
// its benchmark when imported and exits, so it is run here as a child process and its table is
// taken from the JSON file it writes (bench/results/kernels-<date>.json).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { KernelSection } from "../types.js";

export interface KernelOptions {
  root: string;
  runs: number;
  timeoutSeconds: number;
  log?: (msg: string) => void;
}

function newestKernelFile(dir: string, since: number): string | undefined {
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir)
    .filter((f) => /^kernels-.*\.json$/.test(f))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .filter((x) => x.t >= since)
    .sort((a, b) => b.t - a.t)[0]?.f;
}

export function kernelSection(o: KernelOptions): KernelSection {
  const built = join(o.root, "dist", "bench", "kernels.js");
  const source = join(o.root, "bench", "kernels.ts");
  const tsx = join(o.root, "node_modules", "tsx", "dist", "cli.mjs");
  const args = existsSync(built) ? [built] : existsSync(source) ? [tsx, source] : undefined;
  if (!args) return { status: "skipped", note: "bench/kernels.ts is not there" };
  const start = Date.now() - 1000;
  o.log?.(`[kernels] running ${args[args.length - 1]} (BENCH_RUNS=${o.runs})`);
  const r = spawnSync(process.execPath, args, {
    cwd: o.root,
    encoding: "utf8",
    timeout: Math.ceil(o.timeoutSeconds * 1000),
    maxBuffer: 16 << 20,
    env: { ...process.env, BENCH_RUNS: String(o.runs) },
  });
  const seconds = (Date.now() - start) / 1000;
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.stderr || "").trim().split("\n").slice(-3).join(" | ");
    return {
      status: "failed",
      note: `bench/kernels.ts failed after ${seconds.toFixed(0)} s: ${why}`,
      seconds,
    };
  }
  const dir = join(o.root, "bench", "results");
  const file = newestKernelFile(dir, start);
  if (!file) return { status: "failed", note: "bench/kernels.ts wrote no kernels-*.json", seconds };
  const data = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
    results?: Record<string, unknown>[];
    dispatch?: Record<string, unknown>;
    ceiling?: { note?: string };
  };
  return {
    status: "measured",
    note: `from bench/kernels.ts, run by this suite (${o.runs} runs per case); ${data.ceiling?.note ?? ""}`,
    file: `bench/results/${file}`,
    seconds,
    rows: data.results ?? [],
    ...(data.dispatch ? { dispatch: data.dispatch } : {}),
  };
}
