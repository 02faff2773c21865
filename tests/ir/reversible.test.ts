// Derived inverses and the memory-free backward of reversible loops, on hand-built IR:
//  - inverse(forward(x)) = x to 1e-12 in float64, for additive and affine couplings;
//  - the reversible backward (rebuild, recompute locally, VJP) equals stored-activation autodiff
//    to 1e-10, and both match finite differences;
//  - random coupling programs.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import type { Combine } from "../../compiler/ir/ops/control.js";
import { maxAbsDiff, tensor, type Tensor } from "../../compiler/ir/tensor.js";
import { Graph, type Value } from "../../compiler/ir/types.js";
import { verifyGraph } from "../../compiler/ir/verify.js";
import {
  carryPathError,
  countingBody,
  inverseBody,
  inverseRevBlock,
} from "../../compiler/inverse/rev-backward.js";
import { countOps } from "../../compiler/ir/print.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { randomGraphView, randomTensor, rng } from "../../compiler/gradcheck/random.js";

const N = 6;
const dims = { N, E: 12 };

/** g(x, W, iter) = aggregate_sum(gather(tanh(x @ W) ⊙ dropout)) — a small GCN-like function. */
function groupFunction(d: number, withDropout: boolean): Graph {
  const g = newGraph("f", [["N", d], [d, d], []]);
  const b = new Builder(g);
  const [x, W, iter] = g.inputs as [Value, Value, Value];
  let h = b.unary("tanh", b.op("matmul", [x, W], { transA: false, transB: false }));
  if (withDropout)
    h = b.mul(h, b.op("dropout_mask", [iter], { p: 0.3, stream: 7, shape: ["N", d] }));
  const agg = b.op("segment_sum", [b.op("gather", [h], { side: "src", loops: true })], {
    by: "dst",
    loops: true,
  });
  g.outputs = [b.add(agg, b.scale(x, 0.1))];
  return g;
}

/** A statement region reading `reads` variables with the block's consts [W…, iter]. */
function stmtRegion(
  d: number,
  numReads: number,
  numW: number,
  wIndex: number,
  positive: boolean,
): Graph {
  const shapes = [
    ...Array.from({ length: numReads }, () => ["N", d]),
    ...Array.from({ length: numW }, () => [d, d]),
    [],
  ];
  const g = newGraph("stmt", shapes as never);
  const b = new Builder(g);
  let input = g.inputs[0]!;
  for (let i = 1; i < numReads; i++) input = b.add(input, g.inputs[i]!); // the ancilla x'_0 = Σ x_i
  const f = groupFunction(d, true);
  const W = g.inputs[numReads + wIndex]!;
  const iter = g.inputs[g.inputs.length - 1]!;
  const env = new Map<Value, Value>([
    [f.inputs[0]!, input],
    [f.inputs[1]!, W],
    [f.inputs[2]!, iter],
  ]);
  for (const op of f.ops) {
    const outs = b.emit(
      op.opcode,
      op.inputs.map((v) => env.get(v)!),
      op.attrs,
      op.regions,
    );
    op.outputs.forEach((v, i) => env.set(v, outs[i]!));
  }
  let out = env.get(f.outputs[0]!)!;
  if (positive) out = b.unary("exp", b.scale(b.unary("tanh", out), 0.5)); // a nonzero multiplier
  g.outputs = [out];
  return g;
}

interface Stmt {
  target: number;
  combine: Combine;
  reads: number[];
}

/**
 * repeat L { split h into C groups; rev_block(statements); concat }.
 * Inputs: h [N, C·d], one stacked [L, d, d] weight per statement, iota [L]; output Σ h_L ⊙ R.
 */
function reversibleStack(
  L: number,
  C: number,
  d: number,
  stmts: Stmt[],
  /** Scale the first weight inside the body: an op on weights alone, next to direct weight reads. */
  weightOp = false,
): Graph {
  const numW = stmts.length;
  const body = newGraph("block", [
    ["N", C * d],
    ...Array.from({ length: numW }, () => [d, d]),
    [],
  ] as never);
  const bb = new Builder(body);
  const [h, ...rest] = body.inputs;
  const ws = rest.slice(0, numW);
  const iter = rest[numW]!;
  const parts = Array.from({ length: C }, (_, i) =>
    bb.op("slice_cols", [h!], { start: i * d, len: d }),
  );
  const regions = stmts.map((s, k) =>
    stmtRegion(d, s.reads.length, numW, k, s.combine === "mul" || s.combine === "div"),
  );
  const consts = weightOp ? [bb.scale(ws[0]!, 1.5), ...ws.slice(1)] : ws;
  const post = bb.emit(
    "rev_block",
    [...parts, ...consts, iter],
    { numVars: C, stmts: stmts as never },
    regions,
  );
  body.outputs = [bb.op("concat_cols", post)];

  const g = newGraph("stack", [
    ["N", C * d],
    ...Array.from({ length: numW }, () => [L, d, d]),
    ["N", C * d],
  ] as never);
  const b = new Builder(g);
  const iota = b.op("iota", [], { count: L });
  const [hL] = b.emit(
    "scan",
    [g.inputs[0]!, ...g.inputs.slice(1, 1 + numW), iota],
    { count: L, numCarry: 1, numXs: numW + 1, reverse: false },
    [body],
  );
  g.outputs = [b.op("sum_all", [b.mul(hL!, g.inputs[1 + numW]!)])];
  return g;
}

