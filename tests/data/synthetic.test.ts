import { describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/errors.js";
import { validateGraph } from "../../runtime/data/graph.js";
import { loadDataset } from "../../runtime/data/load.js";
import { parseSyntheticSpec, syntheticDataset } from "../../runtime/data/synthetic.js";
import type { Dataset } from "../../runtime/data/types.js";

function labelsOf(ds: Dataset): Int32Array {
  if (ds.labels.kind !== "single") throw new Error("expected single-label");
  return ds.labels.y;
}

/** Nearest-centroid accuracy on the test split, centroids estimated on the train split. */
function nearestCentroidAccuracy(x: Float32Array, f: number, y: Int32Array, k: number, ds: Dataset): number {
  const c = new Float64Array(k * f);
  const cnt = new Float64Array(k);
  for (const i of ds.split.train) {
    cnt[y[i]!]!++;
    for (let j = 0; j < f; j++) c[y[i]! * f + j]! += x[i * f + j]!;
  }
  for (let a = 0; a < k; a++) for (let j = 0; j < f; j++) c[a * f + j]! /= Math.max(1, cnt[a]!);
  let ok = 0;
  for (const i of ds.split.test) {
    let best = -1;
    let bestD = Infinity;
    for (let a = 0; a < k; a++) {
      let d = 0;
      for (let j = 0; j < f; j++) d += (x[i * f + j]! - c[a * f + j]!) ** 2;
      if (d < bestD) [bestD, best] = [d, a];
    }
    if (best === y[i]) ok++;
  }
  return ok / ds.split.test.length;
}

describe("syntheticDataset", () => {
  const ds = syntheticDataset(20000, 100000, 16, 8, 1);

  it("has exactly 2E directed edges, a valid graph and the requested shapes", () => {
    expect(ds.graph.numNodes).toBe(20000);
    expect(ds.graph.numEdges).toBe(200000);
    expect(ds.edgeStats).toEqual({ inputEdges: 100000, selfLoopsDropped: 0, duplicatesMerged: 0, symmetrized: true });
    expect(validateGraph(ds.graph)).toEqual([]);
    expect(ds.numFeatures).toBe(16);
    expect(ds.features.length).toBe(20000 * 16);
    expect(ds.labels).toMatchObject({ kind: "single", numClasses: 8 });
    expect(ds.source).toBe("synthetic:20000:100000:16:8:1");
  });

  it("has a heavy-tailed degree distribution", () => {
    const deg = Array.from(ds.graph.inDegree).sort((a, b) => b - a);
    const mean = ds.graph.numEdges / ds.graph.numNodes; // 10
    expect(deg[0]!).toBeGreaterThan(20 * mean);
    const top1 = deg.slice(0, 200).reduce((a, b) => a + b, 0);
    expect(top1 / ds.graph.numEdges).toBeGreaterThan(0.1); // 1% of nodes hold >10% of edges
    const median = deg[deg.length >> 1]!;
    expect(median).toBeLessThan(mean);
  });

  it("is homophilous and has class-correlated features that neighbours help denoise", () => {
    const y = labelsOf(ds);
    const g = ds.graph;
    let same = 0;
    for (let v = 0; v < g.numNodes; v++) {
      for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++) if (y[g.srcIdx[k]!] === y[v]) same++;
    }
    expect(same / g.numEdges).toBeGreaterThan(0.75);
    const f = ds.numFeatures;
    const raw = nearestCentroidAccuracy(ds.features, f, y, 8, ds);
    expect(raw).toBeGreaterThan(0.3); // chance is 0.125
    // One round of mean aggregation with self (what a GCN layer does) must help.
    const agg = new Float32Array(ds.features.length);
    for (let v = 0; v < g.numNodes; v++) {
      const a = g.dstRowPtr[v]!;
      const b = g.dstRowPtr[v + 1]!;
      for (let j = 0; j < f; j++) {
        let s = ds.features[v * f + j]!;
        for (let k = a; k < b; k++) s += ds.features[g.srcIdx[k]! * f + j]!;
        agg[v * f + j] = s / (b - a + 1);
      }
    }
    expect(nearestCentroidAccuracy(agg, f, y, 8, ds)).toBeGreaterThan(raw + 0.1);
  });

  it("splits 60/20/20 into disjoint sorted sets", () => {
    const { train, valid, test } = ds.split;
    expect([train.length, valid.length, test.length]).toEqual([12000, 4000, 4000]);
    const all = new Set([...train, ...valid, ...test]);
    expect(all.size).toBe(20000);
    expect(Array.from(train)).toEqual(Array.from(train).sort((a, b) => a - b));
  });

  it("is deterministic in the seed", () => {
    const a = syntheticDataset(3000, 9000, 4, 3, 7);
    const b = syntheticDataset(3000, 9000, 4, 3, 7);
    const c = syntheticDataset(3000, 9000, 4, 3, 8);
    expect(a.graph.srcIdx).toEqual(b.graph.srcIdx);
    expect(a.features).toEqual(b.features);
    expect(a.split.train).toEqual(b.split.train);
    expect(a.graph.srcIdx).not.toEqual(c.graph.srcIdx);
    // Features use their own stream: changing F leaves the graph alone.
    expect(syntheticDataset(3000, 9000, 9, 3, 7).graph.srcIdx).toEqual(a.graph.srcIdx);
  });

  it("fills even a complete graph exactly", () => {
    const full = syntheticDataset(12, 66, 2, 2, 3);
    expect(full.graph.numEdges).toBe(132);
    expect(validateGraph(full.graph)).toEqual([]);
    expect(() => syntheticDataset(12, 67, 2, 2, 3)).toThrow(DataError);
  });

  it("builds an arxiv-sized graph (169,343 nodes, 1,166,243 undirected edges)", () => {
    // F = 8 keeps the suite fast; F only adds one normal draw per feature. (Speed is the
    // benchmarks' business, not a timed test's.)
    const big = syntheticDataset(169343, 1166243, 8, 40, 0);
    expect(big.graph.numNodes).toBe(169343);
    expect(big.graph.numEdges).toBe(2 * 1166243);
  });
});

describe("synthetic specs", () => {
  it("parses N:E:F:K and an optional seed", () => {
    expect(parseSyntheticSpec("synthetic:2708:5278:1433:7")).toEqual({
      numNodes: 2708,
      numEdges: 5278,
      numFeatures: 1433,
      numClasses: 7,
      seed: 0,
    });
    expect(parseSyntheticSpec("synthetic:10:20:3:2:99").seed).toBe(99);
  });

  it("rejects malformed specs with a message naming the bad part", () => {
    expect(() => parseSyntheticSpec("synthetic:10:20:3")).toThrow("expected synthetic:N:E:F:K");
    expect(() => parseSyntheticSpec("synthetic:10:2e3:3:2")).toThrow("E = `2e3` is not a non-negative integer");
    expect(() => parseSyntheticSpec("synthetic:10:-1:3:2")).toThrow(DataError);
  });

  it("loadDataset dispatches on the synthetic: prefix", async () => {
    const d = await loadDataset("synthetic:2708:5278:1433:7");
    expect(d.graph.numEdges).toBe(10556);
    expect(d.name).toBe("synthetic-2708-5278-1433-7");
  });
});
