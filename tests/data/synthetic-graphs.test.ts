// The synthetic graph-classification batch: deterministic from its seed, graphs contiguous and
// disjoint, and labels that are a function of structure only (class 0 trees, class 1 rings).
import { describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/errors.js";
import { loadDataset } from "../../runtime/data/load.js";
import { syntheticGraphs } from "../../runtime/data/synthetic-graphs.js";

describe("synthetic-graphs", () => {
  const ds = syntheticGraphs(50, 4);
  const ptr = ds.graph.graphPtr!;

  it("is deterministic from the seed and differs between seeds", () => {
    const again = syntheticGraphs(50, 4);
    expect([...again.graph.srcIdx]).toEqual([...ds.graph.srcIdx]);
    expect([...again.features]).toEqual([...ds.features]);
    expect([...syntheticGraphs(50, 5).graph.srcIdx]).not.toEqual([...ds.graph.srcIdx]);
  });

  it("holds 50 graphs of contiguous nodes with no edge between two graphs", () => {
    expect(ptr.length).toBe(51);
    expect(ptr[50]).toBe(ds.graph.numNodes);
    const graphOf = new Int32Array(ds.graph.numNodes);
    for (let g = 0; g < 50; g++) graphOf.fill(g, ptr[g]!, ptr[g + 1]!);
    for (let v = 0; v < ds.graph.numNodes; v++) {
      for (let k = ds.graph.dstRowPtr[v]!; k < ds.graph.dstRowPtr[v + 1]!; k++) {
        expect(graphOf[ds.graph.srcIdx[k]!]).toBe(graphOf[v]);
      }
    }
  });

  it("labels trees 0 and graphs with a cycle 1 (|E| = |V| − 1 exactly for the trees)", () => {
    expect(ds.targets).toBe("graphs");
    const y = ds.labels.kind === "single" ? ds.labels.y : new Int32Array(0);
    expect(y.length).toBe(50);
    for (let g = 0; g < 50; g++) {
      const nodes = ptr[g + 1]! - ptr[g]!;
      // Directed edges after symmetrisation: twice the undirected ones.
      const edges = (ds.graph.dstRowPtr[ptr[g + 1]!]! - ds.graph.dstRowPtr[ptr[g]!]!) / 2;
      expect(edges === nodes - 1, `graph ${g}`).toBe(y[g] === 0);
    }
    expect(new Set(y)).toEqual(new Set([0, 1]));
  });

  it("splits the graphs (not the nodes) into disjoint train/valid/test sets", () => {
    const all = [...ds.split.train, ...ds.split.valid, ...ds.split.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("is loaded from its spec, and a bad spec is refused", async () => {
    const loaded = await loadDataset("synthetic-graphs:50:4");
    expect([...loaded.graph.srcIdx]).toEqual([...ds.graph.srcIdx]);
    await expect(loadDataset("synthetic-graphs:1")).rejects.toThrow(DataError);
    await expect(loadDataset("synthetic-graphs:x")).rejects.toThrow(/synthetic-graphs:G/);
  });
});
