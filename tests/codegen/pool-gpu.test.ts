// Pooling over the graphs of a batch (and over all nodes) and its transpose, unpool: the WGSL
// kernels, forward and derived backward, against the float64 interpreter on a batch with an empty
// graph and a one-node graph; outputs poisoned with NaN before each run, relative error < 1e-4.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { evalShape } from "../../compiler/ir/dims.js";
import { graphView, interpret, type CsrGraph } from "../../compiler/ir/interp.js";
import { relativeError, tensor } from "../../compiler/ir/tensor.js";
import type { Shape, Value } from "../../compiler/ir/types.js";
import { randomTensor, rng } from "../../compiler/gradcheck/random.js";
import { buildBatch } from "../../runtime/data/batch.js";
import { runOnGpu } from "../helpers/gpu.js";

/** Five graphs of 5, 0, 9, 1 and 4 nodes, each a path plus a chord where it fits. */
function batch(): CsrGraph {
  const counts = [5, 0, 9, 1, 4];
  const pairs: number[] = [];
  let offset = 0;
  for (const n of counts) {
    for (let i = 1; i < n; i++) pairs.push(offset + i - 1, offset + i);
    if (n >= 4) pairs.push(offset, offset + n - 1);
    offset += n;
  }
  const { graph } = buildBatch(counts, Uint32Array.from(pairs));
  return graph;
}

interface Case {
  name: string;
  inputs: Shape[];
  build(b: Builder, ins: Value[]): Value;
}

const pool = (b: Builder, x: Value, opcode: string, over = "graphs") => b.op(opcode, [x], { over });

const cases: Case[] = [
  { name: "pool_sum over graphs", inputs: [["N", 6]], build: (b, [x]) => pool(b, x!, "pool_sum") },
  { name: "pool_max over graphs", inputs: [["N", 6]], build: (b, [x]) => pool(b, x!, "pool_max") },
  {
    name: "pool mean over graphs (sum / size)",
    inputs: [["N", 3]],
    build: (b, [x]) =>
      b.div(
        pool(b, x!, "pool_sum"),
        b.op("maximum", [b.op("graph_size", [], { over: "graphs" }), b.fill(1)]),
      ),
  },
  {
    name: "pool_sum over nodes",
    inputs: [["N", 5]],
    build: (b, [x]) => pool(b, x!, "pool_sum", "nodes"),
  },
  {
    name: "pool_max over nodes",
    inputs: [["N", 5]],
    build: (b, [x]) => pool(b, x!, "pool_max", "nodes"),
  },
  { name: "unpool over graphs", inputs: [["G", 4]], build: (b, [p]) => pool(b, p!, "unpool") },
  {
    name: "pool of an expression of nodes and their graph's row (fused)",
    inputs: [
      ["N", 4],
      ["G", 4],
    ],
    build: (b, [x, p]) => pool(b, b.mul(b.unary("tanh", x!), pool(b, p!, "unpool")), "pool_sum"),
  },
  {
    name: "a graph's row read at an edge's source (virtual node message)",
    inputs: [
      ["N", 3],
      ["G", 3],
    ],
    build: (b, [x, p]) =>
      b.op(
        "segment_sum",
        [
          b.mul(
            b.op("gather", [pool(b, p!, "unpool")], { side: "src", loops: false }),
            b.op("gather", [x!], { side: "dst", loops: false }),
          ),
        ],
        { by: "dst", loops: false },
      ),
  },
];

function expectClose(gpu: Float32Array, ref: Float64Array, what: string) {
  expect(gpu.length, what).toBe(ref.length);
  for (let i = 0; i < gpu.length; i++)
    expect(Number.isNaN(gpu[i]!), `${what}: element ${i} is NaN`).toBe(false);
  expect(relativeError(gpu, ref), what).toBeLessThan(1e-4);
}

describe("pooling kernels agree with the interpreter", () => {
  const csr = batch();
  const dims = { N: csr.numNodes, E: csr.srcIdx.length, G: csr.graphPtr!.length - 1 };
  const opts = { dims, graph: graphView(csr), seed: 1, step: 1 };

  it("the batch has an empty graph and a one-node graph", () => {
    expect([...csr.graphPtr!]).toEqual([0, 5, 5, 14, 15, 19]);
  });

  for (const c of cases) {
    it(`${c.name}: forward and backward`, async () => {
      const rand = rng(5);
      // Σ op(inputs) ⊙ W with a random W: the backward gets random cotangents.
      const g = newGraph(c.name, c.inputs);
      const b = new Builder(g);
      const out = c.build(b, [...g.inputs]);
      g.outputs = [out];
      const ins = g.inputs.map((v) => randomTensor(evalShape(v.shape, dims), rand, { gap: 0.05 }));
      const ref = interpret(g, ins, opts);
      const got = await runOnGpu(g, ins, dims, csr);
      expectClose(got.outputs[0]!, ref[0]!.data, `${c.name} forward`);

      const lg = newGraph(`${c.name}_loss`, [...c.inputs, out.shape]);
      const lb = new Builder(lg);
      const y = c.build(lb, lg.inputs.slice(0, c.inputs.length));
      lg.outputs = [lb.op("sum_all", [lb.mul(y, lg.inputs[c.inputs.length]!)])];
      const vg = vjpGraph(
        lg,
        c.inputs.map((_, i) => i),
      );
      const vins = [
        ...ins,
        randomTensor(evalShape(out.shape, dims), rand, { gap: 0.05 }),
        tensor([], [1]),
      ];
      const vref = interpret(vg, vins, opts);
      const vout = await runOnGpu(vg, vins, dims, csr);
      vref.forEach((r, i) => expectClose(vout.outputs[i]!, r.data, `${c.name} backward ${i}`));
    });
  }
});
