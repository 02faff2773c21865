// Every op's WGSL, forward and derived backward, against the float64 interpreter on random inputs:
// shapes that are not tile multiples, a node without in-edges, one-node graphs; outputs poisoned
// with NaN before each run so an unwritten element fails; relative error < 1e-4.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { evalShape } from "../../compiler/ir/dims.js";
import { graphView, interpret, type CsrGraph } from "../../compiler/ir/interp.js";
import { relativeError, tensor } from "../../compiler/ir/tensor.js";
import type { Attrs, Graph, Shape } from "../../compiler/ir/types.js";
import { runOnGpu } from "../helpers/gpu.js";
import { randomCsr, randomTensor, rng } from "../../compiler/gradcheck/random.js";

interface Case {
  name: string;
  build(b: Builder, ins: ReturnType<typeof newGraph>["inputs"]): ReturnType<Builder["op"]>[];
  inputs: Shape[];
  positive?: boolean[];
  /** Inputs not differentiated: edge data, which gets no gradient in a model either. */
  constant?: number[];
}

const op =
  (opcode: string, attrs: Attrs = {}) =>
  (b: Builder, ins: Case["inputs"] extends never ? never : any[]) =>
    b.emit(opcode, ins, attrs);

const cases: Case[] = [
  ...["neg", "relu", "sigmoid", "tanh", "exp", "abs", "softplus", "square", "step", "sign"].map(
    (o) => ({ name: o, build: op(o), inputs: [[7, 5]] as Shape[] }),
  ),
  ...["log", "sqrt", "rsqrt"].map((o) => ({
    name: o,
    build: op(o),
    inputs: [[7, 5]] as Shape[],
    positive: [true],
  })),
  { name: "leaky_relu", build: op("leaky_relu", { alpha: 0.2 }), inputs: [[7, 5]] },
  { name: "elu", build: op("elu", { alpha: 1.1 }), inputs: [[7, 5]] },
  { name: "add row-vector", build: op("add"), inputs: [[7, 5], [5]] },
  {
    name: "sub column",
    build: op("sub"),
    inputs: [
      [7, 5],
      [7, 1],
    ],
  },
  { name: "mul scalar", build: op("mul"), inputs: [[7, 5], []] },
  {
    name: "div",
    build: op("div"),
    inputs: [
      [7, 5],
      [7, 5],
    ],
    positive: [false, true],
  },
  {
    name: "maximum",
    build: op("maximum"),
    inputs: [
      [7, 5],
      [7, 5],
    ],
  },
  {
    name: "ge",
    build: op("ge"),
    inputs: [
      [7, 5],
      [7, 5],
    ],
  },
  {
    // The condition comes from a comparison, so both branches are taken (and b broadcasts).
    name: "select",
    build: (b, [c, x, y]) => [b.op("select", [b.op("ge", [c!, b.fill(0)]), x!, y!])],
    inputs: [[37, 1], [37, 5], [5]],
  },
  { name: "row_sum", build: op("row_sum"), inputs: [[37, 13]] },
  { name: "row_max", build: op("row_max"), inputs: [[37, 13]] },
  { name: "row_argmax", build: op("row_argmax"), inputs: [[37, 13]] },
  {
    // sign() leaves only −1, 0 and 1: most rows hold several tied maxima, and the first must win.
    name: "row_argmax of tied values",
    build: (b, [x]) => [b.op("row_argmax", [b.unary("sign", x)])],
    inputs: [["N", 13]],
  },
  { name: "col_sum (long)", build: op("col_sum"), inputs: [["N", 13]] },
  { name: "sum_all", build: op("sum_all"), inputs: [["N", 3]] },
  // Four columns per invocation on CPU drivers, in a workgroup of 32.
  { name: "col_sum over 8 columns", build: op("col_sum"), inputs: [["N", 8]] },
  { name: "sum_all over 4 columns", build: op("sum_all"), inputs: [["N", 4]] },
  { name: "sum_all rank 1", build: op("sum_all"), inputs: [[11]] },
  { name: "broadcast", build: op("broadcast", { shape: [7, 5] }), inputs: [[7, 1]] },
  {
    name: "matmul 7x13x5",
    build: op("matmul", { transA: false, transB: false }),
    inputs: [
      [7, 13],
      [13, 5],
    ],
  },
  {
    name: "matmul 1x1x1",
    build: op("matmul", { transA: false, transB: false }),
    inputs: [
      [1, 1],
      [1, 1],
    ],
  },
  {
    name: "matmul A B^T",
    build: op("matmul", { transA: false, transB: true }),
    inputs: [
      [9, 6],
      [11, 6],
    ],
  },
  {
    name: "matmul A^T B split-K",
    build: op("matmul", { transA: true, transB: false }),
    inputs: [
      ["N", 6],
      ["N", 10],
    ],
  },
  {
    name: "matmul A^T B^T",
    build: op("matmul", { transA: true, transB: true }),
    inputs: [
      [6, 9],
      [7, 6],
    ],
  },
  {
    name: "matmul [N, 33] x [33, 17]",
    build: op("matmul", { transA: false, transB: false }),
    inputs: [
      ["N", 33],
      [33, 17],
    ],
  },
  { name: "slice_cols", build: op("slice_cols", { start: 2, len: 3 }), inputs: [[7, 6]] },
  { name: "pad_cols", build: op("pad_cols", { start: 1, total: 6 }), inputs: [[7, 3]] },
  { name: "repeat_cols", build: op("repeat_cols", { times: 3 }), inputs: [[7, 2]] },
  { name: "group_sum", build: op("group_sum", { width: 3 }), inputs: [["N", 12]] },
  {
    name: "concat_cols",
    build: op("concat_cols"),
    inputs: [
      [7, 2],
      [7, 3],
      [7, 1],
    ],
  },
  {
    name: "segment_sum(gather src) (SpMM)",
    build: (b, [x]) => [
      b.op("segment_sum", [b.op("gather", [x], { side: "src", loops: false })], {
        by: "dst",
        loops: false,
      }),
    ],
    inputs: [["N", 5]],
  },
  {
    name: "gcn-normalised sum with self loops",
    build: (b, [x]) => {
      const s = b.unary("rsqrt", b.add(b.op("degree", [], { by: "dst", loops: false }), b.fill(1)));
      const w = b.mul(
        b.op("gather", [s], { side: "src", loops: true }),
        b.op("gather", [s], { side: "dst", loops: true }),
      );
      return [
        b.op("segment_sum", [b.mul(w, b.op("gather", [x], { side: "src", loops: true }))], {
          by: "dst",
          loops: true,
        }),
      ];
    },
    inputs: [["N", 6]],
  },
  {
    name: "segment_sum by source (CSC) with loops",
    build: (b, [x, y]) => [
      b.op(
        "segment_sum",
        [
          b.mul(
            b.op("gather", [x], { side: "dst", loops: true }),
            b.op("gather", [y], { side: "src", loops: true }),
          ),
        ],
        { by: "src", loops: true },
      ),
    ],
    inputs: [
      ["N", 4],
      ["N", 4],
    ],
  },
  {
    name: "segment_max",
    build: (b, [x]) => [
      b.op("segment_max", [b.op("gather", [x], { side: "src", loops: false })], {
        by: "dst",
        loops: false,
      }),
    ],
    inputs: [["N", 5]],
  },
  {
    // CPU drivers compute four columns per invocation when the width allows (Tuning.columnsPerInvocation):
    // these widths take that path, the ones above the one-column path.
    name: "segment_max over 8 columns, nodes without edges take 0",
    build: (b, [x]) => [
      b.op("segment_max", [b.op("gather", [x], { side: "src", loops: false })], {
        by: "dst",
        loops: false,
      }),
    ],
    inputs: [["N", 8]],
  },
  {
    name: "gcn-normalised sum with self loops over 12 columns, by source (CSC)",
    build: (b, [x]) => {
      const s = b.unary("rsqrt", b.add(b.op("degree", [], { by: "src", loops: false }), b.fill(1)));
      const w = b.mul(
        b.op("gather", [s], { side: "src", loops: true }),
        b.op("gather", [s], { side: "dst", loops: true }),
      );
      return [
        b.op("segment_sum", [b.mul(w, b.op("gather", [x], { side: "dst", loops: true }))], {
          by: "src",
          loops: true,
        }),
      ];
    },
    inputs: [["N", 12]],
  },
  {
    name: "edge softmax aggregation (GAT-like)",
    build: (b, [h, el, er]) => {
      const g = (x: any, side: string) => b.op("gather", [x], { side, loops: true });
      const s = b.unary("leaky_relu", b.add(g(el, "src"), g(er, "dst")), { alpha: 0.2 });
      const mx = b.unary("stop_gradient", b.op("segment_max", [s], { by: "dst", loops: true }));
      const ex = b.unary("exp", b.sub(s, g(mx, "dst")));
      const z = b.op("segment_sum", [ex], { by: "dst", loops: true });
      return [
        b.op("segment_sum", [b.mul(b.div(ex, g(z, "dst")), g(h, "src"))], {
          by: "dst",
          loops: true,
        }),
      ];
    },
    inputs: [
      ["N", 4],
      ["N", 1],
      ["N", 1],
    ],
  },
  {
    // Multi-head attention: a score per head [E+N, 3] weighs its own 2 of the message's 6 channels;
    // the per-head dots are group sums, and the backward sums each head's channels per edge.
    name: "multi-head edge softmax aggregation",
    build: (b, [h, a]) => {
      const g = (x: any, side: string) => b.op("gather", [x], { side, loops: true });
      const per = (x: any) => b.op("group_sum", [b.mul(x, a)], { width: 2 });
      const s = b.unary("tanh", b.add(g(per(h), "src"), g(per(b.unary("sigmoid", h)), "dst")));
      const mx = b.unary("stop_gradient", b.op("segment_max", [s], { by: "dst", loops: true }));
      const ex = b.unary("exp", b.sub(s, g(mx, "dst")));
      const z = b.op("segment_sum", [ex], { by: "dst", loops: true });
      const alpha = b.op("repeat_cols", [b.div(ex, g(z, "dst"))], { times: 2 });
      return [b.op("segment_sum", [b.mul(alpha, g(h, "src"))], { by: "dst", loops: true })];
    },
    inputs: [["N", 6], [6]],
  },
  {
    name: "edge row reduction (dot of endpoints)",
    build: (b, [x]) => {
      const d = b.op("row_sum", [
        b.mul(
          b.op("gather", [x], { side: "src", loops: false }),
          b.op("gather", [x], { side: "dst", loops: false }),
        ),
      ]);
      return [
        b.op("segment_sum", [b.mul(d, b.op("gather", [x], { side: "src", loops: false }))], {
          by: "dst",
          loops: false,
        }),
      ];
    },
    inputs: [["N", 3]],
  },
  {
    // GENConv's message with an edge encoder: e @ W per edge inside the CSR kernel, and W's
    // gradient as a column sum over the edges with the message gradient recomputed per edge.
    name: "edge encoder in a message (e @ W, fused)",
    build: (b, [x, e, w]) => {
      const msg = b.unary(
        "relu",
        b.add(
          b.op("gather", [x], { side: "src", loops: false }),
          b.op("row_matmul", [e, w], { transB: false, inner: 3 }),
        ),
      );
      return [b.op("segment_sum", [b.mul(msg, msg)], { by: "dst", loops: false })];
    },
    inputs: [
      ["N", 4],
      ["E", 3],
      [3, 4],
    ],
    constant: [1],
  },
  {
    name: "row_matmul with a transposed weight, on node rows",
    build: (b, [x, w]) => [b.op("row_matmul", [x, w], { transB: true, inner: 5 })],
    inputs: [
      ["N", 5],
      [3, 5],
    ],
  },
  {
    name: "layer norm",
    build: (b, [x, gam, bet]) => {
      const mean = (v: any) => b.scale(b.op("row_sum", [v]), 1 / 6);
      const xc = b.sub(x, mean(x));
      const y = b.mul(b.mul(xc, b.unary("rsqrt", b.add(mean(b.mul(xc, xc)), b.fill(1e-5)))), gam);
      return [b.add(y, bet)];
    },
    inputs: [["N", 6], [6], [6]],
  },
  {
    name: "dropout mask (hash RNG)",
    build: (b, [x, it]) => [
      b.mul(x, b.op("dropout_mask", [it], { p: 0.4, stream: 9, shape: ["N", 5] })),
    ],
    inputs: [["N", 5], []],
  },
  // Map kernels over widths divisible by 4 take the four-columns-per-invocation path on CPU
  // drivers (Tuning.columnsPerInvocation); the cases above, the one-column path.
  {
    name: "dropout mask (hash RNG) over 8 columns",
    build: (b, [x, it]) => [
      b.mul(x, b.op("dropout_mask", [it], { p: 0.4, stream: 9, shape: ["N", 8] })),
    ],
    inputs: [["N", 8], []],
  },
  {
    name: "row and column broadcasts over 8 columns",
    build: (b, [x, r, c]) => [b.mul(b.add(x, r), b.unary("exp", c))],
    inputs: [["N", 8], ["N", 1], [8]],
  },
  {
    name: "concat_cols and slice_cols over 12 columns",
    build: (b, [x, y]) => [
      b.op("concat_cols", [b.op("slice_cols", [x], { start: 4, len: 4 }), y, x]),
    ],
    inputs: [
      ["N", 8],
      ["N", 4],
    ],
  },
  {
    name: "one_hot",
    build: (b, [y]) => [b.op("one_hot", [y], { classes: 4 })],
    inputs: [["N", 1]],
  },
];

