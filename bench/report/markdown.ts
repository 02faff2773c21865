// The markdown summary of a result set: one table per section, every number with its source
// (measured in this run, or planned), every time with its spread and count, ratios only between
// runs of the same invocation.
import { MEMORY_CATEGORIES } from "../../runtime/gpu/memory.js";
import { bytes, count, ratio, seconds } from "../lib/format.js";
import { crosscheckMarkdown } from "../lib/gradcheck.js";
import { machineLine } from "../lib/machine.js";
import { summarize } from "../lib/stats.js";
import { startVerdict } from "../sections/startup.js";
import type { DepthPoint, ModelName, Spread, StartRun, SuiteResult } from "../types.js";

/** A markdown table; a "|" or line break inside a cell (error messages) would break it. */
const table = (header: string[], rows: string[][]): string => {
  const cell = (c: string) => c.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
  return [
    `| ${header.map(cell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
};

export function spread(s: Spread | undefined): string {
  if (!s) return "—";
  if (s.n <= 1) return `${seconds(s.median)} (n=1)`;
  return `${seconds(s.median)} [${seconds(s.min)}–${seconds(s.max)}] (n=${s.n})`;
}

/** An image line when that plot was rendered. */
const img = (plots: ReadonlySet<string>, stem: string, name: string, alt: string): string[] =>
  plots.has(name) ? [`![${alt}](${stem}-${name}.svg)`, ""] : [];

const stepOf = (p: DepthPoint | undefined) =>
  p?.status === "measured" ? (p.step?.median ?? p.firstStepSeconds) : undefined;

function memoryCell(p: DepthPoint | undefined): string {
  if (!p) return "—";
  if (p.status === "no-fit") return `no fit${p.memory ? ` (plan ${bytes(p.memory.total)})` : ""}`;
  if (p.status === "failed") return `failed${p.memory ? ` (plan ${bytes(p.memory.total)})` : ""}`;
  return `${bytes(p.memory?.total)} ${p.status === "measured" ? "(m)" : "(p)"}`;
}

function stepCell(p: DepthPoint | undefined): string {
  if (!p) return "—";
  if (p.status === "measured")
    return p.step ? spread(p.step) : `${seconds(p.firstStepSeconds)} (n=1, first step)`;
  if (p.predictedStepSeconds !== undefined)
    return `not run (predicted ${seconds(p.predictedStepSeconds)})`;
  return p.status === "no-fit" ? "no fit" : p.status === "failed" ? "failed" : "not run";
}

function depthTables(r: SuiteResult, stem: string, plots: ReadonlySet<string>): string[] {
  const d = r.depth;
  if (!d) return [];
  const out: string[] = [];
  const find = (ds: string, m: ModelName, L: number) =>
    d.points.find((p) => p.dataset === ds && p.model === m && p.L === L);
  out.push("## Memory vs depth", "");
  out.push(
    ...img(plots, stem, "memory", "memory vs depth"),
    "Peak bytes over one training step, one evaluation and the steps after it, from the runtime's accounting of every " +
      "GPU buffer. (m) measured in this run, (p) the static plan (a dry run of the same allocation " +
      "sequence) where a real step was predicted to exceed the time budget. A configuration does not " +
      `fit when its plan exceeds the memory budget (${bytes(d.memoryBudgetBytes)}, a share of this ` +
      "machine's RAM, which lavapipe's buffers live in) or an adapter limit; its plan is still shown. " +
      "Res/Rev: how many times more ResGCN needs, (p) where either side is planned.",
    "",
  );
  for (const info of d.datasets) {
    out.push(
      `### ${info.name}: ${count(info.nodes)} nodes, ${count(info.edges)} directed edges, ` +
        `F = ${info.features}, K = ${info.classes}, D = ${info.D}`,
      "",
    );
    out.push(
      table(
        [
          "L",
          "RevGCN peak",
          "ResGCN peak",
          "Res/Rev total",
          "RevGCN activations",
          "ResGCN activations",
          "Res/Rev activations",
        ],
        d.depths.map((L) => {
          const rev = find(info.key, "RevGCN", L);
          const res = find(info.key, "ResGCN", L);
          // A ratio is measured only when both sides were; a plan on either side makes it planned.
          const both = rev?.memory && res?.memory;
          const tag = rev?.status === "measured" && res?.status === "measured" ? "" : " (p)";
          const r = (k: "total" | "activations") =>
            both ? `${ratio(res.memory![k] / rev.memory![k])}${tag}` : "—";
          return [
            String(L),
            memoryCell(rev),
            memoryCell(res),
            r("total"),
            bytes(rev?.memory?.activations),
            res?.memory
              ? `${bytes(res.memory.activations)}${res.status === "measured" ? "" : " (p)"}`
              : "—",
            r("activations"),
          ];
        }),
      ),
      "",
    );
    const deepest = d.maxDepth.find((x) => x.dataset === info.key);
    if (deepest)
      out.push(
        `Deepest ${deepest.model} that fits (plan, bisection): **L = ${deepest.L}**; ${deepest.limit}.`,
        "",
      );
  }
  out.push("<details><summary>By category, and measured against the plan</summary>", "");
  out.push(
    table(
      [
        "graph",
        "model",
        "L",
        "source",
        ...MEMORY_CATEGORIES,
        "total",
        "plan total",
        "measured − plan",
      ],
      d.points
        .filter((p) => p.memory)
        .map((p) => [
          p.dataset,
          p.model,
          String(p.L),
          p.status === "measured" ? "measured" : p.status === "no-fit" ? "plan (no fit)" : "plan",
          ...MEMORY_CATEGORIES.map((c) => bytes(p.memory![c])),
          bytes(p.memory!.total),
          bytes(p.plan?.total),
          p.status === "measured" && p.plan ? `${count(p.memory!.total - p.plan.total)} B` : "—",
        ]),
    ),
    "",
    "</details>",
    "",
  );

  out.push("## Time per training step vs depth", "", ...img(plots, stem, "time", "time vs depth"));
  out.push(
    "One step = forward, backward and the Adam update, read back to the host (the step's only " +
      "synchronisation); median [min–max] of the timed steps after a warm-up step, RevGCN's and " +
      "ResGCN's of one depth timed in alternation (Rev, Res, Res, Rev, …). Rev/Res is the " +
      "ratio of medians (target ≤ 1.4×: the reversible backward evaluates each group function " +
      "once for both the rebuild and the VJP). Dispatches: compute passes recorded per step.",
    "",
  );
  out.push(
    table(
      ["graph", "L", "RevGCN step", "ResGCN step", "Rev/Res", "dispatches Rev / Res"],
      d.datasets.flatMap((info) =>
        d.depths.map((L) => {
          const rev = find(info.key, "RevGCN", L);
          const res = find(info.key, "ResGCN", L);
          const a = stepOf(rev);
          const b = stepOf(res);
          return [
            info.name,
            String(L),
            stepCell(rev),
            stepCell(res),
            a !== undefined && b !== undefined ? ratio(a / b) : "—",
            `${rev?.dispatchesPerStep ?? "—"} / ${res?.dispatchesPerStep ?? "—"}`,
          ];
        }),
      ),
    ),
    "",
  );
  return out;
}

