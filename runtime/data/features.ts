// Feature transforms applied on the host before upload: row normalisation, edge→node aggregation,
// and row gathers for subgraphs.

import type { Graph } from "./types.js";

/**
 * Divides each row of an [n, dim] matrix by its sum, in place (GCN-paper preprocessing for
 * bag-of-words features). Rows summing to 0 are left as they are (there is nothing to scale).
 * Summation is in float64 so long rows of small values do not lose precision.
 */
export function rowNormalize(values: Float32Array, dim: number): Float32Array {
  if (dim === 0) return values;
  const n = values.length / dim;
  for (let i = 0; i < n; i++) {
    const base = i * dim;
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += values[base + j]!;
    if (sum === 0) continue;
    const inv = 1 / sum;
    for (let j = 0; j < dim; j++) values[base + j]! *= inv;
  }
  return values;
}

/** Whether every entry is >= 0 (NaN counts as not); decides the "auto" normalisation. */
export function allNonNegative(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!(values[i]! >= 0)) return false;
  return true;
}

/**
 * Node features from edge features: for each node, the reduction over its in-edges (CSR order, the
 * order edge features are stored in). ogbn-proteins has no node features; DeeperGCN / RevGNN
 * initialise them by aggregating the 8-dim edge features. A node with no in-edge gets zeros.
 */
export function aggregateEdgeFeaturesToNodes(
  graph: Graph,
  edgeFeatures: { dim: number; values: Float32Array },
  reduce: "mean" | "sum",
): Float32Array {
  const { dim, values } = edgeFeatures;
  if (values.length !== graph.numEdges * dim) {
    throw new RangeError(`edge features have ${values.length} values, expected ${graph.numEdges}×${dim}`);
  }
  const out = new Float32Array(graph.numNodes * dim);
  const acc = new Float64Array(dim);
  for (let v = 0; v < graph.numNodes; v++) {
    const a = graph.dstRowPtr[v]!;
    const b = graph.dstRowPtr[v + 1]!;
    if (a === b) continue;
    acc.fill(0);
    for (let k = a; k < b; k++) {
      for (let j = 0; j < dim; j++) acc[j]! += values[k * dim + j]!;
    }
    const scale = reduce === "mean" ? 1 / (b - a) : 1;
    for (let j = 0; j < dim; j++) out[v * dim + j] = acc[j]! * scale;
  }
  return out;
}

export function meanEdgeFeaturesToNodes(
  graph: Graph,
  edgeFeatures: { dim: number; values: Float32Array },
): Float32Array {
  return aggregateEdgeFeaturesToNodes(graph, edgeFeatures, "mean");
}

/** Rows `rows` of an [n, dim] matrix, in that order (features of a subgraph's nodes). */
export function gatherRows<T extends Float32Array | Int32Array>(values: T, dim: number, rows: Uint32Array): T {
  const out = new (values.constructor as { new (n: number): T })(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out.set(values.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}