const paperCoupling = (C: number): Stmt[] =>
  Array.from({ length: C }, (_, i) => ({
    target: i,
    combine: "add" as Combine,
    reads: i === 0 ? Array.from({ length: C - 1 }, (_, k) => k + 1) : [i - 1],
  }));

function inputsFor(g: Graph, rand: () => number): Tensor[] {
  return g.inputs.map((v) =>
    randomTensor(
      v.shape.map((x) => (typeof x === "number" ? x : (dims as Record<string, number>)[x]!)),
      rand,
      { scale: 0.8 },
    ),
  );
}

function forwardThenInverse(g: Graph, inputs: Tensor[], L: number) {
  const scan = g.ops.find((o) => o.opcode === "scan")!;
  const body = scan.regions[0]!;
  const inv = inverseBody(body, 1);
  verifyGraph(inv);
  const graph = randomGraphView(N, dims.E, rng(5));
  const opts = { dims, graph, seed: 3, step: 11 };
  // Run the forward loop by hand to keep every state, then walk back with the derived inverse.
  const states = [inputs[0]!];
  const slice = (t: Tensor, i: number) => {
    const inner = t.shape.slice(1);
    const size = inner.reduce((a, b) => a * b, 1);
    return { shape: inner, data: t.data.slice(i * size, (i + 1) * size) };
  };
  const ws = inputs.slice(1, inputs.length - 1);
  for (let l = 0; l < L; l++) {
    const [next] = interpret(
      body,
      [states[l]!, ...ws.map((w) => slice(w, l)), tensor([], [l])],
      opts,
    );
    states.push(next!);
  }
  let h = states[L]!;
  let worst = 0;
  for (let l = L - 1; l >= 0; l--) {
    [h] = interpret(inv, [h, ...ws.map((w) => slice(w, l)), tensor([], [l])], opts) as [Tensor];
    worst = Math.max(worst, maxAbsDiff(h, states[l]!));
  }
  return worst;
}

describe("derived inverses", () => {
  it("the paper's grouped coupling (C = 2, 3, 4) is rebuilt to 1e-12", () => {
    for (const C of [2, 3, 4]) {
      const g = reversibleStack(5, C, 3, paperCoupling(C));
      verifyGraph(g);
      expect(forwardThenInverse(g, inputsFor(g, rng(C)), 5)).toBeLessThan(1e-12);
    }
  });

  it("an affine coupling (x2 += f(x1); x1 *= exp(s(x2)); x1 += t(x2)) is rebuilt to 1e-12", () => {
    const stmts: Stmt[] = [
      { target: 1, combine: "add", reads: [0] },
      { target: 0, combine: "mul", reads: [1] },
      { target: 0, combine: "add", reads: [1] },
    ];
    const g = reversibleStack(4, 2, 3, stmts);
    expect(forwardThenInverse(g, inputsFor(g, rng(9)), 4)).toBeLessThan(1e-12);
  });

  it("random coupling programs are rebuilt to 1e-12", () => {
    const rand = rng(2024);
    const combines: Combine[] = ["add", "sub", "mul", "div"];
    for (let trial = 0; trial < 12; trial++) {
      const C = 2 + Math.floor(rand() * 3);
      const numStmts = 1 + Math.floor(rand() * 5);
      const stmts: Stmt[] = [];
      for (let k = 0; k < numStmts; k++) {
        const target = Math.floor(rand() * C);
        const others = Array.from({ length: C }, (_, i) => i).filter((i) => i !== target);
        const reads = others.filter(() => rand() < 0.6);
        if (reads.length === 0) reads.push(others[0]!);
        stmts.push({ target, combine: combines[Math.floor(rand() * 4)]!, reads });
      }
      const g = reversibleStack(3, C, 2, stmts);
      verifyGraph(g);
      expect(forwardThenInverse(g, inputsFor(g, rng(trial + 100)), 3)).toBeLessThan(1e-12);
    }
  });

  it("a residual body h + f(h) is reported as not invertible", () => {
    const body = newGraph("res", [["N", 3], [3, 3], []]);
    const b = new Builder(body);
    body.outputs = [
      b.add(
        body.inputs[0]!,
        b.op("matmul", [body.inputs[0]!, body.inputs[1]!], { transA: false, transB: false }),
      ),
    ];
    expect(carryPathError(body, 1)).toMatch(/`matmul`, which is not an invertible update/);
  });
});

