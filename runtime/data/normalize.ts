// Edge coefficients of the normalised adjacencies in spec/models.md, precomputed on the host once
// per graph (they depend only on degrees) and uploaded next to the CSR.

import type { Graph } from "./types.js";

export interface GcnCoefficients {
  /** Â entry for each CSR edge u→v: 1 / sqrt((deg(u)+1) (deg(v)+1)). */
  edge: Float32Array;
  /** Â diagonal (the added self loop) per node: 1 / (deg(v)+1). */
  self: Float32Array;
}

/**
 * Â = D̃^-1/2 (A + I) D̃^-1/2 with D̃ = diag(rowsum(A + I)) (Kipf & Welling). The self loop is kept
 * separate instead of being inserted into the CSR so that the graph stays loop-free, as the spec's
 * mean aggregation and GAT (which adds its own self loop) need. deg is the in-degree; for the
 * symmetric graphs GCN is defined on it equals the row sum of A. Computed in float64.
 */
export function gcnCoefficients(graph: Graph): GcnCoefficients {
  const n = graph.numNodes;
  const invSqrt = new Float64Array(n);
  const self = new Float32Array(n);
  for (let v = 0; v < n; v++) {
    const d = graph.inDegree[v]! + 1;
    invSqrt[v] = 1 / Math.sqrt(d);
    self[v] = 1 / d;
  }
  const edge = new Float32Array(graph.numEdges);
  for (let v = 0; v < n; v++) {
    for (let k = graph.dstRowPtr[v]!; k < graph.dstRowPtr[v + 1]!; k++) {
      edge[k] = invSqrt[graph.srcIdx[k]!]! * invSqrt[v]!;
    }
  }
  return { edge, self };
}

/** 1 / in-degree per node (0 for a node without neighbours), the spec's `mean` aggregation. */
export function meanCoefficients(graph: Graph): Float32Array {
  const out = new Float32Array(graph.numNodes);
  for (let v = 0; v < graph.numNodes; v++) {
    const d = graph.inDegree[v]!;
    out[v] = d > 0 ? 1 / d : 0;
  }
  return out;
}
