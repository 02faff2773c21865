// Derived gradients on what real data holds (float64 interpreter, no GPU): isolated nodes, empty
// feature rows, duplicate edges, self loops in the input, a hub. Two properties:
//  - at the initial weights (zero biases, LayerNorm beta = 0), where an empty feature row puts a
//    LayerNorm input at a constant and relu's argument exactly on its kink, the memory-free
//    reversible backward gives the stored-activation gradients (it once rebuilt the first block's
//    input with rounding error and took the other side of the kink: b_in 5 % off on Cora);
//  - at random weights (differentiable points), gradients match central differences.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { interpret } from "../../compiler/ir/interp.js";
import { tensor } from "../../compiler/ir/tensor.js";
import { degenerateDataset } from "../../runtime/data/degenerate.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { compileExample, datasetModelCase } from "../helpers/model.js";

const examples = readdirSync("examples").filter((f) => f.endsWith(".gnn"));

/**
 * Known failures, kept visible (a fix makes `it.fails` fail, so this list must then shrink):
 *  - revgcnii.gnn: at the initial weights the reversible backward differs from the stored one on
 *    this graph (group 2's LayerNorm beta, 0.19 relative). Suspected: rows that are exactly
 *    constant at one block's output but not at the next (information spreads one hop per block
 *    from featured nodes; h0 is zero on empty rows) are rebuilt with rounding noise, which
 *    LayerNorm turns into relu' on the other side of its kink — the issue-9 effect beyond the
 *    first block, which anchoring does not cover.
 *  - affine-gat.gnn: central differences disagree at random weights (3.3e-3): not yet analysed
 *    (a kink of the attention's max, or a wrong gradient of the shared trunk on this graph).
 */
const KNOWN_FAILURES = new Set(["revgcnii.gnn", "affine-gat.gnn"]);

/**
 * Finite-difference steps other than gradcheck's 1e-4: in revgen-proteins.gnn at these random
 * weights a message's relu argument lies within 2e-4 of its kink on this graph, so the stencil
 * straddles it (1.8e-5 in a LayerNorm gain); at 1e-5 every gradient agrees to 1e-7.
 */
const FD_STEP: Record<string, number> = { "revgen-proteins.gnn": 1e-5 };

/** Largest |a − b| over a tensor, relative to the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

describe("gradients on degenerate graphs (interpreter)", () => {
  const ds = degenerateDataset("all");

  it("the graph has what it says: isolated nodes, empty rows, merged duplicates and self loops, a hub", () => {
    const g = ds.graph;
    for (const v of ds.isolated) expect(g.dstRowPtr[v + 1]! - g.dstRowPtr[v]!).toBe(0);
    for (const v of ds.emptyRows) {
      expect(
        Array.from(ds.features.subarray(v * ds.numFeatures, (v + 1) * ds.numFeatures)),
      ).toEqual(new Array(ds.numFeatures).fill(0));
    }
    expect(ds.emptyRows.some((v) => !ds.isolated.includes(v))).toBe(true);
    expect(ds.edgeStats!.duplicatesMerged).toBeGreaterThan(0);
    expect(ds.edgeStats!.selfLoopsDropped).toBeGreaterThan(0);
    const hubDegree = g.dstRowPtr[ds.hub! + 1]! - g.dstRowPtr[ds.hub!]!;
    expect(hubDegree).toBeGreaterThan(ds.graph.numNodes / 2);
  });

  for (const file of examples) {
    const test = KNOWN_FAILURES.has(file) ? it.fails : it;
    test(`${file}: at the initial weights, reversible = stored; at random weights, = finite differences`, () => {
      const m = compileExample(file, { L: "3", D: "8" }).train;
      const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
      const wrt = m.params.map((_, i) => m.inputs.length + i);
      const init = datasetModelCase(m, ds, "init");
      const opts = { dims: init.dims, graph: init.graph, seed: 5, step: 3 };
      const ins = [...init.inputs, tensor([], [1])];
      const rev = interpret(vjpGraph(lossOnly, wrt, { scanPolicy: "auto" }), ins, opts);
      const sto = interpret(vjpGraph(lossOnly, wrt, { scanPolicy: "store" }), ins, opts);
      sto.forEach((s, i) => {
        const name = i === 0 ? "loss" : m.params[i - 1]!.name;
        expect(Number.isFinite(relErr(rev[i]!.data, s.data)), name).toBe(true);
        expect(relErr(rev[i]!.data, s.data), `reversible vs stored: ${name}`).toBeLessThan(1e-9);
      });

      const random = datasetModelCase(m, ds, { random: 23 });
      const fd = gradcheck(
        lossOnly,
        random.inputs,
        wrt,
        { dims: random.dims, graph: random.graph, seed: 5, step: 3 },
        undefined,
        FD_STEP[file],
      );
      expect(fd.maxRelError).toBeLessThan(1e-6);
    });
  }
});
