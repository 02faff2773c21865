// A rev_block's model-state outputs on hand-built IR: a statement region may return values after
// its update values (running statistics); the block passes them on after its variables, a loop of
// such blocks stacks them per block and still runs reversibly, the derived inverse ignores them,
// and the memory-free backward gives the stored-activation gradients.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import { maxAbsDiff, tensor } from "../../compiler/ir/tensor.js";
import type { Graph, Value } from "../../compiler/ir/types.js";
import { verifyGraph } from "../../compiler/ir/verify.js";
import { inverseBody, scanStoreReason } from "../../compiler/inverse/rev-backward.js";
import { randomGraphView, randomTensor, rng } from "../../compiler/gradcheck/random.js";

const N = 5;
const d = 3;
const L = 4;

/** g = tanh(x @ W), and the column sums of x (a state's statistic): [g, colsum(x)]. */
function region(): Graph {
  const g = newGraph("stmt", [
    ["N", d],
    [d, d],
  ]);
  const b = new Builder(g);
  const [x, W] = g.inputs as [Value, Value];
  const out = b.unary("tanh", b.op("matmul", [x, W], { transA: false, transB: false }));
  g.outputs = [out, b.unary("stop_gradient", b.op("col_sum", [x]))];
  return g;
}

/** x1 += g(x2; W1) (state: Σ x2), x2 += g(x1; W2) (state: Σ x1), as one loop body. */
function body(): Graph {
  const g = newGraph("block", [
    ["N", d],
    ["N", d],
    [d, d],
    [d, d],
  ]);
  const b = new Builder(g);
  const [x1, x2, W1, W2] = g.inputs as [Value, Value, Value, Value];
  const outs = b.emit(
    "rev_block",
    [x1, x2, W1, W2],
    {
      numVars: 2,
      stmts: [
        { target: 0, combine: "add", reads: [1], states: 1 },
        { target: 1, combine: "add", reads: [0], states: 1 },
      ] as never,
    },
    [withConsts(region(), 0), withConsts(region(), 1)],
  );
  g.outputs = outs;
  return g;
}

/** A statement region over [read, W1, W2] that uses the `which`-th weight. */
function withConsts(r: Graph, which: number): Graph {
  const g = newGraph("stmt", [
    ["N", d],
    [d, d],
    [d, d],
  ]);
  const b = new Builder(g);
  const env = new Map<Value, Value>([
    [r.inputs[0]!, g.inputs[0]!],
    [r.inputs[1]!, g.inputs[1 + which]!],
  ]);
  for (const op of r.ops) {
    const outs = b.emit(
      op.opcode,
      op.inputs.map((v) => env.get(v)!),
      op.attrs,
      op.regions,
    );
    op.outputs.forEach((v, i) => env.set(v, outs[i]!));
  }
  g.outputs = r.outputs.map((v) => env.get(v)!);
  return g;
}

/** The loop: inputs [x1, x2, W1 stacked, W2 stacked]; outputs [x1, x2, states…, loss]. */
function model(): Graph {
  const g = newGraph("m", [
    ["N", d],
    ["N", d],
    [L, d, d],
    [L, d, d],
  ]);
  const b = new Builder(g);
  const ins = g.inputs;
  const outs = b.emit("scan", ins, { count: L, numCarry: 2, numXs: 2, reverse: false }, [body()]);
  const loss = b.op("sum_all", [b.unary("square", b.add(outs[0]!, outs[1]!))]);
  g.outputs = [loss, ...outs];
  return g;
}

describe("rev_block model-state outputs", () => {
  const rand = rng(3);
  const inputs = [
    randomTensor([N, d], rand),
    randomTensor([N, d], rand),
    randomTensor([L, d, d], rand, { scale: 0.5 }),
    randomTensor([L, d, d], rand, { scale: 0.5 }),
  ];
  const opts = { dims: { N }, graph: randomGraphView(N, 10, rand), seed: 1, step: 1 };

  it("the block returns each statement's state after its variables; the loop stacks them", () => {
    const g = model();
    verifyGraph(g);
    const [, x1, x2, s1, s2] = interpret(g, inputs, opts);
    expect(s1!.shape).toEqual([L, d]);
    expect(s2!.shape).toEqual([L, d]);
    // Block 0's first statement reads the loop's input x2: its state is x2's column sums.
    for (let c = 0; c < d; c++) {
      let t = 0;
      for (let v = 0; v < N; v++) t += inputs[1]!.data[v * d + c]!;
      expect(s1!.data[c]).toBeCloseTo(t, 12);
    }
    expect(x1!.shape).toEqual([N, d]);
    expect(x2!.shape).toEqual([N, d]);
  });

  it("a loop whose per-block outputs are states still runs reversibly, and inverts", () => {
    const scan = model().ops.find((op) => op.opcode === "scan")!;
    expect(scanStoreReason(scan)).toBeUndefined();
    const b = scan.regions[0]!;
    const inv = inverseBody(b, 2);
    const rand2 = rng(5);
    const x = [randomTensor([N, d], rand2), randomTensor([N, d], rand2)];
    const w = [randomTensor([d, d], rand2), randomTensor([d, d], rand2)];
    const fwd = interpret(b, [...x, ...w], opts);
    const back = interpret(inv, [fwd[0]!, fwd[1]!, ...w], opts);
    back.forEach((t, i) => expect(maxAbsDiff(t, x[i]!)).toBeLessThan(1e-12));
  });

  it("the memory-free backward gives the stored-activation gradients", () => {
    const g = model();
    const lossOnly = { ...g, outputs: [g.outputs[0]!] } as Graph;
    const ins = [...inputs, tensor([], [1])];
    const rev = interpret(vjpGraph(lossOnly, [0, 1, 2, 3], { scanPolicy: "auto" }), ins, opts);
    const sto = interpret(vjpGraph(lossOnly, [0, 1, 2, 3], { scanPolicy: "store" }), ins, opts);
    rev.forEach((t, i) => expect(maxAbsDiff(t, sto[i]!)).toBeLessThan(1e-10));
  });
});
