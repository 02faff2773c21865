// Reversible bodies beyond the template: factors the prover accepts (a literal, a hyperparameter,
// a channel vector broadcast over the rows, a temporary), a `let` shared by two updates and a
// conditioning input — in one block whose loop stays reversible, with derived gradients equal to
// finite differences and to stored-activation backprop.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { carryPathError } from "../../compiler/inverse/rev-backward.js";
import { interpret } from "../../compiler/ir/interp.js";
import { maxAbsDiff, tensor } from "../../compiler/ir/tensor.js";
import { randomModelCase } from "../helpers/model.js";

const program = `
layer block(x1: [N, d], x2: [N, d], c: [N, d]; gamma: float = 0.8) reversible {
  param g: [d] = normal(0.5)
  let t = tanh(x1 + c)
  let s = exp(tanh(t))
  x2 *= 0.9
  x2 *= gamma
  x2 *= sigmoid(g)
  x2 *= s
  x2 += t * 0.5
  x1 += tanh(x2) + c
}

model M(x: [N, F], y: labels[N, K]; D: int = 8, L: int = 2, gamma: float = 0.7) {
  param W_in: [F, D] = glorot
  param W_out: [D, K] = glorot
  let h0 = tanh(x @ W_in)
  let (c1, c2) = split(h0, 2)
  var h = h0
  repeat L {
    let (a, b) = split(h, 2)
    let (a2, b2) = block(a, b, c2, gamma = gamma)
    h = concat(a2, b2)
  }
  loss cross_entropy(h @ W_out, y)
}
`;

describe("richer reversible bodies", () => {
  it("compile to a reversible loop with gradients = finite differences = stored", () => {
    const m = expectModel(compileSource(program, "bodies.gnn")).train;
    const scan = m.graph.ops.find((o) => o.opcode === "scan")!;
    expect(carryPathError(scan.regions[0]!, scan.attrs.numCarry as number)).toBeUndefined();
    // The two updates that use t (one through s) form one statement; the others stand alone.
    const block = scan.regions[0]!.ops.find((o) => o.opcode === "rev_block")!;
    expect(
      (block.attrs.stmts as unknown as { then?: unknown[] }[]).map((s) => s.then?.length ?? 0),
    ).toEqual([0, 0, 0, 1, 0]);

    const c = randomModelCase(m, 7);
    const opts = { dims: c.dims, graph: c.graph, seed: 2, step: 1 };
    const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
    const wrt = m.params.map((_, i) => c.numData + i);
    expect(gradcheck(lossOnly, c.inputs, wrt, opts).maxRelError).toBeLessThan(1e-6);
    const rev = interpret(
      vjpGraph(lossOnly, wrt, { scanPolicy: "auto" }),
      [...c.inputs, tensor([], [1])],
      opts,
    );
    const sto = interpret(
      vjpGraph(lossOnly, wrt, { scanPolicy: "store" }),
      [...c.inputs, tensor([], [1])],
      opts,
    );
    rev.forEach((t, i) => expect(maxAbsDiff(t, sto[i]!)).toBeLessThan(1e-10));
  });
});
