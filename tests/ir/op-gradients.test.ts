// Every op's VJP rule against central finite differences in float64 (relative error < 1e-6).
import { describe, expect, it } from "vitest";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { evalShape } from "../../compiler/ir/dims.js";
import { allOps } from "../../compiler/ir/registry.js";
import type { Attrs, Shape } from "../../compiler/ir/types.js";
import { verifyGraph } from "../../compiler/ir/verify.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { randomGraphView, randomTensor, rng } from "../../compiler/gradcheck/random.js";

interface Case {
  op: string;
  inputs: Shape[];
  attrs?: Attrs;
  positive?: boolean[];
  /** inputs not differentiated (labels, masks) */
  constant?: number[];
  /** fixed values for some inputs (a condition that takes both branches) */
  values?: Record<number, number[]>;
}

const cases: Case[] = [
  { op: "neg", inputs: [[3, 4]] },
  { op: "relu", inputs: [[3, 4]] },
  { op: "leaky_relu", inputs: [[3, 4]], attrs: { alpha: 0.2 } },
  { op: "elu", inputs: [[3, 4]], attrs: { alpha: 1.3 } },
  { op: "sigmoid", inputs: [[3, 4]] },
  { op: "tanh", inputs: [[3, 4]] },
  { op: "exp", inputs: [[3, 4]] },
  { op: "log", inputs: [[3, 4]], positive: [true] },
  { op: "sqrt", inputs: [[3, 4]], positive: [true] },
  { op: "rsqrt", inputs: [[3, 4]], positive: [true] },
  { op: "abs", inputs: [[3, 4]] },
  { op: "softplus", inputs: [[3, 4]] },
  { op: "square", inputs: [[3, 4]] },
  { op: "add", inputs: [[3, 4], [4]] },
  {
    op: "sub",
    inputs: [
      [3, 4],
      [3, 1],
    ],
  },
  {
    op: "mul",
    inputs: [
      [3, 4],
      [3, 4],
    ],
  },
  { op: "div", inputs: [[3, 4], [4]], positive: [false, true] },
  {
    op: "maximum",
    inputs: [
      [3, 4],
      [3, 4],
    ],
  },
  // Rows 0 and 2 take a, row 1 takes the broadcast b: both branches' cotangents are checked.
  {
    op: "select",
    inputs: [[3, 1], [3, 4], [4]],
    constant: [0],
    values: { 0: [1, 0, -2] },
  },
  { op: "row_sum", inputs: [[3, 5]] },
  { op: "row_max", inputs: [[3, 5]] },
  { op: "col_sum", inputs: [[3, 5]] },
  { op: "sum_all", inputs: [[3, 5]] },
  { op: "broadcast", inputs: [[3, 1]], attrs: { shape: [3, 4] } },
  { op: "reshape", inputs: [[3, 4]], attrs: { shape: [2, 6] } },
  {
    op: "matmul",
    inputs: [
      [3, 4],
      [4, 5],
    ],
    attrs: { transA: false, transB: false },
  },
  {
    op: "matmul",
    inputs: [
      [4, 3],
      [4, 5],
    ],
    attrs: { transA: true, transB: false },
  },
  {
    op: "matmul",
    inputs: [
      [3, 4],
      [5, 4],
    ],
    attrs: { transA: false, transB: true },
  },
  {
    op: "matmul",
    inputs: [
      [4, 3],
      [5, 4],
    ],
    attrs: { transA: true, transB: true },
  },
  // e @ We per edge (rows of any count, the contracted size known), and its transposed form (the
  // edge value's gradient d @ Weᵀ); the weight gradient is a column sum of row_outer.
  {
    op: "row_matmul",
    inputs: [
      ["E", 3],
      [3, 4],
    ],
    attrs: { transB: false, inner: 3 },
  },
  {
    op: "row_matmul",
    inputs: [
      [5, 3],
      [4, 3],
    ],
    attrs: { transB: true, inner: 3 },
  },
  {
    op: "row_outer",
    inputs: [
      ["E", 3],
      ["E", 2],
    ],
  },
  {
    op: "row_outer",
    inputs: [
      [4, 1],
      [4, 3],
    ],
  },
  { op: "slice_cols", inputs: [[3, 6]], attrs: { start: 2, len: 3 } },
  { op: "pad_cols", inputs: [[3, 2]], attrs: { start: 1, total: 5 } },
  { op: "repeat_cols", inputs: [[3, 2]], attrs: { times: 3 } },
  { op: "group_sum", inputs: [[3, 6]], attrs: { width: 2 } },
  { op: "group_sum", inputs: [["E+N", 8]], attrs: { width: 4 } },
  {
    op: "concat_cols",
    inputs: [
      [3, 2],
      [3, 3],
      [3, 1],
    ],
  },
  { op: "gather", inputs: [["N", 3]], attrs: { side: "src", loops: false } },
  { op: "gather", inputs: [["N", 3]], attrs: { side: "dst", loops: true } },
  { op: "segment_sum", inputs: [["E", 3]], attrs: { by: "dst", loops: false } },
  { op: "segment_sum", inputs: [["E+N", 3]], attrs: { by: "src", loops: true } },
  { op: "segment_max", inputs: [["E", 3]], attrs: { by: "dst", loops: false } },
  { op: "segment_max", inputs: [["E+N", 2]], attrs: { by: "src", loops: true } },
  { op: "pool_sum", inputs: [["N", 3]], attrs: { over: "graphs" } },
  { op: "pool_sum", inputs: [["N", 3]], attrs: { over: "nodes" } },
  { op: "pool_max", inputs: [["N", 3]], attrs: { over: "graphs" } },
  { op: "pool_max", inputs: [["N", 2]], attrs: { over: "nodes" } },
  { op: "unpool", inputs: [["G", 3]], attrs: { over: "graphs" } },
  { op: "unpool", inputs: [[1, 3]], attrs: { over: "nodes" } },
];