function torchTables(r: SuiteResult): string[] {
  const t = r.torch;
  if (!t) return [];
  const out = ["## Against PyTorch", ""];
  if (!t.available) return [...out, `Not run: ${t.note}`, ""];
  out.push(
    `${t.note}. Same graph, features, labels and initial parameters (exported from our loader); ` +
      "the evaluation loss at initialisation is compared first (|Δ loss|: same model, same data). " +
      "revgnn memory: peak total of the runtime's accounting; PyTorch: bytes of the tensors alive " +
      "before the step + the peak RSS increase over the first step (activations, gradients, Adam " +
      "state, temporaries). Both sides run on this machine's CPU cores (revgnn through lavapipe). " +
      "Steps: revgnn's and PyTorch's timed in alternation (ours, theirs, theirs, ours, …) after a " +
      "warm-up step each, so that the machine's drift falls on both sides of the ratio. " +
      (t.gradientSelfCheck !== undefined
        ? `The PyTorch RevGCN's backward (inverse, then re-forward) matches plain autograd to ${t.gradientSelfCheck.toExponential(1)} (float64, small graph).`
        : ""),
    "",
  );
  const ours = (p: { dataset: string; model: ModelName; L: number }) =>
    r.depth?.points.find((q) => q.dataset === p.dataset && q.model === p.model && q.L === p.L);
  out.push(
    table(
      [
        "graph",
        "model",
        "L",
        "revgnn step",
        "PyTorch step",
        "revgnn / PyTorch",
        "revgnn memory",
        "PyTorch memory",
        "revgnn / PyTorch",
        "init loss Δ",
      ],
      t.points.map((p) => {
        const o = ours(p);
        if (p.status !== "measured")
          return [
            p.dataset,
            p.model,
            String(p.L),
            stepCell(o),
            `${p.status}: ${p.reason ?? ""}`,
            "—",
            bytes(o?.memory?.total),
            "—",
            "—",
            "—",
          ];
        const torchMem =
          p.stepPeakDelta !== undefined && p.staticBytes !== undefined
            ? p.staticBytes + p.stepPeakDelta
            : undefined;
        // Ours timed in alternation with theirs where the run did that (the ratio's numerator);
        // older results carry only the depth section's timing.
        const a = p.ours?.median ?? stepOf(o);
        return [
          p.dataset,
          p.model,
          String(p.L),
          p.ours ? spread(p.ours) : stepCell(o),
          spread(p.step),
          a !== undefined && p.step ? ratio(a / p.step.median) : "—",
          bytes(o?.memory?.total),
          torchMem !== undefined
            ? `${bytes(torchMem)} (${bytes(p.staticBytes)} + ${bytes(p.stepPeakDelta)})`
            : "—",
          torchMem !== undefined && o?.memory ? ratio(o.memory.total / torchMem) : "—",
          p.initEvalLossDiff !== undefined ? p.initEvalLossDiff.toExponential(1) : "—",
        ];
      }),
    ),
    "",
  );
  return out;
}

