// Cold and warm start (issue 11): the built CLI's default run (`revgnn train examples/revgcn.gnn
// --data data/cora`) as a child process, the way a user starts it. Cold: Mesa's shader cache
// (MESA_SHADER_CACHE_DIR) is a fresh empty directory, so lavapipe compiles every pipeline; warm:
// the same directory, now populated, several times. REVGNN_TIMING=1 makes the CLI print when each
// phase ended (runtime/util/phases.ts), which gives the time to the first step done and where the
// seconds went. The machine may be shared, so the load average is recorded beside every run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { seconds } from "../lib/format.js";
import { summarize } from "../lib/stats.js";
import type { PhaseMark, StartRun, StartSection, StartTarget } from "../types.js";

/** The targets, in seconds. */
export const START_TARGETS = {
  coldFirstStep: 30,
  warmFirstStep: 2,
  defaultRunWarm: 60,
} as const;

export interface StartConfig {
  enabled: boolean;
  /** Warm 1-epoch runs after the cold one (median, min, max). */
  warmReps: number;
  /** Also time the default 200-epoch run (`npm start`), warm: a minute or more. */
  defaultRun: boolean;
  /** A run that takes longer is killed and recorded as failed. */
  timeoutSeconds: number;
}

export interface StartOptions {
  root: string;
  config: StartConfig;
  log?: (msg: string) => void;
  /**
   * The command line of a run (program and arguments) for a number of epochs (undefined: the
   * CLI's default). Defaults to the built CLI's default run; tests substitute a tiny script.
   */
  argv?: (epochs: number | undefined) => string[];
}

const PHASE_LINE = /^\[timing\] (.+)\s+at\s+(\d+(?:\.\d+)?) ms\s+\(\+(\d+(?:\.\d+)?) ms\)\s*$/;

/** The `[timing]` lines of a run's standard error (other lines, e.g. Dawn's notices, are skipped). */
export function parsePhaseLines(stderr: string): PhaseMark[] {
  const marks: PhaseMark[] = [];
  for (const line of stderr.split("\n")) {
    const m = PHASE_LINE.exec(line.trimEnd());
    if (m) marks.push({ name: m[1]!.trim(), atMs: Number(m[2]), tookMs: Number(m[3]) });
  }
  return marks;
}

/**
 * CPU seconds (user + system) of this process's children that have been waited for, from
 * /proc/self/stat (cutime and cstime, fields 16 and 17, in clock ticks of 1/100 s on Linux).
 * The difference across a spawnSync is the child's CPU time, its threads (lavapipe's) included.
 * The command name (field 2) may hold spaces and parentheses, so fields are counted after its ")".
 */
export function childCpuSeconds(stat: string, ticksPerSecond = 100): number | undefined {
  const rest = stat
    .slice(stat.lastIndexOf(")") + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state), so field k is rest[k - 3].
  const cutime = Number(rest[13]);
  const cstime = Number(rest[14]);
  if (!Number.isFinite(cutime) || !Number.isFinite(cstime)) return undefined;
  return (cutime + cstime) / ticksPerSecond;
}

function readChildCpu(): number | undefined {
  try {
    return childCpuSeconds(readFileSync("/proc/self/stat", "utf8"));
  } catch {
    return undefined; // not Linux: no CPU time, the wall time still stands
  }
}

/** The 1-minute load average (0 where the platform has none, e.g. Windows). */
const load1 = () => Number(loadavg()[0]!.toFixed(2));

/** The child's environment: phase timings on, Mesa's disk cache on and in `cacheDir`. */
export function shaderCacheEnv(env: NodeJS.ProcessEnv, cacheDir: string): NodeJS.ProcessEnv {
  // A cache disabled in the caller's environment would make every run a cold one.
  const { MESA_SHADER_CACHE_DISABLE: _disabled, ...rest } = env;
  return { ...rest, REVGNN_TIMING: "1", MESA_SHADER_CACHE_DIR: cacheDir };
}

interface RunSpec {
  kind: StartRun["kind"];
  epochs: number | undefined;
  cacheDir: string;
}

