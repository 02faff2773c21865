// The kernel profile of a training step: the timed dispatches of a few steps, grouped by kernel,
// as a table (for the terminal) and as JSON rows (for `--report`). Times are per step (the total
// over the profiled steps divided by their number); shares are of the kernels' summed time.
import type { TimedDispatch, TimingMethod } from "../gpu/dispatch-timer.js";

export interface ProfileRow {
  kernel: string;
  kind: string;
  /** The IR ops the kernel implements (empty for runtime kernels outside the program). */
  implements: string[];
  /** The shapes of a template's instance (templates share a kernel name across shapes). */
  shapes: string | null;
  calls_per_step: number;
  ms_per_step: number;
  /** Fraction of the kernels' summed time (the rows add up to 1). */
  share: number;
  /** Achieved, where the cost model counts FLOPs (matmuls); null elsewhere. */
  gflop_per_s: number | null;
  gb_per_s: number | null;
}

export interface KernelProfile {
  method: TimingMethod;
  steps: number;
  /** Sum of every kernel's time, per step. */
  kernel_ms_per_step: number;
  dispatches_per_step: number;
  /** Heaviest first. */
  rows: ProfileRow[];
}

interface Group {
  kernel: string;
  kind: string;
  implements: string[];
  shapes: string | null;
  calls: number;
  seconds: number;
  flops: number;
  bytes: number;
}

export function summarizeProfile(
  dispatches: readonly TimedDispatch[],
  steps: number,
  method: TimingMethod,
): KernelProfile {
  const groups = new Map<string, Group>();
  for (const d of dispatches) {
    const name = d.note?.kernel ?? d.label;
    const shapes = d.note?.shapes ?? null;
    const key = shapes === null ? name : `${name} ${shapes}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        kernel: name,
        kind: d.note?.kind ?? "runtime",
        implements: [...(d.note?.implements ?? [])],
        shapes,
        calls: 0,
        seconds: 0,
        flops: 0,
        bytes: 0,
      };
      groups.set(key, g);
    }
    g.calls++;
    // A timestamp the driver did not write counts as no time, not as a poisoned total.
    g.seconds += Number.isFinite(d.seconds) ? d.seconds : 0;
    g.flops += d.note?.flops ?? 0;
    g.bytes += d.note?.bytes ?? 0;
  }
  const total = [...groups.values()].reduce((s, g) => s + g.seconds, 0);
  const per = Math.max(1, steps);
  const rate = (amount: number, seconds: number) =>
    amount > 0 && seconds > 0 ? amount / seconds / 1e9 : null;
  const rows = [...groups.values()]
    .map<ProfileRow>((g) => ({
      kernel: g.kernel,
      kind: g.kind,
      implements: g.implements,
      shapes: g.shapes,
      calls_per_step: g.calls / per,
      ms_per_step: (1000 * g.seconds) / per,
      share: total > 0 ? g.seconds / total : 0,
      gflop_per_s: rate(g.flops, g.seconds),
      gb_per_s: rate(g.bytes, g.seconds),
    }))
    .sort((a, b) => b.ms_per_step - a.ms_per_step);
  return {
    method,
    steps,
    kernel_ms_per_step: (1000 * total) / per,
    dispatches_per_step: dispatches.length / per,
    rows,
  };
}

/** The profile as a table; `limit` rows, the rest summed in one line. */
export function formatProfile(p: KernelProfile, stepMs?: number, limit = 25): string {
  const head = ["kernel", "IR ops", "calls", "ms/step", "share", "GFLOP/s", "GB/s"];
  const fmt = (x: number | null, digits: number) => (x === null ? "—" : x.toFixed(digits));
  const shown = p.rows.slice(0, limit);
  const body = shown.map((r) => [
    r.kernel,
    abbreviate(
      r.shapes !== null
        ? `${r.implements.join(",")} ${r.shapes.replace(/, in chunks.*$/, "")}`
        : r.implements.join(",") || r.kind,
      40,
    ),
    fmt(r.calls_per_step, r.calls_per_step % 1 === 0 ? 0 : 1),
    fmt(r.ms_per_step, 3),
    `${(100 * r.share).toFixed(1)}%`,
    fmt(r.gflop_per_s, 2),
    fmt(r.gb_per_s, 2),
  ]);
  const rest = p.rows.slice(limit);
  if (rest.length > 0) {
    const ms = rest.reduce((s, r) => s + r.ms_per_step, 0);
    const share = rest.reduce((s, r) => s + r.share, 0);
    const calls = rest.reduce((s, r) => s + r.calls_per_step, 0);
    body.push([
      `(${rest.length} more)`,
      "",
      fmt(calls, 0),
      fmt(ms, 3),
      `${(100 * share).toFixed(1)}%`,
      "",
      "",
    ]);
  }
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((x, c) => (c < 2 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join("  ");
  const method =
    p.method === "timestamp-query" ? "GPU timestamps" : "fences (approximate: includes submit)";
  const outside =
    stepMs !== undefined
      ? `; a step takes ${stepMs.toFixed(1)} ms (median, unprofiled), ${Math.max(0, stepMs - p.kernel_ms_per_step).toFixed(1)} ms of it outside kernels`
      : "";
  return [
    `kernel profile, ${p.steps} step${p.steps === 1 ? "" : "s"} timed by ${method}: ` +
      `${p.dispatches_per_step.toFixed(0)} dispatches, kernels ${p.kernel_ms_per_step.toFixed(1)} ms per step${outside}`,
    line(head),
    ...body.map(line),
  ].join("\n");
}

function abbreviate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}
