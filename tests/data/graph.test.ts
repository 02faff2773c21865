import { describe, expect, it } from "vitest";
import {
  buildGraph,
  buildGraphFromPairs,
  inducedSubgraph,
  randomPartition,
  validateGraph,
} from "../../runtime/data/graph.js";
import { Rng } from "../../runtime/data/rng.js";
import type { Graph } from "../../runtime/data/types.js";

function randomEdges(rng: Rng, n: number, m: number): { src: Uint32Array; dst: Uint32Array } {
  const src = new Uint32Array(m);
  const dst = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    src[i] = rng.nextInt(n);
    // Bias towards repeats and self loops so dedup paths are exercised.
    dst[i] = rng.next() < 0.1 ? src[i]! : rng.nextInt(Math.max(1, Math.ceil(n / 2)));
  }
  return { src, dst };
}

function edgeList(g: Graph): string[] {
  const out: string[] = [];
  for (let v = 0; v < g.numNodes; v++) {
    for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++) out.push(`${g.srcIdx[k]}->${v}`);
  }
  return out;
}

describe("buildGraph", () => {
  it("matches a reference edge set on random graphs (symmetrised and directed)", () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + rng.nextInt(40);
      const { src, dst } = randomEdges(rng, n, rng.nextInt(120));
      for (const symmetrize of [true, false]) {
        const { graph, edgeOrigin, stats } = buildGraph(n, src, dst, { symmetrize });
        expect(validateGraph(graph)).toEqual([]);
        const want = new Set<string>();
        for (let i = 0; i < src.length; i++) {
          if (src[i] === dst[i]) continue;
          want.add(`${src[i]}->${dst[i]}`);
          if (symmetrize) want.add(`${dst[i]}->${src[i]}`);
        }
        const got = edgeList(graph);
        expect(new Set(got)).toEqual(want);
        expect(got.length).toBe(want.size); // no duplicates
        expect(stats.selfLoopsDropped).toBe(src.filter((s, i) => s === dst[i]).length);
        // First-occurrence rule: forward rows in order, then reversed rows in order.
        let k = 0;
        for (let v = 0; v < n; v++) {
          for (; k < graph.dstRowPtr[v + 1]!; k++) {
            const u = graph.srcIdx[k]!;
            let first = -1;
            for (let i = 0; i < src.length && first < 0; i++) if (src[i] === u && dst[i] === v) first = i;
            if (symmetrize) {
              for (let i = 0; i < src.length && first < 0; i++) if (dst[i] === u && src[i] === v) first = i;
            }
            expect(edgeOrigin[k]).toBe(first);
          }
        }
      }
    }
  });

  it("handles a one-node graph, an empty graph and nodes without in-edges", () => {
    const one = buildGraph(1, new Uint32Array([0]), new Uint32Array([0])).graph;
    expect(one.numEdges).toBe(0);
    expect(Array.from(one.dstRowPtr)).toEqual([0, 0]);
    expect(validateGraph(one)).toEqual([]);
    expect(validateGraph(buildGraph(0, new Uint32Array(0), new Uint32Array(0)).graph)).toEqual([]);
    // A directed star: only node 0 has in-edges; nodes 1..4 have none (and node 5 no edge at all).
    const star = buildGraph(6, new Uint32Array([4, 1, 3, 2]), new Uint32Array([0, 0, 0, 0]), {
      symmetrize: false,
    }).graph;
    expect(validateGraph(star)).toEqual([]);
    expect(Array.from(star.dstRowPtr)).toEqual([0, 4, 4, 4, 4, 4, 4]);
    expect(Array.from(star.srcIdx)).toEqual([1, 2, 3, 4]);
    expect(Array.from(star.inDegree)).toEqual([4, 0, 0, 0, 0, 0]);
    expect(Array.from(star.srcColPtr)).toEqual([0, 0, 1, 2, 3, 4, 4]);
    expect(Array.from(star.dstIdx)).toEqual([0, 0, 0, 0]);
    expect(Array.from(star.cscToCsr)).toEqual([0, 1, 2, 3]);
  });

  it("orders CSC columns by destination and maps them back to CSR", () => {
    const { graph } = buildGraphFromPairs(4, new Uint32Array([0, 1, 0, 2, 3, 0, 2, 1]));
    expect(validateGraph(graph)).toEqual([]);
    for (let u = 0; u < 4; u++) {
      for (let k = graph.srcColPtr[u]!; k < graph.srcColPtr[u + 1]!; k++) {
        const j = graph.cscToCsr[k]!;
        expect(graph.srcIdx[j]).toBe(u);
        expect(j >= graph.dstRowPtr[graph.dstIdx[k]!]! && j < graph.dstRowPtr[graph.dstIdx[k]! + 1]!).toBe(true);
      }
    }
  });

  it("rejects out-of-range ids", () => {
    expect(() => buildGraph(3, new Uint32Array([0]), new Uint32Array([3]))).toThrow("out of range");
  });

  it("validateGraph catches corrupted structures", () => {
    const { graph } = buildGraphFromPairs(5, new Uint32Array([0, 1, 1, 2, 2, 3, 3, 4]));
    const swapped = { ...graph, cscToCsr: graph.cscToCsr.slice().reverse() };
    expect(validateGraph(swapped).length).toBeGreaterThan(0);
    const unsorted = { ...graph, srcIdx: graph.srcIdx.slice() };
    unsorted.srcIdx.reverse();
    expect(validateGraph(unsorted).length).toBeGreaterThan(0);
    expect(validateGraph({ ...graph, inDegree: new Float32Array(5) }).length).toBeGreaterThan(0);
  });
});