function runOnce(o: StartOptions, argv: string[], spec: RunSpec): StartRun {
  const loadBefore = load1();
  const cpu0 = readChildCpu();
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: o.root,
    encoding: "utf8",
    timeout: Math.ceil(o.config.timeoutSeconds * 1000),
    maxBuffer: 16 << 20,
    env: shaderCacheEnv(process.env, spec.cacheDir),
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu1 = readChildCpu();
  const phases = parsePhaseLines(r.stderr ?? "");
  const firstStep = phases.find((p) => p.name === "first step");
  const run: StartRun = {
    kind: spec.kind,
    epochs: spec.epochs ?? "default",
    status: r.status === 0 ? "ok" : "failed",
    wallSeconds,
    ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuSeconds: cpu1 - cpu0 } : {}),
    ...(firstStep ? { firstStepSeconds: firstStep.atMs / 1000 } : {}),
    phases,
    load: { before: loadBefore, after: load1() },
  };
  if (r.status !== 0) {
    const tail = (r.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
    run.reason = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${tail}`;
  }
  return run;
}

function describeRun(r: StartRun): string {
  const what = r.status === "ok" ? "" : ` FAILED (${r.reason ?? "?"})`;
  const epochs =
    r.epochs === "default" ? "npm start's epochs" : `${r.epochs} epoch${r.epochs === 1 ? "" : "s"}`;
  return (
    `[start] ${r.kind}, ${epochs}: first step ${seconds(r.firstStepSeconds)}, ` +
    `command ${seconds(r.wallSeconds)} wall, ${seconds(r.cpuSeconds)} CPU; load ${r.load.before}→${r.load.after}${what}`
  );
}

/** "pass", "MISS", or "not measured" (the run failed or was not made). */
export const startVerdict = (t: StartTarget) =>
  t.pass === undefined ? "not measured" : t.pass ? "pass" : "MISS";

/**
 * The three targets against the runs: cold first step ≤ 30 s, warm first step ≤ 2 s
 * (the median of the warm runs), the default 200-epoch run warm < 60 s (its wall time).
 * A target whose run failed or was not made has no value and no verdict.
 */
export function startTargets(runs: readonly StartRun[]): StartTarget[] {
  const ok = runs.filter((r) => r.status === "ok");
  const cold = ok.find((r) => r.kind === "cold")?.firstStepSeconds;
  const warm = ok.filter((r) => r.kind === "warm").flatMap((r) => r.firstStepSeconds ?? []);
  const warmMedian = warm.length ? summarize(warm).median : undefined;
  const full = ok.find((r) => r.kind === "default")?.wallSeconds;
  const target = (
    name: string,
    limit: number,
    value: number | undefined,
    comparison: StartTarget["comparison"] = "≤",
  ): StartTarget => ({
    name,
    comparison,
    limitSeconds: limit,
    ...(value !== undefined
      ? { valueSeconds: value, pass: comparison === "<" ? value < limit : value <= limit }
      : {}),
  });
  return [
    target("cold: first step done", START_TARGETS.coldFirstStep, cold),
    target("warm: first step done (median)", START_TARGETS.warmFirstStep, warmMedian),
    target("default 200-epoch run, warm: whole command", START_TARGETS.defaultRunWarm, full, "<"),
  ];
}

/** Spreads of the warm runs: first step, whole command, CPU. */
export function warmSpreads(runs: readonly StartRun[]): StartSection["warm"] {
  const warm = runs.filter((r) => r.kind === "warm" && r.status === "ok");
  const of = (xs: number[]) => (xs.length ? summarize(xs) : undefined);
  const firstStep = of(warm.flatMap((r) => r.firstStepSeconds ?? []));
  const wall = of(warm.map((r) => r.wallSeconds));
  const cpu = of(warm.flatMap((r) => r.cpuSeconds ?? []));
  return {
    ...(firstStep ? { firstStep } : {}),
    ...(wall ? { wall } : {}),
    ...(cpu ? { cpu } : {}),
  };
}

export function startSection(o: StartOptions): StartSection {
  const cli = join(o.root, "dist", "cli", "main.js");
  const argv =
    o.argv ??
    ((epochs: number | undefined) => [
      process.execPath,
      cli,
      "train",
      "examples/revgcn.gnn",
      "--data",
      "data/cora",
      ...(epochs !== undefined ? ["--epochs", String(epochs), "--quiet"] : []),
    ]);
  const command = argv(1)
    .slice(1)
    .join(" ")
    .replace(o.root + "/", "");
  const base = { command, runs: [] as StartRun[], warm: {}, targets: [] as StartTarget[] };
  if (!o.argv && !existsSync(cli))
    return { ...base, status: "skipped", note: "dist/cli/main.js is not built (npm run build)" };
  const cacheDir = mkdtempSync(join(tmpdir(), "revgnn-mesa-cache-"));
  const runs: StartRun[] = [];
  const run = (kind: StartRun["kind"], epochs: number | undefined) => {
    const r = runOnce(o, argv(epochs), { kind, epochs, cacheDir });
    runs.push(r);
    o.log?.(describeRun(r));
    return r.status === "ok";
  };
  try {
    o.log?.(`[start] ${command} (REVGNN_TIMING=1), Mesa shader cache ${cacheDir}`);
    // Without a cold run that filled the cache, the later runs would not be warm ones.
    if (run("cold", 1)) {
      for (let i = 0; i < o.config.warmReps; i++) run("warm", 1);
      if (o.config.defaultRun) run("default", undefined);
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const targets = startTargets(runs);
  for (const t of targets)
    o.log?.(
      `[start] target ${t.name} ${t.comparison} ${seconds(t.limitSeconds)}: ${seconds(t.valueSeconds)}, ${startVerdict(t)}`,
    );
  return {
    ...base,
    status: runs.every((r) => r.status === "ok") ? "measured" : "failed",
    note:
      "cold: MESA_SHADER_CACHE_DIR a fresh empty directory; warm: the same directory afterwards" +
      (o.config.defaultRun ? "" : "; the 200-epoch default run is part of the full suite only"),
    runs,
    warm: warmSpreads(runs),
    targets,
  };
}
