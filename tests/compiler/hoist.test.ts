// Loop-invariant hoisting (compiler/hoist.ts): what a scan body derives from the graph alone is
// computed once before the loop, the results are unchanged, and what must stay in the body
// (edge-shaped values, dropout masks, constants) stays.
import { describe, expect, it } from "vitest";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { graphView, interpret } from "../../compiler/ir/interp.js";
import { randomCsr, randomTensor, rng } from "../../compiler/gradcheck/random.js";
import { hoistLoopInvariants } from "../../compiler/hoist.js";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { compileGraphs } from "../../compiler/pipeline.js";
import { expandRevBlocks } from "../../compiler/codegen/expand.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { Graph, type Op, type Value } from "../../compiler/ir/types.js";

/** h [N, 4] through 3 blocks of h + Â (h W_l) with Â's deg^-1/2 written inside the body. */
function gcnLoop(): Graph {
  const g = newGraph("loop", [
    ["N", 4],
    [3, 4, 4],
  ]);
  const [h, W] = g.inputs as [Value, Value];
  const body = newGraph("blocks", [
    ["N", 4],
    [4, 4],
    ["N", 4],
  ]);
  const [hb, Wb, x0] = body.inputs as [Value, Value, Value];
  const b = new Builder(body);
  const s = b.unary("rsqrt", b.add(b.op("degree", [], { by: "dst", loops: false }), b.fill(1)));
  const gather = (v: Value, side: string) => b.op("gather", [v], { side, loops: true });
  const msg = b.mul(
    b.mul(gather(s, "src"), gather(s, "dst")),
    gather(b.op("matmul", [hb, Wb], { transA: false, transB: false }), "src"),
  );
  const agg = b.op("segment_sum", [msg], { by: "dst", loops: true });
  body.outputs = [b.add(b.add(hb, agg), b.mul(x0, b.fill(0.5)))];
  const gb = new Builder(g);
  g.outputs = gb.emit("scan", [h, W, h], { count: 3, numCarry: 1, numXs: 1, reverse: false }, [
    body,
  ]);
  return g;
}

const opcodes = (g: Graph): string[] => g.ops.map((op) => op.opcode);
const scans = (g: Graph): Op[] =>
  g.ops.flatMap((op) =>
    op.opcode === "scan" ? [op, ...op.regions.flatMap(scans)] : op.regions.flatMap(scans),
  );

describe("hoisting loop invariants", () => {
  it("computes deg^-1/2 once before the loop; the edge products stay in the body; same results", () => {
    const g = gcnLoop();
    const h = hoistLoopInvariants(g);
    expect(h).not.toBe(g);
    expect(opcodes(h)).toEqual(["degree", "fill", "add", "rsqrt", "scan"]);
    const [scan] = scans(h);
    const body = scan!.regions[0]!;
    // One more invariant operand (deg^-1/2, [N, 1]) and input; the gathers and the aggregation stay.
    expect(scan!.inputs).toHaveLength(4);
    expect(body.inputs.map((v) => v.shape)).toEqual([
      ["N", 4],
      [4, 4],
      ["N", 4],
      ["N", 1],
    ]);
    expect(opcodes(body)).not.toContain("degree");
    expect(opcodes(body)).not.toContain("rsqrt");
    expect(opcodes(body)).toContain("gather");
    // The constant 0.5 stays a literal inside the body.
    expect(opcodes(body)).toContain("fill");
    const csr = randomCsr(23, 60, rng(5));
    const ins = [randomTensor([23, 4], rng(1)), randomTensor([3, 4, 4], rng(2))];
    const opts = { dims: { N: 23, E: 60 }, graph: graphView(csr) };
    const [want] = interpret(g, ins, opts);
    const [got] = interpret(h, ins, opts);
    expect(Array.from(got!.data)).toEqual(Array.from(want!.data));
  });

  it("a loop with nothing invariant is returned as it is", () => {
    const g = newGraph("plain", [["N", 2]]);
    const body = newGraph("b", [["N", 2]]);
    const bb = new Builder(body);
    body.outputs = [bb.unary("tanh", body.inputs[0]!)];
    g.outputs = new Builder(g).emit(
      "scan",
      [g.inputs[0]!],
      { count: 2, numCarry: 1, numXs: 0, reverse: false },
      [body],
    );
    expect(hoistLoopInvariants(g)).toBe(g);
  });

  it("RevGCN's training step: no scan body computes a degree, dropout masks stay where they are read", () => {
    const model = expectModel(compileFile("examples/revgcn.gnn", { set: { L: "2", D: "8" } }));
    const { stepGraph } = compileGraphs(model, {
      optimizer: defaultOptimizer("adam", 0),
      storeActivations: false,
      target: {},
    });
    const expanded = expandRevBlocks(stepGraph.graph);
    const before = scans(expanded);
    expect(before.some((s) => opcodes(s.regions[0]!).includes("degree"))).toBe(true);
    const hoisted = hoistLoopInvariants(expanded);
    const after = scans(hoisted);
    expect(after).toHaveLength(before.length);
    for (const s of after) {
      expect(opcodes(s.regions[0]!)).not.toContain("degree");
      expect(opcodes(s.regions[0]!)).toContain("dropout_mask");
    }
    expect(opcodes(hoisted).filter((o) => o === "degree").length).toBeGreaterThan(0);
  });
});
