// Medians and spreads of repeated measurements. Every time in a report is a median with its
// spread (min/max and the interquartile range), never a single run unless n says so.
import type { Spread } from "../types.js";

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    median: quantile(s, 0.5),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
  };
}

/** Runs `f` n times and returns the spread of its wall times in seconds. */
export async function timeRepeated(n: number, f: () => unknown): Promise<Spread> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    times.push((performance.now() - t0) / 1000);
  }
  return summarize(times);
}
