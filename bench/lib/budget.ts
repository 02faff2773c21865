// Time budgets. A full `npm run bench` must stay within ~30–45 minutes on whatever machine runs
// it, and the speed of a training step varies by orders of magnitude between configurations and
// machines. So nothing is scheduled by a fixed repetition count: every real measurement predicts
// its cost from the measurements already made, runs only if that fits what is left of its
// section's budget, and sizes its repetitions to the time it may take.

export class Budget {
  private readonly start = performance.now();

  constructor(readonly seconds: number) {}

  spent(): number {
    return (performance.now() - this.start) / 1000;
  }

  left(): number {
    return Math.max(0, this.seconds - this.spent());
  }

  fits(cost: number): boolean {
    return cost <= this.left();
  }
}

export interface TimedPoint {
  L: number;
  seconds: number;
}

/**
 * Seconds of one training step at depth L, from measured steps of the same model on the same
 * graph. A step costs a constant (input and output layers, loss, optimizer launch) plus a part
 * proportional to the number of blocks, so with two points a straight line through the two
 * deepest is extrapolated (never below the deepest measured time); with one point the time is
 * scaled proportionally to L, an overestimate since the constant part is scaled too.
 */
export function predictStepSeconds(points: readonly TimedPoint[], L: number): number | undefined {
  const pts = [...points].filter((p) => Number.isFinite(p.seconds)).sort((a, b) => a.L - b.L);
  if (pts.length === 0) return undefined;
  const exact = pts.find((p) => p.L === L);
  if (exact) return exact.seconds;
  const below = pts.filter((p) => p.L < L);
  if (below.length === 0) return pts[0]!.seconds; // deeper points exist: cost grows with L
  const b = below[below.length - 1]!;
  if (below.length === 1) return (b.seconds * L) / b.L;
  const a = below[below.length - 2]!;
  const slope = (b.seconds - a.seconds) / (b.L - a.L);
  if (!(slope > 0)) return (b.seconds * L) / b.L;
  return Math.max(b.seconds, b.seconds + slope * (L - b.L));
}

/** Repetitions that fit `seconds` at `perRep` each, clamped to [min, max]. */
export function repsFor(perRep: number, seconds: number, min: number, max: number): number {
  const n = Math.floor(seconds / Math.max(perRep, 1e-3));
  return Math.max(min, Math.min(max, n));
}
