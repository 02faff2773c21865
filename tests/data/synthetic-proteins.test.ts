// The proteins-shaped synthetic dataset: ogbn-proteins' shapes (8 edge features in CSR order, the
// same for both directions of an edge; 112 binary tasks; node features the mean of in-edge
// features), reproducible from its seed, and labels a graph model can learn: they depend on the
// neighbourhood, which a node's own aggregated edge features only partly reveal.
import { describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/errors.js";
import { meanEdgeFeaturesToNodes } from "../../runtime/data/features.js";
import { validateGraph } from "../../runtime/data/graph.js";
import { loadDataset } from "../../runtime/data/load.js";
import {
  isProteinsSpec,
  parseProteinsSpec,
  syntheticProteins,
} from "../../runtime/data/synthetic-proteins.js";
import { rocAuc } from "../../runtime/metrics.js";
import type { Dataset } from "../../runtime/data/types.js";

function edgeRow(ds: Dataset, u: number, v: number): number[] {
  const g = ds.graph;
  const ef = ds.edgeFeatures!;
  for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++)
    if (g.srcIdx[k] === u) return Array.from(ef.values.subarray(k * ef.dim, (k + 1) * ef.dim));
  throw new Error(`no edge ${u}->${v}`);
}

function multi(ds: Dataset): Float32Array {
  if (ds.labels.kind !== "multi") throw new Error("expected multi-label");
  return ds.labels.y;
}

/**
 * Test ROC-AUC of least-squares linear scores on given per-node inputs [N, f], fitted on the
 * training nodes, task by task (a per-node model, without message passing).
 */
function linearAuc(ds: Dataset, x: Float64Array, f: number): number {
  const n = ds.graph.numNodes;
  const T = 112;
  const y = multi(ds);
  const dim = f + 1;
  const row = (v: number) => [...Array.from(x.subarray(v * f, (v + 1) * f)), 1];
  const xtx = Array.from({ length: dim }, () => new Float64Array(dim));
  for (const v of ds.split.train) {
    const r = row(v);
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) xtx[a]![b]! += r[a]! * r[b]!;
  }
  for (let a = 0; a < dim; a++) xtx[a]![a]! += 1e-3;
  const scores = new Float32Array(n * T);
  for (let t = 0; t < T; t++) {
    const xty = new Float64Array(dim);
    for (const v of ds.split.train) {
      const r = row(v);
      for (let a = 0; a < dim; a++) xty[a]! += r[a]! * y[v * T + t]!;
    }
    const w = solve(xtx.map((r) => Float64Array.from(r)), xty);
    for (let v = 0; v < n; v++) {
      const r = row(v);
      let s = 0;
      for (let a = 0; a < dim; a++) s += w[a]! * r[a]!;
      scores[v * T + t] = s;
    }
  }
  return rocAuc(scores, y, T, ds.split.test).mean;
}