describe("memory-free backward of a reversible stack", () => {
  for (const [name, stmts] of [
    ["grouped coupling C=2", paperCoupling(2)],
    ["grouped coupling C=3", paperCoupling(3)],
    [
      "affine coupling",
      [
        { target: 1, combine: "add", reads: [0] },
        { target: 0, combine: "mul", reads: [1] },
        { target: 0, combine: "sub", reads: [1] },
      ],
    ],
  ] as [string, Stmt[]][]) {
    it(`${name}: rebuilt-activation gradients equal stored-activation gradients to 1e-10`, () => {
      const C = Math.max(...stmts.map((s) => s.target)) + 1;
      const L = 6;
      const g = reversibleStack(L, C, 2, stmts);
      const inputs = inputsFor(g, rng(77 + C));
      const graph = randomGraphView(N, dims.E, rng(5));
      const opts = { dims, graph, seed: 1, step: 2 };
      const wrt = g.inputs.slice(0, -1).map((_, i) => i);
      const rev = vjpGraph(g, wrt, { scanPolicy: "auto" });
      const sto = vjpGraph(g, wrt, { scanPolicy: "store" });
      verifyGraph(rev);
      verifyGraph(sto);
      // The reversible backward stores nothing per iteration: every output of its forward scan is
      // a carried value ([N, d]: the state, and the count of blocks that left each entry as it
      // was), none a per-iteration stack; the stored one's has stacks.
      const fwdScans = (x: Graph) => x.ops.filter((o) => o.opcode === "scan" && !o.attrs.reverse);
      const revScan = fwdScans(rev)[0]!;
      expect(revScan.outputs.length).toBe(revScan.attrs.numCarry);
      const state = revScan.inputs[0]!.shape;
      expect(revScan.outputs.map((v) => v.shape)).toEqual([state, state]);
      expect(fwdScans(sto)[0]!.outputs.length).toBeGreaterThan(fwdScans(sto)[0]!.attrs.numCarry);
      const seed = tensor([], [1]);
      const a = interpret(rev, [...inputs, seed], opts);
      const s = interpret(sto, [...inputs, seed], opts);
      for (let i = 0; i < a.length; i++) {
        expect(maxAbsDiff(a[i]!, s[i]!)).toBeLessThan(1e-10);
      }
      const fd = gradcheck(g, inputs, [0, 1], opts);
      expect(fd.maxRelError).toBeLessThan(1e-6);
    });
  }

  // Regression: a body op on weights alone (here 1.5·W₁) made the walk return the cotangent of
  // every weight the block also reads directly twice (once as the body's input, once through the
  // weight-only prefix's backward): W₂'s gradient came out exactly ×2.
  it("a loop body computing on weights alone: rebuilt gradients = stored gradients", () => {
    const L = 4;
    const g = reversibleStack(L, 2, 2, paperCoupling(2), true);
    const inputs = inputsFor(g, rng(31));
    const opts = { dims, graph: randomGraphView(N, dims.E, rng(5)), seed: 1, step: 2 };
    const wrt = g.inputs.slice(0, -1).map((_, i) => i);
    const seed = tensor([], [1]);
    const a = interpret(vjpGraph(g, wrt, { scanPolicy: "auto" }), [...inputs, seed], opts);
    const s = interpret(vjpGraph(g, wrt, { scanPolicy: "store" }), [...inputs, seed], opts);
    for (let i = 0; i < a.length; i++) expect(maxAbsDiff(a[i]!, s[i]!)).toBeLessThan(1e-10);
    expect(gradcheck(g, inputs, wrt, opts).maxRelError).toBeLessThan(1e-6);
  });

  it("the backward evaluates each statement function once per block (one matmul forward)", () => {
    const g = reversibleStack(4, 2, 2, paperCoupling(2));
    const rev = vjpGraph(g, [0, 1, 2], { scanPolicy: "auto" });
    const bwd = rev.ops.find((o) => o.opcode === "scan" && o.attrs.reverse)!;
    const counts = countOps(bwd.regions[0]!);
    // Two statements: per statement one forward x@W (rebuild + VJP share it) and two for its VJP.
    expect(counts.get("matmul")).toBe(2 * 3);
    expect(counts.get("tanh")).toBe(2);
  });
});

