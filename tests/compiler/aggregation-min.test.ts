// `aggregate min`, added through the aggregation registry alone: the minimum it computes on a
// hand-made graph, its derived gradient against float64 finite differences, and its WGSL (forward
// and backward) against the interpreter on the GPU.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { randomCsr, rng } from "../../compiler/gradcheck/random.js";
import { graphView, interpret } from "../../compiler/ir/interp.js";
import { relativeError, tensor } from "../../compiler/ir/tensor.js";
import { runOnGpu } from "../helpers/gpu.js";
import { randomModelCase } from "../helpers/model.js";

// The message mixes source and destination so both endpoints get gradients through the minimum.
const source = `
model MinAgg(x: [N, F], y: labels[N, K]; D: int = 4) {
  param W: [F, D] = glorot
  param a: [D] = ones
  param W_out: [D, K] = glorot
  let h = x @ W
  let m = aggregate min over edges (u -> v) { h[u] * a - 0.5 * h[v] }
  loss cross_entropy(m @ W_out, y)
}
`;
const model = expectModel(compileSource(source, "min.gnn")).train;
const lossOnly = { ...model.graph, outputs: [model.graph.outputs[0]!] } as typeof model.graph;
const wrt = model.params.map((_, i) => model.inputs.length + i);

describe("aggregate min", () => {
  it("is the channel-wise minimum over each node's in-edges, 0 without edges", () => {
    // Edges 0→2, 1→2, 2→0: node 1 has no in-edges.
    const csr = {
      numNodes: 3,
      dstRowPtr: Int32Array.of(0, 1, 1, 3),
      srcIdx: Int32Array.of(2, 0, 1),
    };
    const g = expectModel(
      compileSource(
        "model M(x: [N, F], y: labels[N, K]) {\n" +
          "  param W: [F, K] = glorot\n" +
          "  let m = aggregate min over edges (u -> v) { x[u] }\n" +
          "  output m\n" +
          "  loss cross_entropy(m @ W, y)\n" +
          "}\n",
        "m.gnn",
      ),
    ).train;
    const x = tensor([3, 2], [3, -1, 5, -4, 2, 7]);
    const outs = interpret(
      g.graph,
      [x, tensor([3, 1], [0, 1, 0]), tensor([3, 1], [1, 1, 1]), tensor([2, 2], [1, 0, 0, 1])],
      { dims: { N: 3, E: 3, F: 2, K: 2 }, graph: graphView(csr) },
    );
    // node 0 ← x[2] = (2, 7); node 1: no edges (−0 as −max of nothing; `+ 0` makes it 0);
    // node 2 ← min(x[0], x[1]) = (3, −4).
    expect(Array.from(outs[1]!.data, (v) => v + 0)).toEqual([2, 7, 0, 0, 3, -4]);
  });

  it("derived gradient = finite differences (float64)", () => {
    const c = randomModelCase(model, 7);
    const fd = gradcheck(lossOnly, c.inputs, wrt, { dims: c.dims, graph: c.graph });
    expect(fd.maxRelError).toBeLessThan(1e-6);
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
  });
});