/** Gaussian elimination with partial pivoting (small dense systems). */
function solve(a: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    [b[c], b[p]] = [b[p]!, b[c]!];
    for (let r = c + 1; r < n; r++) {
      const m = a[r]![c]! / a[c]![c]!;
      for (let k = c; k < n; k++) a[r]![k]! -= m * a[c]![k]!;
      b[r]! -= m * b[c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

describe("synthetic:proteins", () => {
  const ds = syntheticProteins(3000, 30000, 2);

  it("has ogbn-proteins' shapes: 8 edge features per directed edge, 112 tasks, a valid graph", () => {
    expect(validateGraph(ds.graph)).toEqual([]);
    expect(ds.graph.numEdges).toBe(60000);
    expect(ds.edgeFeatures!.dim).toBe(8);
    expect(ds.edgeFeatures!.values.length).toBe(60000 * 8);
    expect(ds.labels).toMatchObject({ kind: "multi", numTasks: 112 });
    expect(multi(ds).length).toBe(3000 * 112);
    expect(multi(ds).every((v) => v === 0 || v === 1)).toBe(true);
    const sizes = [ds.split.train.length, ds.split.valid.length, ds.split.test.length];
    expect(sizes.reduce((a, b) => a + b)).toBe(3000);
    expect(sizes[0]).toBe(1950);
  });

  it("edge features are scores in [0, 1], mostly sparse, the same in both directions", () => {
    const v = ds.edgeFeatures!.values;
    expect(v.every((x) => x >= 0 && x <= 1)).toBe(true);
    const zeros = v.filter((x) => x === 0).length / v.length;
    expect(zeros).toBeGreaterThan(0.3);
    expect(zeros).toBeLessThan(0.5);
    const u = ds.graph.srcIdx[0]!;
    let w = 0;
    while (ds.graph.dstRowPtr[w + 1]! === 0) w++;
    expect(edgeRow(ds, u, w)).toEqual(edgeRow(ds, w, u));
  });

  it("node features are the mean of each node's in-edge features", () => {
    expect(ds.numFeatures).toBe(8);
    expect(Array.from(ds.features)).toEqual(
      Array.from(meanEdgeFeaturesToNodes(ds.graph, ds.edgeFeatures!)),
    );
  });

  it("every task has positives and negatives, between 5 % and 45 % positive", () => {
    const y = multi(ds);
    for (let t = 0; t < 112; t++) {
      let pos = 0;
      for (let v = 0; v < 3000; v++) pos += y[v * 112 + t]!;
      expect(pos / 3000).toBeGreaterThan(0.04);
      expect(pos / 3000).toBeLessThan(0.46);
    }
  });

  it("labels are learnable, and better from the neighbourhood than from a node's own features", () => {
    const x = Float64Array.from(ds.features);
    const own = linearAuc(ds, x, 8);
    // One round of neighbour averaging of those features: what one message-passing layer adds.
    const g = ds.graph;
    const both = new Float64Array(3000 * 16);
    for (let v = 0; v < 3000; v++) {
      const a = g.dstRowPtr[v]!;
      const b = g.dstRowPtr[v + 1]!;
      for (let j = 0; j < 8; j++) both[v * 16 + j] = x[v * 8 + j]!;
      for (let k = a; k < b; k++)
        for (let j = 0; j < 8; j++) both[v * 16 + 8 + j]! += x[g.srcIdx[k]! * 8 + j]! / (b - a);
    }
    const withNeighbours = linearAuc(ds, both, 16);
    expect(own).toBeGreaterThan(0.6);
    expect(withNeighbours).toBeGreaterThan(own + 0.01);
  });

  it("is reproducible from its seed and differs between seeds", () => {
    const again = syntheticProteins(3000, 30000, 2);
    expect(Array.from(again.edgeFeatures!.values.subarray(0, 64))).toEqual(
      Array.from(ds.edgeFeatures!.values.subarray(0, 64)),
    );
    expect(Array.from(multi(again).subarray(0, 500))).toEqual(Array.from(multi(ds).subarray(0, 500)));
    const other = syntheticProteins(3000, 30000, 3);
    expect(Array.from(multi(other).subarray(0, 500))).not.toEqual(Array.from(multi(ds).subarray(0, 500)));
  });

  it("is named synthetic:proteins[:N:E[:seed]] and loads through --data", async () => {
    expect(isProteinsSpec("synthetic:proteins")).toBe(true);
    expect(isProteinsSpec("synthetic:100:200:8:3")).toBe(false);
    expect(parseProteinsSpec("synthetic:proteins")).toEqual({ numNodes: 2000, numEdges: 20000, seed: 0 });
    expect(parseProteinsSpec("synthetic:proteins:50:100:7")).toEqual({ numNodes: 50, numEdges: 100, seed: 7 });
    expect(() => parseProteinsSpec("synthetic:proteins:50")).toThrow(DataError);
    expect(() => parseProteinsSpec("synthetic:proteins:50:x")).toThrow(/E = `x`/);
    expect(() => syntheticProteins(10, 100, 0)).toThrow(/do not fit/);
    const loaded = await loadDataset("synthetic:proteins:200:800:1");
    expect(loaded.source).toBe("synthetic:proteins:200:800:1");
    expect(loaded.edgeFeatures!.dim).toBe(8);
  });
});