describe("the forward's count of unchanged entries (what the backward restores exactly)", () => {
  // x ← x + relu(x + a_k) over a = (1, 2, 4): entry (1, 0) changes in iteration 0, (0, 1) in 1,
  // (0, 0) and (1, 1) in 2, and the third column never (x + a_k < 0 throughout).
  it("counts, per entry, the leading iterations that left it at the loop's input", () => {
    const body = newGraph("body", [[2, 3], []]);
    const bb = new Builder(body);
    const [x, a] = body.inputs as [Value, Value];
    body.outputs = [bb.add(x, bb.unary("relu", bb.add(x, a)))];
    const g = newGraph("loop", [[2, 3], [3]]);
    const b = new Builder(g);
    const [x0, as] = g.inputs as [Value, Value];
    const index = b.op("iota", [], { count: 3 });
    const [, counts] = b.emit(
      "scan",
      [x0, b.zerosLike(x0.shape), as, index, x0],
      { count: 3, numCarry: 2, numXs: 2 },
      [countingBody(body, 1, 1)],
    );
    g.outputs = [counts!];
    verifyGraph(g);
    const [got] = interpret(
      g,
      [tensor([2, 3], [-3, -1, -10, 0, -2, -10]), tensor([3], [1, 2, 4])],
      { dims },
    );
    expect(Array.from(got!.data)).toEqual([2, 1, 3, 0, 2, 3]);
  });
});

describe("compound statements (a `let` shared by several updates)", () => {
  /** x2 *= exp(tanh(t)); x2 += t with t = tanh(x1 W) computed once; then x1 += tanh(x2). */
  function compoundBlock(d: number) {
    const g = newGraph("block", [
      ["N", d],
      ["N", d],
      [d, d],
    ]);
    const b = new Builder(g);
    const [x1, x2, W] = g.inputs as [Value, Value, Value];
    const trunk = newGraph("stmt1", [
      ["N", d],
      [d, d],
    ]);
    const tb = new Builder(trunk);
    const t = tb.unary(
      "tanh",
      tb.op("matmul", [trunk.inputs[0]!, trunk.inputs[1]!], { transA: false, transB: false }),
    );
    trunk.outputs = [tb.unary("exp", tb.unary("tanh", t)), t];
    const second = newGraph("stmt2", [
      ["N", d],
      [d, d],
    ]);
    second.outputs = [new Builder(second).unary("tanh", second.inputs[0]!)];
    const outs = b.emit(
      "rev_block",
      [x1, x2, W],
      {
        numVars: 2,
        stmts: [
          { target: 1, combine: "mul", reads: [0], then: [{ target: 1, combine: "add" }] },
          { target: 0, combine: "add", reads: [1] },
        ] as never,
      },
      [trunk, second],
    );
    g.outputs = outs;
    return g;
  }

  it("forward = the updates in order, and the derived inverse rebuilds the inputs (1e-12)", () => {
    const d = 3;
    const g = compoundBlock(d);
    verifyGraph(g);
    const r = rng(17);
    const ins = [randomTensor([N, d], r), randomTensor([N, d], r), randomTensor([d, d], r)];
    const opts = { dims, graph: randomGraphView(N, dims.E, rng(5)), seed: 1, step: 1 };
    const [y1, y2] = interpret(g, ins, opts);
    // By hand: t = tanh(x1 W); x2' = x2 · exp(tanh t) + t; x1' = x1 + tanh(x2').
    const [x1, x2, W] = ins as [Tensor, Tensor, Tensor];
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += x1.data[i * d + k]! * W.data[k * d + j]!;
        const t = Math.tanh(s);
        const want2 = x2.data[i * d + j]! * Math.exp(Math.tanh(t)) + t;
        expect(Math.abs(y2!.data[i * d + j]! - want2)).toBeLessThan(1e-12);
        const want1 = x1.data[i * d + j]! + Math.tanh(want2);
        expect(Math.abs(y1!.data[i * d + j]! - want1)).toBeLessThan(1e-12);
      }
    }
    const op = g.ops.find((o) => o.opcode === "rev_block")!;
    const inv = inverseRevBlock(op);
    verifyGraph(inv);
    // The shared trunk is evaluated once in the inverse, for both updates it feeds.
    expect(countOps(inv).get("matmul")).toBe(1);
    const [r1, r2] = interpret(inv, [y1!, y2!, W], opts);
    expect(maxAbsDiff(r1!, x1)).toBeLessThan(1e-12);
    expect(maxAbsDiff(r2!, x2)).toBeLessThan(1e-12);
  });
});
