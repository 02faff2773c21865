// The suite's figures as vega-lite specifications, rendered headless to SVG. Each figure states
// the machine in its subtitle and says what is measured and what is planned.
import * as vega from "vega";
import * as vl from "vega-lite";
import type { SuiteResult } from "../types.js";

type Spec = vl.TopLevelSpec;

const MIB = 2 ** 20;

export async function renderSvg(spec: Spec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const datasetName = (r: SuiteResult, key: string) =>
  r.depth?.datasets.find((d) => d.key === key)?.name ?? key;

function subtitle(r: SuiteResult, extra: string): string[] {
  const m = r.machine;
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return [m.adapter, `${m.cpu}, ${m.cores} cores, ${gib} GiB RAM`, extra];
}

/** The paper's memory-vs-depth figure: peak total and activation bytes, Rev against Res. */
/** The depth axis every figure shares. */
const x = {
  field: "L",
  type: "quantitative",
  scale: { type: "log" },
  title: "blocks L",
} as const;

export function memorySpec(r: SuiteResult): Spec | undefined {
  const pts = r.depth?.points.filter((p) => p.memory) ?? [];
  if (pts.length === 0) return undefined;
  const values = pts.flatMap((p) =>
    (["total", "activations"] as const).map((kind) => ({
      dataset: datasetName(r, p.dataset),
      model: p.model,
      L: p.L,
      kind,
      MiB: Math.max(p.memory![kind], 1) / MIB,
      source: p.status === "measured" ? "measured" : "planned",
      series: `${p.model} ${kind}`,
    })),
  );
  // Res/Rev of the total, written above ResGCN's point at each depth (planned: "(p)").
  const ratios = pts.flatMap((rev) => {
    const res = pts.find((q) => q.model === "ResGCN" && q.dataset === rev.dataset && q.L === rev.L);
    if (rev.model !== "RevGCN" || !res) return [];
    const planned = rev.status !== "measured" || res.status !== "measured";
    return [
      {
        dataset: datasetName(r, rev.dataset),
        L: rev.L,
        MiB: res.memory!.total / MIB,
        label: `${(res.memory!.total / rev.memory!.total).toFixed(1)}×${planned ? " (p)" : ""}`,
      },
    ];
  });
  const y = {
    field: "MiB",
    type: "quantitative",
    scale: { type: "log" },
    title: "peak MiB",
  } as const;
  const color = { field: "model", type: "nominal", title: null } as const;
  const points = (source: string, filled: boolean) => ({
    transform: [{ filter: `datum.source === '${source}'` }],
    mark: { type: "point", size: 60, filled, opacity: 1 },
    encoding: { x, y, color, tooltip: [{ field: "source" }, { field: "MiB" }] },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: "Peak GPU memory of a training step + evaluation vs depth",
      subtitle: subtitle(
        r,
        "runtime's accounting; filled points: measured in this run, hollow: static plan; labels: ResGCN / RevGCN total; dotted: memory budget",
      ),
    },
    data: {
      values: [
        ...values,
        ...ratios.map((v) => ({ ...v, ratio: true })),
        // The memory budget, per panel: where "fits" ends.
        ...[...new Set(values.map((v) => v.dataset))].map((dataset) => ({
          dataset,
          MiB: r.depth!.memoryBudgetBytes / MIB,
          budget: true,
        })),
      ],
    },
    facet: { column: { field: "dataset", type: "nominal", title: null } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 300,
      height: 240,
      layer: [
        {
          transform: [{ filter: "!datum.ratio && !datum.budget" }],
          mark: { type: "line" },
          encoding: {
            x,
            y,
            color,
            strokeDash: { field: "kind", type: "nominal", title: "category" },
            detail: { field: "series" },
          },
        },
        points("measured", true),
        points("planned", false),
        {
          transform: [{ filter: "datum.budget" }],
          mark: { type: "rule", strokeDash: [2, 3], color: "#999" },
          encoding: { y },
        },
        {
          transform: [{ filter: "datum.ratio" }],
          mark: { type: "text", dy: -12, fontSize: 10, color: "#555" },
          encoding: { x, y, text: { field: "label" } },
        },
      ],
    },
  } as Spec;
}

/** Median seconds per step with min–max bars, ours and PyTorch's. */
export function timeSpec(r: SuiteResult): Spec | undefined {
  const values: Record<string, unknown>[] = [];
  for (const p of r.depth?.points ?? []) {
    if (p.status !== "measured") continue;
    const s = p.step ?? {
      median: p.firstStepSeconds!,
      min: p.firstStepSeconds!,
      max: p.firstStepSeconds!,
      n: 1,
    };
    values.push({
      dataset: datasetName(r, p.dataset),
      model: p.model,
      impl: "revgnn",
      L: p.L,
      ...s,
    });
  }
  for (const p of r.torch?.points ?? []) {
    if (p.status !== "measured" || !p.step) continue;
    values.push({
      dataset: datasetName(r, p.dataset),
      model: p.model,
      impl: "PyTorch",
      L: p.L,
      ...p.step,
    });
  }
  if (values.length === 0) return undefined;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: "Seconds per training step (forward + backward + Adam) vs depth",
      subtitle: subtitle(
        r,
        "solid: revgnn, dashed: PyTorch; median of the timed steps, bars: min–max; same run",
      ),
    },
    data: { values },
    facet: { column: { field: "dataset", type: "nominal", title: null } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 300,
      height: 240,
      layer: [
        {
          mark: { type: "line", point: true },
          encoding: {
            x,
            y: {
              field: "median",
              type: "quantitative",
              scale: { type: "log" },
              title: "seconds per step",
            },
            color: { field: "model", type: "nominal", title: null },
            strokeDash: {
              field: "impl",
              type: "nominal",
              title: null,
              scale: {
                domain: ["revgnn", "PyTorch"],
                range: [
                  [1, 0],
                  [5, 3],
                ],
              },
              legend: null, // stated in the subtitle: vega draws no line in its symbol
            },
          },
        },
        {
          mark: { type: "rule" },
          encoding: {
            x,
            y: { field: "min", type: "quantitative", scale: { type: "log" } },
            y2: { field: "max" },
            color: { field: "model", type: "nominal" },
            detail: { field: "impl" },
          },
        },
      ],
    },
  } as Spec;
}