describe("inducedSubgraph and randomPartition", () => {
  it("keeps exactly the edges inside the node set, for nodes in any order", () => {
    const rng = new Rng(5);
    const { src, dst } = randomEdges(rng, 60, 400);
    const parent = buildGraph(60, src, dst).graph;
    for (let trial = 0; trial < 20; trial++) {
      const nodes = rng.shuffle(Uint32Array.from({ length: 60 }, (_, i) => i)).slice(0, 1 + rng.nextInt(60));
      const sub = inducedSubgraph(parent, nodes);
      expect(validateGraph(sub.graph)).toEqual([]);
      expect(Array.from(sub.nodes)).toEqual(Array.from(nodes));
      const inSet = new Set(nodes);
      const want = new Set(edgeList(parent).filter((e) => e.split("->").every((x) => inSet.has(Number(x)))));
      const got = edgeList(sub.graph).map((e) => {
        const [a, b] = e.split("->").map(Number) as [number, number];
        return `${nodes[a]}->${nodes[b]}`;
      });
      expect(new Set(got)).toEqual(want);
      expect(got.length).toBe(want.size);
      // edgeIds point at the parent edge with the same endpoints.
      let k = 0;
      for (let v = 0; v < sub.graph.numNodes; v++) {
        for (; k < sub.graph.dstRowPtr[v + 1]!; k++) {
          const pk = sub.edgeIds[k]!;
          expect(parent.srcIdx[pk]).toBe(nodes[sub.graph.srcIdx[k]!]);
          const pv = nodes[v]!;
          expect(pk >= parent.dstRowPtr[pv]! && pk < parent.dstRowPtr[pv + 1]!).toBe(true);
        }
      }
    }
  });

  it("rejects repeated or out-of-range nodes", () => {
    const g = buildGraphFromPairs(3, new Uint32Array([0, 1])).graph;
    expect(() => inducedSubgraph(g, new Uint32Array([1, 1]))).toThrow("twice");
    expect(() => inducedSubgraph(g, new Uint32Array([3]))).toThrow("out of range");
  });

  it("partitions nodes into disjoint sorted parts of near-equal size, deterministically", () => {
    const parts = randomPartition(103, 10, new Rng(1));
    expect(parts.length).toBe(10);
    const sizes = parts.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    const all = parts.flatMap((p) => Array.from(p));
    expect(all.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    for (const p of parts) expect(Array.from(p)).toEqual(Array.from(p).sort((a, b) => a - b));
    expect(randomPartition(103, 10, new Rng(1))).toEqual(parts);
    expect(randomPartition(103, 10, new Rng(2))).not.toEqual(parts);
    expect(randomPartition(3, 5, new Rng(1)).map((p) => p.length)).toEqual([0, 1, 0, 1, 1]);
    expect(() => randomPartition(3, 0, new Rng(1))).toThrow("positive integer");
  });
});