function kernelTables(r: SuiteResult): string[] {
  const k = r.kernels;
  if (!k) return [];
  const out = ["## Kernel efficiency", ""];
  if (k.status !== "measured" || !k.rows) return [...out, `${k.status}: ${k.note}`, ""];
  const num = (v: unknown, digits: number) =>
    typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "—";
  out.push(`${k.note}. Raw file: \`${k.file}\`.`, "");
  out.push(
    table(
      [
        "kernel",
        "shape",
        "ms median [min–max]",
        "GFLOP/s",
        "GB/s",
        "numpy/scipy GFLOP/s",
        "ours / numpy",
      ],
      k.rows.map((row) => [
        String(row.name ?? "?"),
        String(row.shape ?? ""),
        `${num(Number(row.median) * 1000, 1)} [${num(Number(row.min) * 1000, 1)}–${num(Number(row.max) * 1000, 1)}]`,
        num(row.gflops, 2),
        num(row.gbps, 2),
        num(row.numpyGflops, 2),
        typeof row.ratio === "number" && Number.isFinite(row.ratio)
          ? `${(100 * row.ratio).toFixed(1)} %`
          : "—",
      ]),
    ),
    "",
  );
  const us = k.dispatch?.perDispatchUs;
  if (typeof us === "number")
    out.push(`Dispatch overhead: ${us.toFixed(1)} µs per dispatch end to end.`, "");
  return out;
}

function compileTables(r: SuiteResult, stem: string, plots: ReadonlySet<string>): string[] {
  const c = r.compile;
  if (!c) return [];
  return [
    "## Compile time vs L",
    "",
    ...img(plots, stem, "compile", "compile time vs L"),
    `${c.model}. Front end: source → checked, lowered model (\`compileFile\`). Training graphs + ` +
      "kernels: autodiff, the optimizer update and WGSL generation for the training step and the " +
      "evaluation (what a Session builds). `repeat L` stays one loop over one compiled body, so " +
      "both should be flat in L.",
    "",
    table(
      ["L", "front end", "training graphs + kernels", "step kernels", "eval kernels"],
      c.points.map((p) => [
        String(p.L),
        spread(p.frontend),
        spread(p.codegen),
        String(p.stepKernels),
        String(p.evalKernels),
      ]),
    ),
    "",
  ];
}

