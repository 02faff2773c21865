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
import { gradcheck, sampleEntries } from "../../compiler/gradcheck/finite-differences.js";
import { rng } from "../../compiler/gradcheck/random.js";
import { asGraphBatch, compileExample, datasetModelCase, labelsGraphs } from "../helpers/model.js";

const examples = readdirSync("examples").filter((f) => f.endsWith(".gnn"));

/**
 * Known failures, kept visible (a fix makes `it.fails` fail, so this list must then shrink): none
 * at present. (revgcnii.gnn was one: rows exactly 0 at one block's output but not at the next were
 * rebuilt with rounding noise; the backward now restores every entry no block has changed yet
 * from the kept input, compiler/inverse/rev-backward.ts, "Anchoring".)
 */
const KNOWN_FAILURES = new Set<string>();

/** Entries of each parameter tensor the finite differences check (all of a smaller one). */
const FD_ENTRIES = 24;

/**
 * The random weights must be a differentiable point with no kink within reach of the five-point
 * stencil (steps ±1e-4, ±2e-4). affine-gat.gnn's attention takes a leaky_relu of every edge
 * score, and at seed 23 one sits at −1.30e-5 (edge 27 of the third block's trunk attention):
 * a_dst[9] of the first attention moved by −3e-5 takes it to +9.7e-6, so the stencil straddles
 * the kink. The derived gradient is right there — central differences with h = 3e-6 agree with
 * it to 7.2e-8 over every parameter (a_dst[9]: −1.08042273e-4 against −1.08042275e-4 at h = 1e-5,
 * −1.1682e-4 at h = 1e-4) — so that model is checked at a seed with no kink in reach.
 */
const RANDOM_SEED: Record<string, number> = { "affine-gat.gnn": 31 };

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
      // Graph-level models see the degenerate graph as a batch of two graphs.
      const data = labelsGraphs(m) ? asGraphBatch(ds) : ds;
      const init = datasetModelCase(m, data, "init");
      const opts = { dims: init.dims, graph: init.graph, seed: 5, step: 3 };
      const ins = [...init.inputs, tensor([], [1])];
      const rev = interpret(vjpGraph(lossOnly, wrt, { scanPolicy: "auto" }), ins, opts);
      const sto = interpret(vjpGraph(lossOnly, wrt, { scanPolicy: "store" }), ins, opts);
      sto.forEach((s, i) => {
        const name = i === 0 ? "loss" : m.params[i - 1]!.name;
        expect(Number.isFinite(relErr(rev[i]!.data, s.data)), name).toBe(true);
        expect(relErr(rev[i]!.data, s.data), `reversible vs stored: ${name}`).toBeLessThan(1e-9);
      });

      const random = datasetModelCase(m, data, { random: RANDOM_SEED[file] ?? 23 });
      const sampleRand = rng(11);
      // A graph-level model sums half the graph (the hub's side) into one row: at these weights a
      // relu argument of the head lies within 1e-4 of its kink, where the default step crosses it
      // (1.7e-3 apart); at 1e-5 the derived gradients agree to 3e-9.
      const fd = gradcheck(
        lossOnly,
        random.inputs,
        wrt,
        { dims: random.dims, graph: random.graph, seed: 5, step: 3 },
        undefined,
        FD_STEP[file] ?? (labelsGraphs(m) ? 1e-5 : undefined),
        // A sample of every parameter tensor: four forward passes an entry made this file the
        // suite's slowest (200 s) when every entry was checked; a wrong rule shows in any sample.
        (_k, size) => sampleEntries(size, FD_ENTRIES, sampleRand),
      );
      expect(fd.maxRelError).toBeLessThan(1e-6);
    });
  }

  // Deep in the stack, rows still exactly 0 after many blocks are restored from the forward's
  // record, not from a tolerance: the rebuild noise grows with depth. With only the first block
  // anchored, group 2's LayerNorm beta was 5.0 % off here (the example's earlier version, with a
  // LayerNorm pre-activation), and snapping differences within 2^10 roundoffs to 0 (enough at
  // L = 16) left it at that.
  it("revgcnii.gnn at L = 32, initial weights: reversible = stored", () => {
    const m = compileExample("revgcnii.gnn", { L: "32", D: "8" }).train;
    const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
    const wrt = m.params.map((_, i) => m.inputs.length + i);
    const init = datasetModelCase(m, ds, "init");
    const opts = { dims: init.dims, graph: init.graph, seed: 5, step: 3 };
    const ins = [...init.inputs, tensor([], [1])];
    const rev = interpret(vjpGraph(lossOnly, wrt, { scanPolicy: "auto" }), ins, opts);
    const sto = interpret(vjpGraph(lossOnly, wrt, { scanPolicy: "store" }), ins, opts);
    sto.forEach((s, i) => {
      const name = i === 0 ? "loss" : m.params[i - 1]!.name;
      expect(relErr(rev[i]!.data, s.data), `reversible vs stored: ${name}`).toBeLessThan(1e-9);
    });
  });
});
