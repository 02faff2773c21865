// Multi-head attention aggregation: a softmax score [E, H] splits the message's D channels into H
// heads of D/H. It must equal H one-head aggregations over the channel slices, concatenated (the
// definition of GAT's concatenated heads); its derived gradient must match float64 finite
// differences; its fused WGSL (forward and backward) must match the interpreter.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { randomCsr, rng } from "../../compiler/gradcheck/random.js";
import { graphView, interpret } from "../../compiler/ir/interp.js";
import { relativeError, tensor } from "../../compiler/ir/tensor.js";
import { runOnGpu } from "../helpers/gpu.js";
import { randomModelCase } from "../helpers/model.js";

// Three heads of two channels; tanh instead of leaky_relu keeps finite differences off kinks.
const multiHead = `
model Heads(x: [N, F], y: labels[N, K]; D: int = 6, H: int = 3) {
  param W: [F, D] = glorot
  param a_src: [D] = glorot
  param a_dst: [D] = glorot
  param W_out: [D, K] = glorot
  let h = x @ W
  let el = dot(h, a_src, heads = H)
  let er = dot(h, a_dst, heads = H)
  let m = aggregate softmax(tanh(el[u] + er[v])) over edges (u -> v) with self_loops { h[u] }
  output m
  loss cross_entropy(m @ W_out, y)
}
`;

// The same computation written head by head, with the same parameters as vectors sliced apart.
const headByHead = `
layer head(h: [N, c], a_src: [N, c], a_dst: [N, c]) -> [N, c] {
  let el = dot(h, a_src)
  let er = dot(h, a_dst)
  return aggregate softmax(tanh(el[u] + er[v])) over edges (u -> v) with self_loops { h[u] }
}

model Apart(x: [N, F], y: labels[N, K]; D: int = 6) {
  param W: [F, D] = glorot
  param a_src: [D] = glorot
  param a_dst: [D] = glorot
  param W_out: [D, K] = glorot
  let h = x @ W
  let (h1, h2, h3) = split(h, 3)
  let (s1, s2, s3) = split(ones_like(h) * a_src, 3)
  let (d1, d2, d3) = split(ones_like(h) * a_dst, 3)
  let m = concat(head(h1, s1, d1), head(h2, s2, d2), head(h3, s3, d3))
  output m
  loss cross_entropy(m @ W_out, y)
}
`;

const model = expectModel(compileSource(multiHead, "heads.gnn")).train;
const apart = expectModel(compileSource(headByHead, "apart.gnn")).train;
const lossOnly = { ...model.graph, outputs: [model.graph.outputs[0]!] } as typeof model.graph;
const wrt = model.params.map((_, i) => model.inputs.length + i);

describe("aggregate softmax with a score per head", () => {
  it("equals one-head aggregations over the heads' channels, concatenated", () => {
    const c = randomModelCase(model, 3, { N: 11, E: 30, F: 5, K: 3 });
    const opts = { dims: c.dims, graph: c.graph };
    const [, heads] = interpret(model.graph, c.inputs, opts);
    const [, separate] = interpret(apart.graph, c.inputs, opts);
    expect(heads!.shape).toEqual([11, 6]);
    // Not one softmax for all channels: the heads' weights differ.
    const [, oneHead] = interpret(
      expectModel(compileSource(multiHead, "one.gnn", { set: { H: "1" } })).train.graph,
      c.inputs,
      opts,
    );
    expect(relativeError(Float32Array.from(heads!.data), oneHead!.data)).toBeGreaterThan(1e-3);
    heads!.data.forEach((v, i) => expect(v).toBeCloseTo(separate!.data[i]!, 12));
  });

  it("derived gradient = finite differences (float64)", () => {
    const c = randomModelCase(model, 7);
    const fd = gradcheck(lossOnly, c.inputs, wrt, { dims: c.dims, graph: c.graph });
    expect(fd.maxRelError).toBeLessThan(1e-6);
  });

  it("fuses into the graph kernels: no [E, D] weights or messages are stored", () => {
    // The partition refuses to give an edge value a buffer, so compiling is the check; the
    // weights are spread over each head's channels inside the aggregation's kernel.
    const r = compileSource(multiHead, "heads.gnn");
    expect(r.diagnostics).toEqual([]);
    const printed = JSON.stringify(model.graph.ops.map((o) => o.opcode));
    expect(printed).toContain("repeat_cols");
    expect(printed).toContain("group_sum");
  });

  it("GPU = interpreter: forward and every parameter's gradient", async () => {
    const csr = randomCsr(23, 60, rng(8));
    const c = randomModelCase(model, 19, { N: 23, E: 60, F: 6, K: 4 });
    const dims = { ...c.dims, N: csr.numNodes, E: csr.srcIdx.length };
    const opts = { dims, graph: graphView(csr) };
    const ref = interpret(model.graph, c.inputs, opts);
    const gpu = await runOnGpu(model.graph, c.inputs, dims, csr);
    ref.forEach((r, i) => expect(relativeError(gpu.outputs[i]!, r.data)).toBeLessThan(1e-4));

    const vg = vjpGraph(lossOnly, wrt);
    const ins = [...c.inputs, tensor([], [1])];
    const vref = interpret(vg, ins, opts);
    const vgpu = await runOnGpu(vg, ins, dims, csr);
    vref.forEach((r, i) =>
      expect(relativeError(vgpu.outputs[i]!, r.data), `output ${i}`).toBeLessThan(1e-4),
    );
  }, 600_000);
});
