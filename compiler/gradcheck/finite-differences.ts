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
  /** ‖derived − numeric‖ / ‖numeric‖ over those entries (normwise: zero entries do not blow up). */
  relError: number;
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
    const relError = Number.isFinite(e2) ? Math.sqrt(e2) / Math.max(Math.sqrt(n2), 1e-12) : NaN;
    perInput.push({ entries, relError, worst });
  });
  const errors = perInput.map((p) => p.relError);
  const maxRelError = errors.some(Number.isNaN) ? NaN : Math.max(0, ...errors);
  return { derived, numeric, perInput, maxRelError };
}
