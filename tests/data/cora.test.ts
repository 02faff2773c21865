import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { validateGraph } from "../../runtime/data/graph.js";
import { loadOgbNodeDataset } from "../../runtime/data/ogb.js";
import type { Dataset } from "../../runtime/data/types.js";

const CORA = "data/cora";

describe("Cora (OGB layout, public Planetoid split)", () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadOgbNodeDataset(CORA);
  });

  it("has the published sizes", () => {
    expect(ds.name).toBe("cora");
    expect(ds.graph.numNodes).toBe(2708);
    expect(ds.numFeatures).toBe(1433);
    expect(ds.features.length).toBe(2708 * 1433);
    expect(ds.labels.kind).toBe("single");
    if (ds.labels.kind === "single") {
      expect(ds.labels.numClasses).toBe(7);
      expect(Math.min(...ds.labels.y)).toBe(0);
    }
    expect(ds.split.name).toBe("public");
    expect([ds.split.train.length, ds.split.valid.length, ds.split.test.length]).toEqual([140, 500, 1000]);
    expect(ds.split.train[0]).toBe(0);
    expect(ds.split.valid[0]).toBe(140);
    expect(ds.split.test[0]).toBe(1708);
  });

  it("symmetrises 5,278 undirected edges into exactly 10,556 directed ones", () => {
    expect(ds.edgeStats).toEqual({ inputEdges: 5278, selfLoopsDropped: 0, duplicatesMerged: 0, symmetrized: true });
    expect(ds.graph.numEdges).toBe(10556);
    // Independent count straight from the file: distinct unordered pairs, no self loops.
    const lines = gunzipSync(readFileSync(`${CORA}/raw/edge.csv.gz`)).toString().trim().split("\n");
    const pairs = new Set(
      lines.map((l) => {
        const [a, b] = l.split(",").map(Number) as [number, number];
        expect(a).not.toBe(b);
        return a < b ? `${a},${b}` : `${b},${a}`;
      }),
    );
    expect(pairs.size).toBe(5278);
    expect(2 * pairs.size).toBe(ds.graph.numEdges);
  });

  it("builds a valid, symmetric CSR/CSC", () => {
    const g = ds.graph;
    expect(validateGraph(g)).toEqual([]);
    for (let v = 0; v < g.numNodes; v++) {
      expect(g.srcColPtr[v + 1]! - g.srcColPtr[v]!).toBe(g.inDegree[v]);
    }
    // Every edge u→v has its reverse v→u.
    for (let v = 0; v < g.numNodes; v++) {
      for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++) {
        const u = g.srcIdx[k]!;
        const row = g.srcIdx.subarray(g.dstRowPtr[u]!, g.dstRowPtr[u + 1]!);
        expect(row.includes(v)).toBe(true);
      }
    }
  });

  it("row-normalises the 0/1 features", () => {
    expect(ds.featureNormalization).toBe("row");
    const f = ds.numFeatures;
    for (let i = 0; i < ds.graph.numNodes; i++) {
      let sum = 0;
      let nonzero = 0;
      let first = 0;
      for (let j = 0; j < f; j++) {
        const x = ds.features[i * f + j]!;
        sum += x;
        if (x !== 0) {
          nonzero++;
          first = x;
        }
      }
      expect(nonzero).toBeGreaterThan(0);
      expect(sum).toBeCloseTo(1, 5);
      expect(first).toBeCloseTo(1 / nonzero, 6);
    }
  });

  it("keeps the features as read with normalizeFeatures: none", async () => {
    const raw = await loadOgbNodeDataset(CORA, { normalizeFeatures: "none" });
    expect(raw.featureNormalization).toBe("none");
    expect(new Set(raw.features)).toEqual(new Set([0, 1]));
  });

  it("can keep the directed edge list", async () => {
    const d = await loadOgbNodeDataset(CORA, { symmetrize: false });
    expect(d.graph.numEdges).toBe(5278);
    expect(validateGraph(d.graph)).toEqual([]);
  });
});
