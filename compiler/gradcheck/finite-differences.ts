// Finite-difference checks of derived gradients, in float64 on the reference interpreter: the
// oracle of the oracle. Inputs are kept away from kinks by the random generators (|x| ≥ gap).
import { vjpGraph, type AdOptions } from "../autodiff/core.js";
import { interpret, type InterpretOptions } from "../ir/interp.js";
import { tensor, type Tensor } from "../ir/tensor.js";
import type { Graph } from "../ir/types.js";

/** How one input's derived gradient compares with central differences. */
export interface InputCheck {
  /** Entries compared (all of them unless a sample was asked for). */
  entries: number[];
  /**
   * ‖derived − numeric‖ / max(‖numeric‖, resolvable) over those entries (normwise: zero entries
   * do not blow up). `resolvable` is the smallest gradient norm the stencil can check to 1e-6:
   * its round-off is about ε·|loss|/h an entry (1e-12 for a loss of 1 at h = 1e-4), so a gradient
   * of norm 1e-7 — GAT's a_dst, which softmax almost cancels — reads 1e-5 "relative error" from
   * round-off alone; below that norm the error is measured against it instead.
   */
  relError: number;
  /** The norm below which relError is taken against this norm, not ‖numeric‖ (see above). */
  resolvable: number;
  /** The entry with the largest |derived − numeric|. */
  worst: { index: number; derived: number; numeric: number };
}

export interface GradcheckResult {
  derived: Tensor[];
  /** Central differences at the compared entries (NaN elsewhere). */
  numeric: Tensor[];
  perInput: InputCheck[];
  maxRelError: number;
}

/**
 * Gradients of the scalar output 0 of g w.r.t. inputs `wrt`: derived (reverse mode, `ad`'s
 * schedule) and five-point central differences with step h, at every entry or at the entries
 * `pick(k, size)` chooses for the k-th input of `wrt`.
 */
export function gradcheck(
  g: Graph,
  inputs: Tensor[],
  wrt: number[],
  opts: InterpretOptions,
  ad?: AdOptions,
  h = 1e-4,
  pick?: (k: number, size: number) => number[],
): GradcheckResult {
  const vg = vjpGraph(g, wrt, ad);
  const seeds = g.outputs.map((v, i) =>
    i === 0 ? tensor([], [1]) : tensor(v.shape.map(() => 0) as number[]),
  );
  const outs = interpret(vg, [...inputs, ...seeds.slice(0, g.outputs.length)], opts);
  const derived = outs.slice(g.outputs.length);
  const f = (xs: Tensor[]) => interpret(g, xs, opts)[0]!.data[0]!;
  // Round-off of one five-point difference: |8(f₊ − f₋) − (f₊₂ − f₋₂)| / 12h with each f off by
  // ε|f| is at most 18ε|f|/12h; the 1e6 turns "error 1e-6 of the gradient" into its norm.
  const roundoff = (1.5 * Number.EPSILON * Math.abs(f(inputs))) / h;
  const numeric: Tensor[] = [];
  const perInput: InputCheck[] = [];
  wrt.forEach((idx, k) => {
    const x = inputs[idx]!;
    const num = tensor(x.shape);
    num.data.fill(NaN);
    // Five-point stencil: truncation error O(h⁴) and round-off O(ε/h), both far below 1e-6.
    const at = (i: number, orig: number, delta: number) => {
      x.data[i] = orig + delta;
      return f(inputs);
    };
    const entries = pick ? pick(k, x.data.length) : [...x.data.keys()];
    const d = derived[k]!;
    let n2 = 0;
    let e2 = 0;
    let worst = { index: -1, derived: 0, numeric: 0 };
    for (const i of entries) {
      const orig = x.data[i]!;
      const d1 = at(i, orig, h) - at(i, orig, -h);
      const d2 = at(i, orig, 2 * h) - at(i, orig, -2 * h);
      x.data[i] = orig;
      const n = (8 * d1 - d2) / (12 * h);
      num.data[i] = n;
      const diff = d.data[i]! - n;
      e2 += diff ** 2;
      n2 += n ** 2;
      if (worst.index < 0 || Math.abs(diff) > Math.abs(worst.derived - worst.numeric)) {
        worst = { index: i, derived: d.data[i]!, numeric: n };
      }
    }
    numeric.push(num);
    const resolvable = roundoff * Math.sqrt(entries.length) * 1e6;
    const scale = Math.max(Math.sqrt(n2), resolvable, 1e-12);
    const relError = Number.isFinite(e2) ? Math.sqrt(e2) / scale : NaN;
    perInput.push({ entries, relError, resolvable, worst });
  });
  const errors = perInput.map((p) => p.relError);
  const maxRelError = errors.some(Number.isNaN) ? NaN : Math.max(0, ...errors);
  return { derived, numeric, perInput, maxRelError };
}

/** `count` distinct entries of [0, size), or all of them: a deterministic sample. */
export function sampleEntries(size: number, count: number, rand: () => number): number[] {
  const all = [...Array(size).keys()];
  if (size <= count) return all;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (size - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}