// The graph is also a batch of three graphs (the second empty), for the pooling ops.
const dims = { N: 7, E: 15, G: 3 };
const GRAPH_PTR = Uint32Array.from([0, 3, 3, 7]);

describe("VJP rules match finite differences", () => {
  it("every differentiable op has a case", () => {
    const covered = new Set(cases.map((c) => c.op));
    const missing = allOps()
      .filter((d) => d.vjp && !["scan", "rev_block", "fixpoint", "quantize"].includes(d.name))
      .map((d) => d.name)
      .filter((n) => !covered.has(n));
    expect(missing).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.op} ${JSON.stringify(c.attrs ?? {})}`, () => {
      const rand = rng(17 + c.inputs.length * 31 + c.op.length);
      const graph = { ...randomGraphView(dims.N, dims.E, rand), graphPtr: GRAPH_PTR };
      // out = Σ op(inputs) ⊙ W with a random W of the result's shape (an extra input, not differentiated).
      const g = newGraph(`case_${c.op}`, c.inputs);
      const b = new Builder(g);
      const outs = b.emit(c.op, [...g.inputs], c.attrs ?? {});
      const weights = outs.map((o) => {
        const w = newGraph("w", [o.shape]).inputs[0]!;
        g.inputs.push(w);
        return w;
      });
      let total: ReturnType<Builder["op"]> | undefined;
      outs.forEach((o, i) => {
        const proj = b.op("sum_all", [b.mul(o, weights[i]!)]);
        total = total ? b.add(total, proj) : proj;
      });
      g.outputs = [total!];
      verifyGraph(g);
      const inputs = g.inputs.map((v, i) => {
        const t = randomTensor(evalShape(v.shape, dims), rand, {
          positive: c.positive?.[i],
          gap: 0.1,
        });
        if (c.values?.[i]) t.data.set(c.values[i]);
        return t;
      });
      const wrt = c.inputs.map((_, i) => i).filter((i) => !c.constant?.includes(i));
      const r = gradcheck(g, inputs, wrt, { dims, graph });
      expect(r.maxRelError).toBeLessThan(1e-6);
    });
  }
});
