// The benchmark suite's pure parts, fast and without a GPU: statistics, cost prediction, the
// machine slug, the compile-time-vs-L section (L up to 1000), the plan-only depth section on
// Cora, and the markdown summary and SVG plots rendered from canned numbers. The suite itself
// (`npm run bench`, `revgnn bench --quick`) is not run here.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FULL, QUICK } from "../../bench/config.js";
import { predictStepSeconds, repsFor } from "../../bench/lib/budget.js";
import { machineSlug } from "../../bench/lib/machine.js";
import { projectRoot, resultStem } from "../../bench/lib/paths.js";
import { summarize } from "../../bench/lib/stats.js";
import { alternateSteps, type Stepper } from "../../bench/lib/alternate.js";
import { TorchTwin } from "../../bench/lib/torch-twin.js";
import { markdownSummary } from "../../bench/report/markdown.js";
import { PLOTS, renderSvg } from "../../bench/report/plots.js";
import { writeResultSet } from "../../bench/report/write.js";
import { compileSection } from "../../bench/sections/compile-time.js";
import { loadBenchDataset } from "../../bench/sections/datasets.js";
import { depthSection } from "../../bench/sections/depth.js";
import type { DepthPoint, SuiteResult } from "../../bench/types.js";
import { MEMORY_CATEGORIES } from "../../runtime/gpu/memory.js";
import type { CategoryPlan } from "../../driver/plan.js";

const root = projectRoot();
const MiB = 2 ** 20;

/** Every category of the runtime's accounting, summing to `total`. */
const mem = (total: number, activations: number) => {
  const plan = { total, activations } as CategoryPlan;
  for (const c of MEMORY_CATEGORIES) if (c !== "activations" && c !== "graph") plan[c] = MiB;
  plan.graph = total - activations - (MEMORY_CATEGORIES.length - 2) * MiB;
  return plan;
};

const spreadOf = (xs: number[]) => summarize(xs);

/** A small result set with every kind of point: measured, planned, no-fit. */
function canned(): SuiteResult {
  const points: DepthPoint[] = [
    {
      dataset: "cora",
      model: "RevGCN",
      L: 1,
      status: "measured",
      memory: mem(20 * MiB, 4 * MiB),
      plan: mem(20 * MiB, 4 * MiB),
      step: spreadOf([0.5, 0.4, 0.6]),
      firstStepSeconds: 2,
      dispatchesPerStep: 138,
      losses: [1.9, 1.8],
    },
    {
      dataset: "cora",
      model: "ResGCN",
      L: 1,
      status: "measured",
      memory: mem(22 * MiB, 5 * MiB),
      plan: mem(22 * MiB, 5 * MiB),
      step: spreadOf([0.4, 0.45, 0.5]),
      firstStepSeconds: 2,
      dispatchesPerStep: 94,
      losses: [1.9],
    },
    {
      dataset: "cora",
      model: "RevGCN",
      L: 1000,
      status: "planned",
      memory: mem(56 * MiB, 13 * MiB),
      plan: mem(56 * MiB, 13 * MiB),
      predictedStepSeconds: 700,
      reason: "a real step is predicted to take 700 s",
    },
    {
      dataset: "cora",
      model: "ResGCN",
      L: 1000,
      status: "no-fit",
      memory: mem(30000 * MiB, 29000 * MiB),
      plan: mem(30000 * MiB, 29000 * MiB),
      reason: "memory: plan 29 GiB > budget | 16 GiB",
    },
  ];
  return {
    version: 1,
    quick: true,
    startedAt: "2026-01-02T03:04:05.000Z",
    seconds: 81,
    machine: {
      slug: "llvmpipe-amd-epyc-2c",
      adapter: "mesa / llvmpipe [cpu]",
      adapterClass: "cpu",
      cpu: "AMD EPYC",
      cores: 2,
      memoryBytes: 24 * 2 ** 30,
      os: "Linux",
      node: "v20",
      limits: { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 2 ** 32 - 1 },
    },
    settings: {},
    depth: {
      datasets: [
        {
          key: "cora",
          name: "Cora",
          source: "data/cora",
          nodes: 2708,
          edges: 10556,
          features: 1433,
          classes: 7,
          D: 64,
        },
      ],
      depths: [1, 1000],
      points,
      maxDepth: [
        { dataset: "cora", model: "ResGCN", L: 617, limit: "L = 618: memory", planned: true },
      ],
      memoryBudgetBytes: 16 * 2 ** 30,
      stepBudgetSeconds: 600,
    },
    torch: {
      available: true,
      note: "plain PyTorch 1.13 on the CPU",
      points: [
        {
          dataset: "cora",
          model: "RevGCN",
          L: 1,
          status: "measured",
          step: spreadOf([0.3, 0.31]),
          staticBytes: 15 * MiB,
          stepPeakDelta: 13 * MiB,
          initEvalLoss: 2.3,
          initEvalLossDiff: 2e-7,
        },
        {
          dataset: "cora",
          model: "ResGCN",
          L: 1,
          status: "failed",
          reason: "killed | out of memory",
        },
      ],
    },
    kernels: { status: "skipped", note: "not in the quick suite" },
    compile: {
      model: "RevGCN (D = 64)",
      points: [1, 10, 100].map((L) => ({
        L,
        frontend: spreadOf([0.01]),
        codegen: spreadOf([0.04, 0.05]),
        stepKernels: 192,
        evalKernels: 38,
      })),
    },
    scale: {
      L: 100,
      D: 128,
      density: "6.91 directed edges per node",
      memoryBudgetBytes: 16 * 2 ** 30,
      candidates: [
        {
          nodes: 169343,
          edges: 1170000,
          partitions: 1,
          scope: "trainer",
          fits: true,
          planned: mem(900 * MiB, 600 * MiB),
        },
        {
          nodes: 338686,
          edges: 2340000,
          partitions: 1,
          scope: "trainer",
          fits: false,
          reason: "adapter limit: buffer x",
        },
      ],
      largest: [
        {
          nodes: 169343,
          edges: 1170000,
          partitions: 1,
          scope: "trainer",
          fits: true,
          planned: mem(900 * MiB, 600 * MiB),
        },
      ],
    },
    notes: ["a note"],
  };
}

