// The finite-difference check's resolution: a gradient far smaller than the loss (GAT's a_dst,
// which the softmax over a node's in-edges almost cancels) is within the stencil's round-off, and
// is measured against the smallest norm the stencil resolves; a wrong gradient is still caught.
import { describe, expect, it } from "vitest";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { tensor } from "../../compiler/ir/tensor.js";
import type { Value } from "../../compiler/ir/types.js";

/** loss = big + Σ scale ⊙ x, with inputs x, scale and big (a scalar). */
function lossGraph() {
  const g = newGraph("tiny", [[4], [4], []]);
  const b = new Builder(g);
  const [x, scale, big] = g.inputs as [Value, Value, Value];
  // big + Σ scale ⊙ x: the gradient w.r.t. x is `scale`, whatever the size of `big`.
  g.outputs = [b.add(big, b.op("sum_all", [b.mul(x, scale)]))];
  return g;
}

describe("gradcheck resolution", () => {
  const g = lossGraph();
  const x = () => tensor([4], Float64Array.from([0.3, -0.7, 1.1, 0.2]));
  const opts = { dims: {} };

  it("a gradient of 1e-8 under a loss of 1e3 is not failed by round-off", () => {
    const scale = tensor([4], Float64Array.from([1e-8, -2e-8, 3e-8, 1e-8]));
    const big = tensor([], Float64Array.from([1000]));
    const r = gradcheck(g, [x(), scale, big], [0], opts);
    // The plain ratio ‖derived − numeric‖ / ‖numeric‖ is far above 1e-6 here (round-off alone:
    // ε·1e3/1e-4 ≈ 2e-9 an entry against gradients of 1e-8).
    const [p] = r.perInput;
    const d = r.derived[0]!.data;
    const n = r.numeric[0]!.data;
    let e2 = 0;
    let n2 = 0;
    for (let i = 0; i < 4; i++) [e2, n2] = [e2 + (d[i]! - n[i]!) ** 2, n2 + n[i]! ** 2];
    expect(Math.sqrt(e2) / Math.sqrt(n2)).toBeGreaterThan(1e-6);
    expect(p!.resolvable).toBeGreaterThan(Math.sqrt(n2));
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  it("a wrong gradient of ordinary size is still caught under the same loss", () => {
    const scale = tensor([4], Float64Array.from([0.5, -0.25, 0.125, 1]));
    const big = tensor([], Float64Array.from([1000]));
    const r = gradcheck(g, [x(), scale, big], [0], opts);
    expect(r.maxRelError).toBeLessThan(1e-6);
    // Corrupt the derived gradient by 1e-4 of its size: the check sees it.
    const wrong = r.derived[0]!.data;
    const numeric = r.numeric[0]!.data;
    let e2 = 0;
    let n2 = 0;
    for (let i = 0; i < 4; i++) {
      const off = wrong[i]! * (1 + 1e-4) - numeric[i]!;
      [e2, n2] = [e2 + off ** 2, n2 + numeric[i]! ** 2];
    }
    expect(Math.sqrt(e2) / Math.max(Math.sqrt(n2), r.perInput[0]!.resolvable)).toBeGreaterThan(
      1e-6,
    );
  });
});
