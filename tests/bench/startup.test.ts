// The start-up section's pure parts (reading the CLI's `[timing]` lines and the children's CPU
// time, the targets, the warm spreads, the summary table) and its runner, driven by a tiny script
// in place of the CLI: it sees the Mesa cache directory the runner gives it, empty the first
// time and populated afterwards, and times itself accordingly. The real CLI is not run here.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../bench/lib/paths.js";
import { markdownSummary } from "../../bench/report/markdown.js";
import {
  childCpuSeconds,
  parsePhaseLines,
  shaderCacheEnv,
  startSection,
  startTargets,
  warmSpreads,
  type StartConfig,
} from "../../bench/sections/startup.js";
import type { StartRun, SuiteResult } from "../../bench/types.js";

const root = projectRoot();

// What `REVGNN_TIMING=1 revgnn train … --epochs 1 --quiet` writes to standard error.
const STDERR = [
  "RevGCN on cora: 2708 nodes, 10556 edges, 1433 features; llvmpipe: Mesa 25.0.7",
  "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16",
  "[timing] modules loaded               at    374 ms  (+374 ms)",
  "[timing] command's modules loaded     at    899 ms  (+525 ms)",
  "[timing] kernels ready, data bound    at   5261 ms  (+1383 ms)",
  "[timing] first step                   at   5764 ms  (+502 ms)",
  "[timing] command done                 at   8125 ms  (+2063 ms)",
  "",
].join("\n");

const run = (kind: StartRun["kind"], firstStep: number, wall: number, ok = true): StartRun => ({
  kind,
  epochs: kind === "default" ? "default" : 1,
  status: ok ? "ok" : "failed",
  wallSeconds: wall,
  firstStepSeconds: firstStep,
  phases: [{ name: "first step", atMs: firstStep * 1000, tookMs: 500 }],
  load: { before: 9.5, after: 10.25 },
});

describe("start-up: reading a run", () => {
  it("parses the [timing] lines and skips everything else", () => {
    const marks = parsePhaseLines(STDERR);
    expect(marks.map((m) => m.name)).toEqual([
      "modules loaded",
      "command's modules loaded",
      "kernels ready, data bound",
      "first step",
      "command done",
    ]);
    expect(marks[3]).toEqual({ name: "first step", atMs: 5764, tookMs: 502 });
    expect(parsePhaseLines("no timing here\n[timing] broken line")).toEqual([]);
  });

  it("reads the waited-for children's CPU time from /proc/self/stat, command names with spaces too", () => {
    // Fields 14–17: utime 500, stime 60, cutime 1234, cstime 66 (ticks of 1/100 s).
    const stat = "4242 (node (x) y) S 1 2 3 0 -1 4194304 99 0 0 0 500 60 1234 66 20 0 1 0 633804";
    expect(childCpuSeconds(stat)).toBeCloseTo(13);
    expect(childCpuSeconds("4242 (node) S 1 2")).toBeUndefined();
  });
});

describe("start-up: targets and spreads", () => {
  it("cold first step ≤ 30 s, warm median first step ≤ 2 s, the 200-epoch run under 60 s", () => {
    const runs = [
      run("cold", 18.6, 20.4),
      run("warm", 1.9, 3.8),
      run("warm", 2.5, 4.7),
      run("warm", 1.6, 2.7),
      run("warm", 0.1, 0.2, false), // a failed run counts for nothing
      run("default", 1.8, 67.2),
    ];
    const [cold, warm, full] = startTargets(runs);
    expect(cold).toMatchObject({
      comparison: "≤",
      limitSeconds: 30,
      valueSeconds: 18.6,
      pass: true,
    });
    expect(warm).toMatchObject({ limitSeconds: 2, valueSeconds: 1.9, pass: true });
    expect(full).toMatchObject({
      comparison: "<",
      limitSeconds: 60,
      valueSeconds: 67.2,
      pass: false,
    });
    // Exactly 60 s is not "under 60 s"; exactly 2 s is "≤ 2 s".
    expect(startTargets([run("default", 1, 60)])[2]!.pass).toBe(false);
    expect(startTargets([run("warm", 2, 3)])[1]!.pass).toBe(true);

    const spreads = warmSpreads(runs);
    expect(spreads.firstStep).toMatchObject({ n: 3, median: 1.9, min: 1.6, max: 2.5 });
    expect(spreads.wall).toMatchObject({ n: 3, median: 3.8 });
    expect(spreads.cpu).toBeUndefined(); // no run had a CPU time
  });

  it("a target whose run is missing or failed has no verdict", () => {
    const t = startTargets([run("cold", 40, 45, false)]);
    expect(t.map((x) => x.pass)).toEqual([undefined, undefined, undefined]);
    expect(t[0]!.valueSeconds).toBeUndefined();
  });
});

/**
 * Stands in for the CLI: cold (an empty MESA_SHADER_CACHE_DIR) it reports its first step at
 * 25 s, warm at 1.5 s, and it fills the cache; without REVGNN_TIMING=1 it fails.
 */