function caseGraph(c: Case): Graph {
  const g = newGraph(c.name, c.inputs);
  const b = new Builder(g);
  g.outputs = c.build(b, [...g.inputs]);
  return g;
}

/** The scalar Σ out ⊙ W with random W, so a backward pass has random cotangents. */
function lossGraph(c: Case, g: Graph): Graph {
  const lg = newGraph(`${c.name}_loss`, [...c.inputs, ...g.outputs.map((o) => o.shape)]);
  const b = new Builder(lg);
  const outs = c.build(b, lg.inputs.slice(0, c.inputs.length));
  let total = b.op("sum_all", [b.mul(outs[0]!, lg.inputs[c.inputs.length]!)]);
  outs
    .slice(1)
    .forEach(
      (o, i) =>
        (total = b.add(total, b.op("sum_all", [b.mul(o, lg.inputs[c.inputs.length + 1 + i]!)]))),
    );
  lg.outputs = [total];
  return lg;
}

const graphs: [string, CsrGraph][] = [
  ["37 nodes", randomCsr(37, 90, rng(3))],
  ["one node", { numNodes: 1, dstRowPtr: Uint32Array.from([0, 0]), srcIdx: new Uint32Array(0) }],
];

function inputsFor(
  g: Graph,
  dims: Record<string, number>,
  positive: boolean[] | undefined,
  seed: number,
) {
  const rand = rng(seed);
  return g.inputs.map((v, i) => {
    const shape = evalShape(v.shape, dims);
    if (v.shape.length === 2 && v.shape[1] === 1 && g.name === "one_hot") {
      return tensor(
        shape,
        Array.from({ length: shape[0]! }, (_, k) => (k % 5 === 4 ? -1 : Math.floor(rand() * 4))),
      );
    }
    if (g.name.startsWith("dropout") && v.shape.length === 0) return tensor([], [3]);
    return randomTensor(shape, rand, { positive: positive?.[i], gap: 0.05 });
  });
}

