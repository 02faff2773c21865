// Nested reversible layers: a reversible layer called inside another's body is inlined, so the
// outer block is one flat sequence of updates. It computes what the same updates written out by
// hand compute, stays a reversible loop (the backward rebuilds inputs, gradients match finite
// differences), and the prover checks the flattened block with the call's hyperparameters.
import { describe, expect, it } from "vitest";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { carryPathError } from "../../compiler/inverse/rev-backward.js";
import { interpret } from "../../compiler/ir/interp.js";
import { randomModelCase } from "../helpers/model.js";

const model = (layers: string) => `${layers}
model M(x: [N, F], y: labels[N, K]; D: int = 8, L: int = 2) {
  param W_in: [F, D] = glorot
  param W_out: [D, K] = glorot
  var h = x @ W_in
  repeat L {
    let (a, b) = split(h, 2)
    let (a2, b2) = outer(a, b)
    h = concat(a2, b2)
  }
  output h
  loss cross_entropy(h @ W_out, y)
}
`;

const nested = model(`
layer inner(a: [N, e], b: [N, e]; g: float = 0.5) reversible {
  param W: [e, e] = glorot
  let t = tanh(a @ W) * g
  b += t
  b *= exp(t * e / 4)
}
layer outer(x1: [N, d], x2: [N, d]) reversible {
  x2 = inner(x1, x2, g = 0.25)
  x1 += relu(x2)
  x1 = inner(x2, x1)
}`);

// The same updates written out by hand, with the parameters in the inlined order and names.
const byHand = model(`
layer outer(x1: [N, d], x2: [N, d]) reversible {
  param W1: [d, d] = glorot
  let t1 = tanh(x1 @ W1) * 0.25
  x2 += t1
  x2 *= exp(t1 * d / 4)
  x1 += relu(x2)
  param W2: [d, d] = glorot
  let t2 = tanh(x2 @ W2) * 0.5
  x1 += t2
  x1 *= exp(t2 * d / 4)
}`);

describe("a reversible layer calling another one", () => {
  const m = expectModel(compileSource(nested, "nested.gnn")).train;
  const h = expectModel(compileSource(byHand, "hand.gnn")).train;

  it("computes what the inlined updates compute, with the inner layer's parameters named per call", () => {
    expect(m.params.map((p) => p.name)).toEqual([
      "W_in",
      "W_out",
      "repeat1.outer.inner.W",
      "repeat1.outer.inner_2.W",
    ]);
    expect(m.params.map((p) => p.shape)).toEqual(h.params.map((p) => p.shape));
    const c = randomModelCase(m, 4);
    const opts = { dims: c.dims, graph: c.graph };
    const [lossA, outA] = interpret(m.graph, c.inputs, opts);
    const [lossB, outB] = interpret(h.graph, c.inputs, opts);
    expect(lossA!.data[0]).toBe(lossB!.data[0]);
    expect(Array.from(outA!.data)).toEqual(Array.from(outB!.data));
  });

  it("is a reversible loop whose gradients match finite differences", () => {
    const scan = m.graph.ops.find((o) => o.opcode === "scan")!;
    expect(carryPathError(scan.regions[0]!, scan.attrs.numCarry as number)).toBeUndefined();
    const c = randomModelCase(m, 9);
    const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
    const wrt = m.params.map((_, i) => c.numData + i);
    expect(
      gradcheck(lossOnly, c.inputs, wrt, { dims: c.dims, graph: c.graph }).maxRelError,
    ).toBeLessThan(1e-6);
  });

  it("is proved with the call's hyperparameters: a zero factor passed in is refused at the call", () => {
    const zero = nested
      .replace("b *= exp(t * e / 4)", "b *= g")
      .replace("x2 = inner(x1, x2, g = 0.25)", "x2 = inner(x1, x2, g = 0)");
    const r = compileSource(zero, "zero.gnn");
    expect(r.model).toBeUndefined();
    const line = zero.split("\n").findIndex((l) => l.includes("g = 0)")) + 1;
    expect(r.diagnostics.map((d) => [d.span?.line, d.message.split(":")[0]])).toEqual([
      [line, "`b *= g` is not invertible"],
    ]);
  });
});
