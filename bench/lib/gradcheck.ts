// The pure half of the PyTorch cross-check: relative errors of one training step's gradients,
// the verdict per row group, and the tables (console and markdown). No GPU, no python: the unit
// test exercises this directly.
import type { CrosscheckRow, CrosscheckSection, TensorError } from "../types.js";

/** float32's unit roundoff: the relative error of one rounding. */
export const FLOAT32_ROUNDOFF = 2 ** -24;

/**
 * max |got − ref| / max |ref| over the tensor: a normwise error, so that entries that are zero
 * or tiny in the reference (a zero feature column's gradient) do not blow it up the way an
 * elementwise relative error would. A reference that is all zeros gives 0 when `got` is too, and
 * Infinity otherwise; a NaN anywhere gives NaN (never a pass).
 */
export function relativeError(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
): { error: number; maxAbsDiff: number; maxRef: number } {
  if (got.length !== ref.length)
    throw new Error(`relativeError: ${got.length} values against ${ref.length}`);
  let maxAbsDiff = 0;
  let maxRef = 0;
  let nan = false;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (Number.isNaN(d)) nan = true;
    else if (d > maxAbsDiff) maxAbsDiff = d;
    const r = Math.abs(ref[i]!);
    if (r > maxRef) maxRef = r;
  }
  const error = nan ? NaN : maxAbsDiff === 0 ? 0 : maxRef === 0 ? Infinity : maxAbsDiff / maxRef;
  return { error, maxAbsDiff, maxRef };
}

/**
 * The gradient one SGD step applied: (p0 − p1) / lr, exact in float64 (p0 and p1 are float32).
 * With lr a power of two the step computed p1 = fl(p0 − lr·g), one rounding, so the recovered
 * gradient is off by at most ulp(p1)/2 / lr ≤ 2^-24·|p1| / lr per entry; `floor` is that bound's
 * largest value over the tensor (divide by max |g_ref| for the relative error it allows).
 */
export function gradientFromStep(
  p0: Float32Array,
  p1: Float32Array,
  lr: number,
): { grad: Float64Array; floor: number } {
  const grad = new Float64Array(p0.length);
  let maxP1 = 0;
  for (let i = 0; i < p0.length; i++) {
    grad[i] = (p0[i]! - p1[i]!) / lr;
    maxP1 = Math.max(maxP1, Math.abs(p1[i]!));
  }
  return { grad, floor: (FLOAT32_ROUNDOFF * maxP1) / lr };
}

/** One row per parameter tensor (plus the loss), worst first kept in the row's order. */
export function compareTensors(
  names: readonly string[],
  got: readonly ArrayLike<number>[],
  ref: readonly ArrayLike<number>[],
  floors?: readonly number[],
): TensorError[] {
  return names.map((tensor, i) => {
    const r = relativeError(got[i]!, ref[i]!);
    const floor = floors?.[i];
    return {
      tensor,
      error: r.error,
      maxAbsDiff: r.maxAbsDiff,
      maxRef: r.maxRef,
      ...(floor !== undefined && r.maxRef > 0 ? { floor: floor / r.maxRef } : {}),
    };
  });
}

/** The tensor with the largest error (NaN counts as the largest). */
export function worstTensor(tensors: readonly TensorError[]): TensorError | undefined {
  let worst: TensorError | undefined;
  for (const t of tensors) {
    if (!worst || Number.isNaN(t.error) || (!Number.isNaN(worst.error) && t.error > worst.error))
      worst = t;
    if (Number.isNaN(worst.error)) break;
  }
  return worst;
}

/** Within the threshold: every tensor and the loss (a NaN never agrees). */
export function agrees(row: Pick<CrosscheckRow, "tensors" | "loss">, threshold: number): boolean {
  const ok = (e: number) => Number.isFinite(e) && e <= threshold;
  return ok(row.loss.error) && row.tensors.every((t) => ok(t.error));
}

/** "3.1e-7"; NaN and Infinity spelled out. */
export function sci(x: number | undefined, digits = 1): string {
  if (x === undefined) return "";
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return "∞";
  if (x === 0) return "0";
  return x.toExponential(digits);
}

export const SCHEDULE_LABELS: Record<CrosscheckRow["schedule"], string> = {
  reversible: "revgnn, reversible (default)",
  stored: "revgnn, --store-activations",
  "torch-autograd-f32": "PyTorch float32, autograd",
  "torch-revstack-f32": "PyTorch float32, RevStack",
};

const verdictWord = (row: CrosscheckRow, threshold: number) =>
  agrees(row, threshold) ? "agrees" : "DIFFERS";

/** The console table: one line per tensor, then a verdict line per (model, graph, schedule). */
export function textTable(s: Pick<CrosscheckSection, "rows" | "threshold">): string {
  const head = ["model", "graph", "schedule", "tensor", "rel. error", "readback floor"];
  // A group is its tensor lines followed by its verdict, which is not aligned to the columns.
  const groups = s.rows.map((row) => {
    const sched = SCHEDULE_LABELS[row.schedule];
    const lines = [[row.model, row.dataset, sched, "loss", sci(row.loss.error), ""]];
    for (const t of row.tensors)
      lines.push([row.model, row.dataset, sched, t.tensor, sci(t.error), sci(t.floor)]);
    const worst = worstTensor(row.tensors);
    const verdict =
      `  => ${row.model} on ${row.dataset}, ${sched}: ${verdictWord(row, s.threshold)} ` +
      `(worst ${sci(worst?.error)} in ${worst?.tensor ?? "—"}; threshold ${sci(s.threshold, 0)})`;
    return { lines, verdict };
  });
  const all = groups.flatMap((g) => g.lines);
  const widths = head.map((h, c) => Math.max(h.length, ...all.map((l) => l[c]!.length)));
  const fmt = (l: string[]) =>
    l
      .map((x, c) => x.padEnd(widths[c]!))
      .join("  ")
      .trimEnd();
  return [
    fmt(head),
    fmt(widths.map((w) => "-".repeat(w))),
    ...groups.flatMap((g) => [...g.lines.map(fmt), g.verdict]),
  ].join("\n");
}

