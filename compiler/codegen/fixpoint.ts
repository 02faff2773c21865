// The small programs a fixpoint loop runs between cell evaluations, built in IR so that they
// compile to the same kind of kernels as everything else: the convergence test and, for Anderson
// acceleration, the inner products of the residual history and the mixing of past iterates.
import { Builder, newGraph } from "../ir/builder.js";
import type { Graph, Shape } from "../ir/types.js";

/** [z, f(z)] → [f(z) − z, ‖f(z) − z‖², ‖f(z)‖²] */
export function residualGraph(shape: Shape): Graph {
  const g = newGraph("fixpoint_residual", [shape, shape], ["z", "fz"]);
  const b = new Builder(g);
  const [z, fz] = g.inputs as [(typeof g.inputs)[0], (typeof g.inputs)[0]];
  const r = b.sub(fz!, z!);
  r.hint = "residual";
  g.outputs = [
    r,
    b.op("sum_all", [b.unary("square", r)]),
    b.op("sum_all", [b.unary("square", fz!)]),
  ];
  return g;
}

/** [r, h₁…h_m] → [⟨r, h₁⟩ … ⟨r, h_m⟩] */
export function dotsGraph(shape: Shape, m: number): Graph {
  const g = newGraph(
    "anderson_dots",
    Array.from({ length: m + 1 }, () => shape),
    ["r", ...Array.from({ length: m }, (_, k) => `h${k + 1}`)],
  );
  const b = new Builder(g);
  g.outputs = g.inputs.slice(1).map((h) => b.op("sum_all", [b.mul(g.inputs[0]!, h)]));
  return g;
}

/** [f₁…f_m, α₁…α_m] → [Σ αₖ fₖ] */
export function mixGraph(shape: Shape, m: number): Graph {
  const g = newGraph(
    "anderson_mix",
    [...Array.from({ length: m }, () => shape), ...Array.from({ length: m }, () => [])],
    [
      ...Array.from({ length: m }, (_, k) => `f${k + 1}`),
      ...Array.from({ length: m }, (_, k) => `a${k + 1}`),
    ],
  );
  const b = new Builder(g);
  let acc = b.mul(g.inputs[0]!, g.inputs[m]!);
  for (let k = 1; k < m; k++) acc = b.add(acc, b.mul(g.inputs[k]!, g.inputs[m + k]!));
  acc.hint = "mixed";
  g.outputs = [acc];
  return g;
}