function expectClose(gpu: Float32Array, ref: Float64Array, what: string) {
  expect(gpu.length, what).toBe(ref.length);
  for (let i = 0; i < gpu.length; i++)
    expect(Number.isNaN(gpu[i]!), `${what}: element ${i} is NaN`).toBe(false);
  expect(relativeError(gpu, ref), what).toBeLessThan(1e-4);
}

describe("WGSL kernels agree with the interpreter", () => {
  for (const [gname, csr] of graphs) {
    for (const c of cases) {
      if (gname === "one node" && !c.inputs.some((s) => s.includes("N"))) continue;
      it(`${c.name} on ${gname}: forward and backward`, async () => {
        const dims = { N: csr.numNodes, E: csr.srcIdx.length };
        const view = graphView(csr);
        const g = caseGraph(c);
        const ins = inputsFor(g, dims, c.positive, 11);
        const opts = { dims, graph: view, seed: 7, step: 2 };
        const ref = interpret(g, ins, opts);
        const out = await runOnGpu(g, ins, dims, csr, { seed: 7, step: 2 });
        ref.forEach((r, i) => expectClose(out.outputs[i]!, r.data, `${c.name} forward`));

        const lg = lossGraph(c, g);
        const lins = inputsFor(lg, dims, c.positive, 11);
        const wrt = c.inputs.map((_, i) => i).filter((i) => !c.constant?.includes(i));
        const vg = vjpGraph(lg, wrt);
        const vins = [...lins, tensor([], [1])];
        const vref = interpret(vg, vins, opts);
        const vout = await runOnGpu(vg, vins, dims, csr, { seed: 7, step: 2 });
        vref.forEach((r, i) =>
          expectClose(vout.outputs[i]!, r.data, `${c.name} backward output ${i}`),
        );
      });
    }
  }
});
