// The loader on miniature copies of the real OGB layouts: ogbn-proteins (edge features, no node
// features, multi-label, split `species`), ogbn-arxiv (signed float features, split `time`).

import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { meanEdgeFeaturesToNodes } from "../../runtime/data/ogb.js";
import { aggregateEdgeFeaturesToNodes } from "../../runtime/data/features.js";
import { validateGraph } from "../../runtime/data/graph.js";
import { loadOgbNodeDataset } from "../../runtime/data/ogb.js";
import { subsetDataset } from "../../runtime/data/subset.js";
import { makeTempDir, removeDir, writeDataset } from "./helpers.js";

const root = makeTempDir();
afterAll(() => removeDir(root));

/** Feature row of the CSR edge u→v. */
function edgeFeat(ds: Awaited<ReturnType<typeof loadOgbNodeDataset>>, u: number, v: number): number[] {
  const g = ds.graph;
  const ef = ds.edgeFeatures!;
  for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++) {
    if (g.srcIdx[k] === u) return Array.from(ef.values.subarray(k * ef.dim, (k + 1) * ef.dim));
  }
  throw new Error(`no edge ${u}->${v}`);
}

describe("ogbn-proteins layout", () => {
  const dir = writeDataset(join(root, "ogbn_proteins"), {
    "raw/num-node-list.csv.gz": "4\n",
    "raw/num-edge-list.csv.gz": "6\n",
    // 0-1 once; 1-2 listed both ways with different features; a self loop; 2-3 twice.
    "raw/edge.csv.gz": "0,1\n1,2\n2,1\n2,3\n3,3\n2,3\n",
    "raw/edge-feat.csv.gz": "0.1,0.2\n0.3,0.4\n0.5,0.6\n0.7,0.8\n0.9,1.0\n9,9\n",
    // Missing targets on the validation and test nodes only: a training node needs them all.
    "raw/node-label.csv.gz": "1,0,1\n0,1,1\n1,,0\n0,1,\n",
    "split/species/train.csv.gz": "0\n1\n",
    "split/species/valid.csv.gz": "2\n",
    "split/species/test.csv.gz": "3\n",
  });

  it("loads edge features in CSR order, first occurrence winning for duplicates", async () => {
    const ds = await loadOgbNodeDataset(dir);
    expect(ds.split.name).toBe("species");
    expect(ds.numFeatures).toBe(0);
    expect(ds.features.length).toBe(0);
    expect(ds.graph.numEdges).toBe(6); // 0-1, 1-2, 2-3 in both directions
    // Merged: 2→1 and 1→2 (reverse copies of rows 2 and 3), and both directions of the second 2-3.
    expect(ds.edgeStats).toMatchObject({ inputEdges: 6, selfLoopsDropped: 1, duplicatesMerged: 4 });
    expect(validateGraph(ds.graph)).toEqual([]);
    expect(ds.edgeFeatures!.dim).toBe(2);
    const close = (a: number[], b: number[]) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 6));
    close(edgeFeat(ds, 0, 1), [0.1, 0.2]);
    close(edgeFeat(ds, 1, 0), [0.1, 0.2]); // the reverse copy carries the row's features
    close(edgeFeat(ds, 1, 2), [0.3, 0.4]); // listed explicitly in each direction: each keeps its own
    close(edgeFeat(ds, 2, 1), [0.5, 0.6]);
    close(edgeFeat(ds, 2, 3), [0.7, 0.8]); // the first 2-3 row, not the later duplicate (9, 9)
    close(edgeFeat(ds, 3, 2), [0.7, 0.8]);
  });

  it("reads multi-label targets with missing entries", async () => {
    const ds = await loadOgbNodeDataset(dir);
    expect(ds.labels.kind).toBe("multi");
    if (ds.labels.kind !== "multi") return;
    expect(ds.labels.numTasks).toBe(3);
    expect(Array.from(ds.labels.y)).toEqual([1, 0, 1, 0, 1, 1, 1, NaN, 0, 0, 1, NaN]);
  });

  it("aggregates edge features into node features", async () => {
    const ds = await loadOgbNodeDataset(dir);
    const x = meanEdgeFeaturesToNodes(ds.graph, ds.edgeFeatures!);
    // Node 2's in-edges: 1→2 (0.3,0.4), 3→2 (0.7,0.8).
    expect(x[4]).toBeCloseTo(0.5, 6);
    expect(x[5]).toBeCloseTo(0.6, 6);
    const sum = aggregateEdgeFeaturesToNodes(ds.graph, ds.edgeFeatures!, "sum");
    expect(sum[4]).toBeCloseTo(1.0, 6);
  });

  it("cuts a dataset down to a node subset with its split, labels and edge features", async () => {
    const ds = await loadOgbNodeDataset(dir);
    const part = subsetDataset(ds, new Uint32Array([3, 2, 0]));
    const sub = part.dataset;
    expect(sub.graph.numNodes).toBe(3);
    expect(sub.graph.numEdges).toBe(2); // only 2-3 survives, both directions
    expect(Array.from(sub.split.train)).toEqual([2]); // parent node 0 is local node 2
    expect(Array.from(sub.split.valid)).toEqual([1]);
    expect(Array.from(sub.split.test)).toEqual([0]);
    if (sub.labels.kind === "multi") expect(Array.from(sub.labels.y.subarray(0, 3))).toEqual([0, 1, NaN]);
    expect(sub.edgeFeatures!.values.length).toBe(4);
    expect(sub.edgeFeatures!.values[0]).toBeCloseTo(0.7, 6);
  });
});

describe("ogbn-arxiv layout", () => {
  const dir = writeDataset(join(root, "ogbn_arxiv"), {
    "raw/num-node-list.csv.gz": "3\n",
    "raw/num-edge-list.csv.gz": "2\n",
    "raw/edge.csv.gz": "0,1\n2,1\n",
    "raw/node-feat.csv.gz": "-0.057943,-0.052530\n0.12,1e-2\n-1.5E+1,3\n",
    "raw/node-label.csv.gz": "4\n\n39\n", // node 1 unlabelled
    "raw/node_year.csv.gz": "2013\n2014\n2015\n", // extra files are ignored
    "split/time/train.csv.gz": "0\n",
    "split/time/valid.csv.gz": "1\n",
    "split/time/test.csv.gz": "2\n",
  });

  it("keeps signed embeddings as they are and reads 40 classes with one unlabelled node", async () => {
    const ds = await loadOgbNodeDataset(dir);
    expect(ds.split.name).toBe("time");
    expect(ds.featureNormalization).toBe("none");
    expect(Array.from(ds.features)).toEqual([-0.057943, -0.05253, 0.12, 0.01, -15, 3].map(Math.fround));
    expect(ds.labels).toEqual({ kind: "single", numClasses: 40, y: new Int32Array([4, -1, 39]) });
    expect(ds.graph.numEdges).toBe(4);
  });
});
