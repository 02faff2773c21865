// Exact mode must not silently change the model. In float64 (the interpreter):
//  - the stack's input is kept off the grid: with updates that are exactly zero, the exact model
//    is the float model, even on a grid far coarser than the input (the old scheme rounded the
//    input onto the grid: a 2^-2 grid would have turned 0.01-sized inputs into 0);
//  - with real updates, the exact model's gradients are the float model's up to the rounding of
//    the updates, and the memory-free backward agrees with the stored-activation one;
//  - the range measurement sees the largest state of every block.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { compileFile, expectModel, type CompiledModel } from "../../compiler/compile.js";
import { driftGraph, checkpointFlags } from "../../compiler/drift.js";
import { exactChangeGraph, exactRangeGraph } from "../../compiler/exact.js";
import { evalShape } from "../../compiler/ir/dims.js";
import { graphView, interpret } from "../../compiler/ir/interp.js";
import { relativeError, tensor, type Tensor } from "../../compiler/ir/tensor.js";
import type { Graph } from "../../compiler/ir/types.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import { initParameters } from "../../driver/init.js";
import { bindDims, dataArrays } from "../../driver/session.js";

const set = { L: "3", D: "8", p: "0" };
const compile = (bits?: number): CompiledModel =>
  expectModel(
    compileFile("examples/revgcn.gnn", { set, exact: bits === undefined ? undefined : { bits } }),
  );
const ds = syntheticDataset(40, 90, 6, 3, 5);
// Small features, as row-normalised bag-of-words give: the stack's input is ~1e-2.
ds.features = ds.features.map((v) => v * 0.02);
const float = compile();
const dims = bindDims(float.train.inputs, ds);
const data: Tensor[] = dataArrays(float.train.inputs, ds).map((a, i) =>
  tensor(
    evalShape(
      float.train.inputs[i]!.role === "labels" ? ["N", 1] : float.train.inputs[i]!.shape,
      dims,
    ),
    a,
  ),
);
const params = (zeroBlocks = false): Tensor[] =>
  initParameters(float.train.params, dims, 4).map((a, i) => {
    const p = float.train.params[i]!;
    return tensor(
      evalShape(p.shape, dims),
      zeroBlocks && p.name.startsWith("blocks.") ? a.fill(0) : a,
    );
  });
const run = (g: Graph, inputs: Tensor[]) =>
  interpret(g, inputs, { dims, graph: graphView(ds.graph), seed: 0, step: 1 });

function gradients(m: CompiledModel, p: Tensor[], policy: "store" | "auto"): Tensor[] {
  const g = m.train.graph;
  const lossOnly = { ...g, outputs: [g.outputs[0]!] } as Graph;
  const nd = m.train.inputs.length;
  const vg = vjpGraph(
    lossOnly,
    m.train.params.map((_, i) => nd + i),
    { scanPolicy: policy },
  );
  return run(vg, [...data, ...p, tensor([], [1])]).slice(1);
}

describe("exact mode keeps the stack's input off the grid", () => {
  it("with zero updates the exact model is the float model, even on a 2^-2 grid", () => {
    const p = params(true);
    const want = run(float.eval.graph, [...data, ...p])[1]!;
    for (const bits of [2, 14]) {
      const got = run(compile(bits).eval.graph, [...data, ...p])[1]!;
      expect(relativeError(got.data, want.data), `${bits} bits`).toBeLessThan(1e-12);
    }
    // The change program measures exactly this: zero.
    const [diff, norm] = run(exactChangeGraph(float.eval.graph, compile(2).eval.graph), [
      ...data,
      ...p,
    ]);
    expect(norm!.data[0]).toBeGreaterThan(0);
    expect(diff!.data[0]).toBeLessThan(1e-20);
  });

  it("gradients: rebuilt = stored, and close to float's (only the updates are rounded)", () => {
    const p = params();
    const want = gradients(float, p, "store");
    for (const [bits, tol] of [
      [10, 5e-2],
      [20, 1e-4],
    ] as const) {
      const m = compile(bits);
      const stored = gradients(m, p, "store");
      const rebuilt = gradients(m, p, "auto");
      m.train.params.forEach((q, i) => {
        expect(relativeError(rebuilt[i]!.data, stored[i]!.data), `${bits}: ${q.name}`).toBeLessThan(
          1e-12,
        );
        expect(relativeError(stored[i]!.data, want[i]!.data), `${bits}: ${q.name}`).toBeLessThan(
          tol,
        );
      });
    }
  });

  it("the range program records the largest state after every block", () => {
    const p = params();
    const r = exactRangeGraph(float.train.graph);
    expect(r.scans).toEqual([{ label: "blocks", count: 3 }]);
    const [, byBlock, input] = run(r.graph, [...data, ...p]);
    // The drift program's true inputs of blocks 1 and 2 are the outputs of blocks 0 and 1.
    const d = driftGraph(float.train.graph);
    const largestIn = run(d.graph, [...data, ...p, tensor([3], checkpointFlags(3, undefined))])[4]!;
    expect(input!.data[0]).toBe(largestIn.data[0]);
    expect(byBlock!.data[0]).toBe(largestIn.data[1]);
    expect(byBlock!.data[1]).toBe(largestIn.data[2]);
    expect(byBlock!.data[2]).toBeGreaterThan(0);
  });
});

describe("exact mode and multiplicative updates", () => {
  it("`v *= gamma` under --exact is a located error that says why", () => {
    const r = compileFile("examples/momentum.gnn", { exact: { bits: 14 } });
    expect(r.model).toBeUndefined();
    const d = r.diagnostics[0]!;
    expect(d.message).toContain("`*=` cannot be exact");
    expect(d.message).toContain("2^-14 grid");
    expect(d.span!.file).toBe("examples/momentum.gnn");
    expect(d.span!.line).toBe(7);
    expect(d.hint).toContain("--checkpoint-every");
  });
});
