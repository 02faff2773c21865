import { describe, expect, it } from "vitest";
import { buildGraphFromPairs } from "../../runtime/data/graph.js";
import { gcnCoefficients, meanCoefficients } from "../../runtime/data/normalize.js";

describe("adjacency normalisation", () => {
  // Path 0-1-2 plus isolated node 3: degrees 1, 2, 1, 0.
  const g = buildGraphFromPairs(4, new Uint32Array([0, 1, 1, 2])).graph;

  it("gives Â = D̃^-1/2 (A+I) D̃^-1/2 entries, whose rows sum as a dense Â would", () => {
    const { edge, self } = gcnCoefficients(g);
    expect(Array.from(self)).toEqual([1 / 2, 1 / 3, 1 / 2, 1].map(Math.fround));
    // CSR order: row 0: 1→0; row 1: 0→1, 2→1; row 2: 1→2.
    const c = Math.fround(1 / Math.sqrt(6));
    expect(Array.from(edge)).toEqual([c, c, c, c]);
    // Dense check.
    const deg = [2, 3, 2, 1];
    for (let v = 0; v < 4; v++) {
      let dense = 1 / deg[v]!;
      for (let u = 0; u < 4; u++) {
        const adj = Math.abs(u - v) === 1 && u < 3 && v < 3 ? 1 : 0;
        dense += adj / Math.sqrt(deg[u]! * deg[v]!);
      }
      let sparse = self[v]!;
      for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++) sparse += edge[k]!;
      expect(sparse).toBeCloseTo(dense, 6);
    }
  });

  it("gives 1/deg for mean aggregation and 0 for a node without neighbours", () => {
    expect(Array.from(meanCoefficients(g))).toEqual([1, 0.5, 1, 0]);
  });
});
