// Finite-difference checks of derived gradients, in float64 on the reference interpreter.
// Inputs are kept well away from kinks by the random generators (|x| ≥ gap).
import { vjpGraph, type AdOptions } from "../../compiler/autodiff/core.js";
import { interpret, type InterpretOptions } from "../../compiler/ir/interp.js";
import { tensor, type Tensor } from "../../compiler/ir/tensor.js";
import type { Graph } from "../../compiler/ir/types.js";

/** Gradients of the scalar output 0 of g w.r.t. inputs `wrt`: derived and central differences. */
export function gradcheck(
  g: Graph,
  inputs: Tensor[],
  wrt: number[],
  opts: InterpretOptions,
  ad?: AdOptions,
  h = 1e-4,
): { derived: Tensor[]; numeric: Tensor[]; maxRelError: number } {
  const vg = vjpGraph(g, wrt, ad);
  const seeds = g.outputs.map((v, i) =>
    i === 0 ? tensor([], [1]) : tensor(v.shape.map(() => 0) as number[]),
  );
  const outs = interpret(vg, [...inputs, ...seeds.slice(0, g.outputs.length)], opts);
  const derived = outs.slice(g.outputs.length);
  const f = (xs: Tensor[]) => interpret(g, xs, opts)[0]!.data[0]!;
  const numeric: Tensor[] = [];
  let maxRel = 0;
  wrt.forEach((idx, k) => {
    const x = inputs[idx]!;
    const num = tensor(x.shape);
    // Five-point stencil: truncation error O(h⁴) and round-off O(ε/h), both far below 1e-6.
    const at = (i: number, orig: number, delta: number) => {
      x.data[i] = orig + delta;
      return f(inputs);
    };
    for (let i = 0; i < x.data.length; i++) {
      const orig = x.data[i]!;
      const d1 = at(i, orig, h) - at(i, orig, -h);
      const d2 = at(i, orig, 2 * h) - at(i, orig, -2 * h);
      x.data[i] = orig;
      num.data[i] = (8 * d1 - d2) / (12 * h);
    }
    numeric.push(num);
    const d = derived[k]!;
    let n2 = 0;
    let e2 = 0;
    for (let i = 0; i < num.data.length; i++) {
      e2 += (d.data[i]! - num.data[i]!) ** 2;
      n2 += num.data[i]! ** 2;
    }
    maxRel = Math.max(maxRel, Math.sqrt(e2) / Math.max(Math.sqrt(n2), 1e-12));
  });
  return { derived, numeric, maxRelError: maxRel };
}