describe("bench helpers", () => {
  it("summarize: median, quartiles, min/max", () => {
    const s = summarize([5, 1, 3, 2, 4]);
    expect(s).toEqual({ n: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4 });
    expect(summarize([2]).median).toBe(2);
  });

  it("predicts a step's cost from shallower measured steps", () => {
    expect(predictStepSeconds([], 10)).toBeUndefined();
    expect(predictStepSeconds([{ L: 10, seconds: 2 }], 100)).toBeCloseTo(20); // proportional
    // a + b·L through (10, 2) and (100, 11): b = 0.1, so L = 1000 costs 101 s.
    const two = [
      { L: 10, seconds: 2 },
      { L: 100, seconds: 11 },
    ];
    expect(predictStepSeconds(two, 1000)).toBeCloseTo(101);
    expect(repsFor(10, 60, 2, 7)).toBe(6);
    expect(repsFor(100, 60, 2, 7)).toBe(2);
  });

  it("alternates steps A B, B A, … after one untimed warm-up each", async () => {
    const calls: string[] = [];
    const fake = (name: string, seconds: number): Stepper => {
      let t = 0;
      return {
        step: async () => {
          calls.push(name);
          t++;
          return { seconds: seconds * t, loss: t };
        },
      };
    };
    const [a, b] = await alternateSteps([fake("A", 1), fake("B", 10)], 4);
    expect(calls.join("")).toBe("AB" + "AB" + "BA" + "AB" + "BA");
    // The warm-up (t = 1) is not timed: A's timed steps took 2, 3, 4, 5 s.
    expect(a!.step).toMatchObject({ n: 4, min: 2, max: 5, median: 3.5 });
    expect(a!.losses).toEqual([2, 3, 4, 5]);
    expect(b!.step.median).toBe(35);
  });

  it("drives the PyTorch twin's step protocol, and reports a twin that dies or hangs", async () => {
    const script = join(root, "tests", "bench", "fixtures", "fake-twin.mjs");
    const start = (mode: string, timeoutMs = 20_000) =>
      TorchTwin.start(process.execPath, [script, mode], process.env, timeoutMs);
    const ok = start("ok");
    expect(await ok.step()).toEqual({ seconds: 0.002, loss: 0.5 });
    expect(await ok.step()).toEqual({ seconds: 0.003, loss: 1 / 3 });
    expect(await ok.finish()).toEqual({ losses: [1, 0.5, 1 / 3], first_step_seconds: 0.5 });

    const crash = start("crash");
    await crash.step();
    await expect(crash.step()).rejects.toThrow(/twin exited: RuntimeError: out of memory/);

    const silent = start("silent", 300);
    await expect(silent.step()).rejects.toThrow(/no answer within 0 s/);
    silent.kill();
  });

  it("names result files after the date and a machine slug", () => {
    const slug = machineSlug(
      "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)",
      "AMD EPYC 7B13 64-Core Processor",
      2,
    );
    expect(slug).toBe("llvmpipe-amd-epyc-7b13-2c");
    expect(resultStem(new Date("2026-01-02T10:00:00Z"), slug, true)).toBe(
      "2026-01-02-llvmpipe-amd-epyc-7b13-2c-quick",
    );
  });

  it("quick suite: Cora only, no kernel benchmark, small budgets", () => {
    expect(QUICK.datasets.map((d) => d.key)).toEqual(["cora"]);
    expect(QUICK.kernels.enabled).toBe(false);
    const quickBudget = Object.values(QUICK.sectionSeconds).reduce((a, b) => a + b, 0);
    expect(quickBudget).toBeLessThan(120);
    expect(FULL.depths).toEqual([1, 10, 100, 1000]);
  });
});