const FAKE_CLI = `
const fs = require("fs"), path = require("path");
if (process.env.REVGNN_TIMING !== "1") process.exit(3);
const file = path.join(process.env.MESA_SHADER_CACHE_DIR, "pipelines");
const at = fs.existsSync(file) ? 1500 : 25000;
fs.writeFileSync(file, "compiled");
console.error("a line of Dawn's");
console.error("[timing] first step                   at " + at + " ms  (+" + at + " ms)");
console.error("[timing] command done                 at " + (at + 100) + " ms  (+100 ms)");
console.log(process.argv.slice(1).join(" "));
`;

describe("start-up: the runner", () => {
  it("gives the child timings on and Mesa's cache on, in the directory given", () => {
    const env = shaderCacheEnv({ PATH: "/bin", MESA_SHADER_CACHE_DISABLE: "true" }, "/tmp/c");
    expect(env).toEqual({ PATH: "/bin", REVGNN_TIMING: "1", MESA_SHADER_CACHE_DIR: "/tmp/c" });
  });

  const config: StartConfig = { enabled: true, warmReps: 2, defaultRun: true, timeoutSeconds: 60 };
  const fake = (epochs: number | undefined) => [
    process.execPath,
    "-e",
    FAKE_CLI,
    epochs === undefined ? "default" : String(epochs),
  ];

  it("runs cold in an empty shader cache, then warm in the same one, and removes it", () => {
    const logs: string[] = [];
    const s = startSection({ root, config, argv: fake, log: (m) => logs.push(m) });
    expect(s.status).toBe("measured");
    expect(s.runs.map((r) => [r.kind, r.epochs, r.firstStepSeconds])).toEqual([
      ["cold", 1, 25],
      ["warm", 1, 1.5],
      ["warm", 1, 1.5],
      ["default", "default", 1.5],
    ]);
    for (const r of s.runs) {
      expect(r.status).toBe("ok");
      expect(r.phases.map((p) => p.name)).toEqual(["first step", "command done"]);
      expect(r.wallSeconds).toBeGreaterThan(0);
      expect(r.load.before).toBeGreaterThanOrEqual(0);
    }
    expect(s.targets.map((t) => t.pass)).toEqual([true, true, true]);
    expect(s.warm.firstStep).toMatchObject({ n: 2, median: 1.5 });
    const dir = /Mesa shader cache (\S+)/.exec(logs[0]!)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
    expect(
      logs.some((l) => /target cold: first step done ≤ 30\.00 s: 25\.00 s, pass/.test(l)),
    ).toBe(true);
  }, 60_000);

  it("records a failing command with its exit status and gives no verdict", () => {
    const failing = () => [process.execPath, "-e", "console.error('boom'); process.exit(4)"];
    const s = startSection({
      root,
      config: { ...config, warmReps: 1, defaultRun: false },
      argv: failing,
    });
    expect(s.status).toBe("failed");
    expect(s.runs).toHaveLength(1); // no warm run without a cold one that filled the cache
    expect(s.runs[0]!.reason).toMatch(/exit 4: boom/);
    expect(s.targets.every((t) => t.pass === undefined)).toBe(true);
  }, 60_000);
});

describe("start-up: the summary", () => {
  it("a table of targets with pass and MISS, every run with its load", () => {
    const runs = [run("cold", 18.6, 20.4), run("warm", 1.9, 3.8), run("default", 1.8, 67.2)];
    const r = {
      version: 1,
      quick: false,
      startedAt: "2026-01-02T03:04:05.000Z",
      seconds: 100,
      machine: {
        slug: "llvmpipe-amd-epyc-2c",
        adapter: "llvmpipe",
        adapterClass: "cpu",
        cpu: "AMD EPYC",
        cores: 2,
        memoryBytes: 2 ** 34,
        os: "Linux",
        node: "v22",
        limits: { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 32 },
      },
      settings: {},
      start: {
        status: "measured",
        note: "cold: an empty cache",
        command: "dist/cli/main.js train examples/revgcn.gnn --data data/cora --epochs 1 --quiet",
        runs,
        warm: warmSpreads(runs),
        targets: startTargets(runs),
      },
      notes: [],
    } satisfies SuiteResult;
    const md = markdownSummary(r, "stem");
    expect(md).toContain("## Cold and warm start");
    expect(md).toContain("| cold: first step done | ≤ 30.00 s | 18.60 s | pass |");
    expect(md).toContain(
      "| default 200-epoch run, warm: whole command | < 60.00 s | 67.20 s | MISS |",
    );
    expect(md).toContain("| warm | 1 | 1.90 s | 3.80 s | — | 9.5 → 10.25 | ok |");
    expect(md).toMatch(/\| first step \| 500\.0 ms \| 500\.0 ms \(n=1\) \|/); // the phase breakdown
  });
});