const mdTable = (header: string[], rows: string[][]): string[] => {
  const cell = (c: string) => c.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
  return [
    `| ${header.map(cell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
};

/** The schedules present, in a fixed order. */
function schedulesOf(rows: readonly CrosscheckRow[]): CrosscheckRow["schedule"][] {
  return (Object.keys(SCHEDULE_LABELS) as CrosscheckRow["schedule"][]).filter((k) =>
    rows.some((r) => r.schedule === k),
  );
}

/**
 * The summary: one row per (model, graph), one column per schedule, each cell the worst tensor's
 * error, the tensor, and the verdict. What the README shows.
 */
export function markdownSummaryTable(s: Pick<CrosscheckSection, "rows" | "threshold">): string[] {
  const schedules = schedulesOf(s.rows);
  const groups: { model: string; dataset: string }[] = [];
  for (const r of s.rows)
    if (!groups.some((g) => g.model === r.model && g.dataset === r.dataset))
      groups.push({ model: r.model, dataset: r.dataset });
  return mdTable(
    ["model", "graph", ...schedules.map((k) => SCHEDULE_LABELS[k])],
    groups.map((g) => [
      g.model,
      g.dataset,
      ...schedules.map((k) => {
        const row = s.rows.find(
          (r) => r.model === g.model && r.dataset === g.dataset && r.schedule === k,
        );
        if (!row) return "—";
        const worst = worstTensor(row.tensors);
        const text = `${sci(worst?.error)} \`${worst?.tensor ?? "—"}\``;
        return agrees(row, s.threshold) ? text : `**${text}**`;
      }),
    ]),
  );
}

/** Every tensor: rows (model, graph, tensor), one column per schedule. */
export function markdownTensorTable(s: Pick<CrosscheckSection, "rows" | "threshold">): string[] {
  const schedules = schedulesOf(s.rows);
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const r of s.rows) {
    const key = `${r.model}\u0000${r.dataset}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const of = (k: CrosscheckRow["schedule"]) =>
      s.rows.find((x) => x.model === r.model && x.dataset === r.dataset && x.schedule === k);
    const mark = (e: number) => (Number.isFinite(e) && e <= s.threshold ? sci(e) : `**${sci(e)}**`);
    out.push([
      r.model,
      r.dataset,
      "loss",
      ...schedules.map((k) => {
        const row = of(k);
        return row ? mark(row.loss.error) : "—";
      }),
    ]);
    for (const t of r.tensors) {
      out.push([
        r.model,
        r.dataset,
        `\`${t.tensor}\``,
        ...schedules.map((k) => {
          const e = of(k)?.tensors.find((x) => x.tensor === t.tensor)?.error;
          return e === undefined ? "—" : mark(e);
        }),
      ]);
    }
  }
  return mdTable(["model", "graph", "tensor", ...schedules.map((k) => SCHEDULE_LABELS[k])], out);
}

/** One line per (model, graph, schedule) that is over the threshold. */
export function verdictLines(s: Pick<CrosscheckSection, "rows" | "threshold">): string[] {
  return s.rows.map((r) => {
    const worst = worstTensor(r.tensors);
    return (
      `${r.model} on ${r.dataset}, ${SCHEDULE_LABELS[r.schedule]}: ${verdictWord(r, s.threshold)} ` +
      `(worst ${sci(worst?.error)} in ${worst?.tensor ?? "—"}, loss ${sci(r.loss.error)})`
    );
  });
}

/** The section as markdown: what was compared, the summary, every tensor, and what failed. */
export function crosscheckMarkdown(s: CrosscheckSection, heading = "##"): string[] {
  const out = [`${heading} Gradients against PyTorch`, ""];
  if (!s.available) return [...out, `Not run: ${s.note}`, ""];
  out.push(
    `${s.note} Relative error = max |revgnn − reference| / max |reference| over each tensor; ` +
      `the reference is PyTorch ${s.torch ?? ""} in float64 with plain autograd through the blocks ` +
      `(the mathematical gradient). Threshold ${sci(s.threshold, 0)}; **bold**: over it. Rows ` +
      '"PyTorch float32" are PyTorch\'s own float32 error on the same problem, for scale.',
    "",
    ...markdownSummaryTable(s),
    "",
  );
  if (s.failures.length) {
    out.push("Not compared:", "");
    for (const f of s.failures)
      out.push(`- ${f.model} on ${f.dataset}${f.schedule ? ` (${f.schedule})` : ""}: ${f.reason}`);
    out.push("");
  }
  out.push(`${heading}# Every tensor`, "", ...markdownTensorTable(s), "");
  return out;
}