describe("compile time vs L", () => {
  it("kernel count does not depend on L (1 … 1000)", () => {
    const c = compileSection({ root, model: "RevGCN", D: 32, depths: [1, 10, 100, 1000], reps: 1 });
    expect(c.points.map((p) => p.L)).toEqual([1, 10, 100, 1000]);
    const kernels = new Set(c.points.map((p) => `${p.stepKernels}/${p.evalKernels}`));
    expect(kernels.size).toBe(1);
    expect(c.points[0]!.stepKernels).toBeGreaterThan(0);
    for (const p of c.points) expect(p.frontend.median + p.codegen.median).toBeLessThan(10);
  }, 30_000);
});

describe("depth section without an adapter", () => {
  it("plans RevGCN and ResGCN on Cora; ResGCN's activations grow with L, RevGCN's do not", async () => {
    const cora = await loadBenchDataset(root, "cora", 16, 1);
    const d = await depthSection({
      root,
      config: { ...QUICK, depths: [1, 100] },
      datasets: [cora],
      limits: { maxBindingBytes: 128 * MiB, memoryBudgetBytes: 64 * MiB },
      initEval: () => false,
      log: () => {},
    });
    const at = (m: string, L: number) => d.points.find((p) => p.model === m && p.L === L)!;
    expect(at("RevGCN", 1).status).toBe("planned");
    const rev = at("RevGCN", 100).memory!.activations / at("RevGCN", 1).memory!.activations;
    const res = at("ResGCN", 100).memory!.activations / at("ResGCN", 1).memory!.activations;
    expect(rev).toBeLessThan(2);
    expect(res).toBeGreaterThan(10);
    // The deepest ResGCN under a 64 MiB budget: its plan fits, one block more does not.
    const deepest = d.maxDepth[0]!;
    expect(deepest.L).toBeGreaterThan(1);
    expect(deepest.limit).toMatch(/memory/);
  }, 30_000);
});

describe("report", () => {
  it("markdown summary: sources, ratios, spreads, escaped cells", () => {
    const md = markdownSummary(canned(), "stem", new Set(["memory", "time"]));
    expect(md).toContain("![memory vs depth](stem-memory.svg)");
    expect(md).not.toContain("stem-scale.svg"); // not rendered, not linked
    expect(md).toContain("20.0 MiB (m)");
    expect(md).toContain("56.0 MiB (p)");
    expect(md).toMatch(/no fit \(plan 29\.30 GiB\)/);
    expect(md).toContain("1.10×"); // Res/Rev total at L = 1: 22 / 20
    expect(md).toContain("500.0 ms [400.0 ms–600.0 ms] (n=3)");
    expect(md).toContain("1.11×"); // Rev/Res time: 0.5 / 0.45
    expect(md).toContain("not run (predicted 700 s)");
    expect(md).toContain("**L = 617**");
    expect(md).toContain("killed \\| out of memory"); // a pipe inside a cell is escaped
    const row = md.split("\n").find((l) => l.startsWith("| 1 | 20.0 MiB (m)"))!;
    expect(row.split(/(?<!\\)\|/).length).toBe(9); // L + 6 columns, between 8 bars
  });

  it("renders every plot to SVG and writes the result set atomically", async () => {
    const r = canned();
    for (const make of Object.values(PLOTS)) {
      const spec = make(r);
      expect(spec).toBeDefined();
      const svg = await renderSvg(spec!);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain("AMD EPYC"); // the machine is stated on every figure
    }
    const dir = mkdtempSync(join(tmpdir(), "revgnn-bench-test-"));
    try {
      const files = await writeResultSet(dir, "stem", r);
      expect(readdirSync(dir).sort()).toEqual(
        [
          "stem-compile.svg",
          "stem-memory.svg",
          "stem-scale.svg",
          "stem-time.svg",
          "stem.json",
          "stem.md",
        ].sort(),
      );
      expect(files).toHaveLength(6);
      expect(JSON.parse(readFileSync(join(dir, "stem.json"), "utf8")).depth.points).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