/** Compile time and kernel counts against L: both should be flat. */
export function compileSpec(r: SuiteResult): Spec | undefined {
  const pts = r.compile?.points ?? [];
  if (pts.length === 0) return undefined;
  const times = pts.flatMap((p) => [
    { L: p.L, stage: "front end (compileFile)", ms: p.frontend.median * 1000 },
    { L: p.L, stage: "training graphs + kernels", ms: p.codegen.median * 1000 },
  ]);
  const kernels = pts.flatMap((p) => [
    { L: p.L, program: "training step", kernels: p.stepKernels },
    { L: p.L, program: "evaluation", kernels: p.evalKernels },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: `Compile time and kernel count vs L — ${r.compile!.model}`,
      subtitle: subtitle(r, "median of repeated compilations"),
    },
    hconcat: [
      {
        width: 260,
        height: 200,
        data: { values: times },
        mark: { type: "line", point: true },
        encoding: {
          x,
          y: { field: "ms", type: "quantitative", title: "milliseconds" },
          color: { field: "stage", type: "nominal", title: null, legend: { labelLimit: 400 } },
        },
      },
      {
        width: 260,
        height: 200,
        data: { values: kernels },
        mark: { type: "line", point: true },
        encoding: {
          x,
          y: { field: "kernels", type: "quantitative", title: "distinct kernels" },
          color: { field: "program", type: "nominal", title: null, legend: { labelLimit: 400 } },
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
  } as Spec;
}

/** Planned peak against graph size, with the memory budget; where each series stops. */
export function scaleSpec(r: SuiteResult): Spec | undefined {
  const s = r.scale;
  const cands = s?.candidates.filter((c) => c.planned) ?? [];
  if (!s || cands.length === 0) return undefined;
  const values = cands.map((c) => ({
    nodes: c.nodes,
    MiB: c.planned!.total / MIB,
    series: c.partitions === 1 ? "full batch" : `P = ${c.partitions} (${c.scope})`,
  }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: `RevGCN (L = ${s.L}, D = ${s.D}): planned peak vs graph size`,
      subtitle: subtitle(
        r,
        `static plan; ${s.density}; rule: memory budget; series end where the adapter's buffer limits stop them`,
      ),
    },
    width: 420,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x: { field: "nodes", type: "quantitative", scale: { type: "log" }, title: "nodes" },
          y: {
            field: "MiB",
            type: "quantitative",
            scale: { type: "log" },
            title: "planned peak MiB",
          },
          color: { field: "series", type: "nominal", title: null },
        },
      },
      {
        data: { values: [{ MiB: s.memoryBudgetBytes / MIB }] },
        mark: { type: "rule", strokeDash: [4, 4] },
        encoding: { y: { field: "MiB", type: "quantitative" } },
      },
    ],
  } as Spec;
}

export const PLOTS = { memory: memorySpec, time: timeSpec, compile: compileSpec, scale: scaleSpec };