function scaleTables(r: SuiteResult, stem: string, plots: ReadonlySet<string>): string[] {
  const s = r.scale;
  if (!s) return [];
  const out = [
    "## Scale",
    "",
    ...img(plots, stem, "scale", "planned peak vs graph size"),
    `Largest synthetic graph (${s.density}) on which RevGCN with L = ${s.L}, D = ${s.D} trains ` +
      `within the memory budget (${bytes(s.memoryBudgetBytes)}) and the adapter's limits ` +
      `(maxStorageBufferBindingSize ${bytes(r.machine.limits.maxStorageBufferBindingSize)}, ` +
      `maxBufferSize ${bytes(r.machine.limits.maxBufferSize)}), from the static plan (bisection on the node count). ` +
      "trainer: what `revgnn train --partitions P` does (a step per part, then an evaluation of the " +
      "whole graph); part: one part's step and evaluation alone.",
    "",
  ];
  const next = (p: number, scope: string, n: number) =>
    s.candidates
      .filter((c) => c.partitions === p && c.scope === scope && !c.fits && c.nodes > n)
      .sort((a, b) => a.nodes - b.nodes)[0];
  out.push(
    table(
      ["partitions", "scope", "nodes", "directed edges", "planned peak", "next size fails because"],
      s.largest.map((c) => {
        const n = next(c.partitions, c.scope, c.nodes);
        return [
          String(c.partitions),
          c.scope,
          count(c.nodes),
          count(c.edges),
          bytes(c.planned?.total),
          n ? `${count(n.nodes)} nodes: ${n.reason}` : "—",
        ];
      }),
    ),
    "",
  );
  const cf = s.confirmed;
  if (cf) {
    if (cf.status === "measured")
      out.push(
        `Confirmed with a real step on the largest full-batch graph (${count(cf.nodes)} nodes, ` +
          `${count(cf.edges)} edges) at L = ${cf.L}${cf.L !== s.L ? ` (L = ${s.L} did not fit the time budget; RevGCN's activation memory does not depend on L, parameters and Adam state do)` : ""}: ` +
          `measured peak ${bytes(cf.memory?.total)}, plan ${bytes(cf.plan?.total)}, step ${seconds(cf.stepSeconds)}, loss ${cf.loss?.toFixed(4)}.`,
        "",
      );
    else out.push(`Real-step confirmation ${cf.status}: ${cf.reason ?? ""}.`, "");
  }
  return out;
}

const loadCell = (r: StartRun) => `${r.load.before} → ${r.load.after}`;

/** Median time of each phase (its "took") over `runs`, in the order the phases ended. */
function phaseMedians(runs: readonly StartRun[]): Map<string, Spread> {
  const took = new Map<string, number[]>();
  for (const r of runs)
    for (const p of r.phases) took.set(p.name, [...(took.get(p.name) ?? []), p.tookMs / 1000]);
  return new Map([...took].map(([name, xs]) => [name, summarize(xs)]));
}

function startTables(r: SuiteResult): string[] {
  const s = r.start;
  if (!s) return [];
  const out = ["## Cold and warm start", ""];
  if (s.status === "skipped") return [...out, `Not run: ${s.note}.`, ""];
  out.push(
    `\`${s.command}\` as a child process with \`REVGNN_TIMING=1\` (${s.note}). First step: when the ` +
      "child's first training step was done, from the child's start (its `[timing]` line); command: " +
      "spawn to exit; CPU: user + system of the child, lavapipe's threads included. Load: the " +
      "machine's 1-minute load average before → after the run (the machine may be shared: read " +
      "the wall times with it, the CPU times move less).",
    "",
    table(
      ["target", "limit", "measured", "verdict"],
      s.targets.map((t) => [
        t.name,
        `${t.comparison} ${seconds(t.limitSeconds)}`,
        seconds(t.valueSeconds),
        startVerdict(t),
      ]),
    ),
    "",
    table(
      ["run", "epochs", "first step", "command (wall)", "CPU", "load", "status"],
      s.runs.map((run) => [
        run.kind,
        String(run.epochs),
        seconds(run.firstStepSeconds),
        seconds(run.wallSeconds),
        seconds(run.cpuSeconds),
        loadCell(run),
        run.status === "ok" ? "ok" : `failed: ${run.reason ?? ""}`,
      ]),
    ),
    "",
  );
  const w = s.warm;
  if (w.firstStep)
    out.push(
      `Warm 1-epoch runs: first step ${spread(w.firstStep)}, command ${spread(w.wall)}, CPU ${spread(w.cpu)}.`,
      "",
    );
  const cold = phaseMedians(s.runs.filter((x) => x.kind === "cold" && x.status === "ok"));
  const warm = phaseMedians(s.runs.filter((x) => x.kind === "warm" && x.status === "ok"));
  const names = [...new Set([...cold.keys(), ...warm.keys()])];
  if (names.length)
    out.push(
      "<details><summary>Where the time went: each phase's duration (cold; warm median [min–max])</summary>",
      "",
      table(
        ["phase (ended)", "cold", "warm"],
        names.map((n) => [n, seconds(cold.get(n)?.median), spread(warm.get(n))]),
      ),
      "",
      "</details>",
      "",
    );
  return out;
}

export function markdownSummary(
  r: SuiteResult,
  stem: string,
  plots: ReadonlySet<string> = new Set(),
): string {
  const head = [
    `# revgnn benchmark${r.quick ? " (quick)" : ""}: ${r.startedAt.slice(0, 10)}, ${r.machine.slug}`,
    "",
    `**Machine:** ${machineLine(r.machine)}; ${r.machine.os}; Node ${r.machine.node}.  `,
    ...(r.settings.code ? [`**Code:** ${String(r.settings.code)}.  `] : []),
    `**Run:** ${r.quick ? "`revgnn bench --quick`" : "`npm run bench`"}, started ${r.startedAt}, ${seconds(r.seconds)} in all. ` +
      "Every number below was measured in this run unless marked planned; every time is a median " +
      "with its spread and count; every ratio compares runs of this invocation.",
    "",
  ];
  const notes = r.notes.length ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : [];
  return [
    ...head,
    ...depthTables(r, stem, plots),
    ...torchTables(r),
    ...(r.crosscheck ? crosscheckMarkdown(r.crosscheck) : []),
    ...kernelTables(r),
    ...compileTables(r, stem, plots),
    ...scaleTables(r, stem, plots),
    ...startTables(r),
    ...notes,
  ].join("\n");
}
