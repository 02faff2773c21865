// Each example model on the GPU against the interpreter: the forward pass (loss and logits), the
// derived backward (every parameter's gradient, reversible and stored-activation schedules) and,
// for reversible models, the derived inverse used by the backward — all at 1e-4 relative error,
// dropout on (the hash RNG gives the GPU and the interpreter the same masks).
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { interpret } from "../../compiler/ir/interp.js";
import { relativeError, tensor } from "../../compiler/ir/tensor.js";
import { runOnGpu } from "../helpers/gpu.js";
import { compileExample, randomModelCase } from "../helpers/model.js";
import { randomCsr, rng } from "../../compiler/gradcheck/random.js";
import { graphView } from "../../compiler/ir/interp.js";

const examples = readdirSync("examples").filter((f) => f.endsWith(".gnn"));

describe("example models on the GPU", () => {
  for (const file of examples) {
    it(`${file}: loss, logits and all parameter gradients match the interpreter`, async () => {
      const model = compileExample(file, { L: "3", D: "8" }, "gpu");
      const m = model.train;
      const c = randomModelCase(m, 19, { N: 23, E: 60, F: 6, K: 4 });
      // The case's batch of graphs (for graph-level models) over this graph's nodes.
      const csr = { ...randomCsr(23, 60, rng(8)), graphPtr: c.graph.graphPtr };
      const graph = graphView(csr);
      const dims = { ...c.dims, N: csr.numNodes, E: csr.srcIdx.length };
      const opts = { dims, graph, seed: 3, step: 1 };
      const ref = interpret(m.graph, c.inputs, opts);
      const gpu = await runOnGpu(m.graph, c.inputs, dims, csr, { seed: 3, step: 1 });
      ref.forEach((r, i) =>
        expect(relativeError(gpu.outputs[i]!, r.data), `forward output ${i}`).toBeLessThan(1e-4),
      );

      const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
      const wrt = m.params.map((_, i) => c.numData + i);
      for (const scanPolicy of ["auto", "store"] as const) {
        const vg = vjpGraph(lossOnly, wrt, { scanPolicy });
        const ins = [...c.inputs, tensor([], [1])];
        const vref = interpret(vg, ins, opts);
        const vgpu = await runOnGpu(vg, ins, dims, csr, { seed: 3, step: 1 });
        vref.forEach((r, i) => {
          const name = i === 0 ? "loss" : m.params[i - 1]!.name;
          expect(vgpu.outputs[i]!.some(Number.isNaN), `${scanPolicy}: ${name} has NaN`).toBe(false);
          expect(
            relativeError(vgpu.outputs[i]!, r.data),
            `${scanPolicy}: gradient of ${name}`,
          ).toBeLessThan(1e-4);
        });
      }
    });
  }

  // Regression: with more rows than one workgroup of column-reduction chunks covers, a fused
  // group of column reductions whose first member is narrower (b_out over K classes) than the
  // others (biases and gains over D channels) launched too few invocations, leaving gradients
  // unwritten. Small test graphs fit in one workgroup and hid it; Cora (2708 nodes) did not.
  it("revgcn.gnn with 1100 nodes and D = 64: every gradient is written and matches", async () => {
    const model = compileExample("revgcn.gnn", { L: "2", D: "64" }, "gpu");
    const m = model.train;
    const csr = randomCsr(1100, 4400, rng(8));
    const c = randomModelCase(m, 19, { N: 1100, E: 4400, F: 6, K: 4 });
    const dims = { ...c.dims, N: csr.numNodes, E: csr.srcIdx.length };
    const opts = { dims, graph: graphView(csr), seed: 3, step: 1 };
    const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
    const vg = vjpGraph(
      lossOnly,
      m.params.map((_, i) => c.numData + i),
    );
    const ins = [...c.inputs, tensor([], [1])];
    const vref = interpret(vg, ins, opts);
    const vgpu = await runOnGpu(vg, ins, dims, csr, { seed: 3, step: 1 });
    vref.forEach((r, i) => {
      const name = i === 0 ? "loss" : m.params[i - 1]!.name;
      expect(relativeError(vgpu.outputs[i]!, r.data), `gradient of ${name}`).toBeLessThan(1e-4);
    });
  });
});
