// A batch of many small graphs (graph classification) as one disjoint union: the nodes of graph g
// are numbered contiguously from graphPtr[g], edges never cross graphs, and the union is built like
// any other graph (symmetrised, deduplicated, CSR/CSC). The offsets travel with the graph
// (Graph.graphPtr) so that pooling can reduce each graph's node range without a per-node index.
import { buildGraphFromPairs, type BuiltGraph } from "./graph.js";

/** Offsets [0, n0, n0+n1, …] of graphs with the given node counts. */
export function graphOffsets(nodeCounts: ArrayLike<number>): Uint32Array {
  const ptr = new Uint32Array(nodeCounts.length + 1);
  for (let g = 0; g < nodeCounts.length; g++) ptr[g + 1] = ptr[g]! + nodeCounts[g]!;
  return ptr;
}

/**
 * The disjoint union of graphs given by their node counts and their edges as interleaved
 * (src, dst) pairs of global node ids (graph g's nodes are graphPtr[g]..graphPtr[g+1]-1; the
 * caller has offset each graph's local ids). An edge between two graphs is a caller's bug.
 */
export function buildBatch(nodeCounts: ArrayLike<number>, pairs: Uint32Array): BuiltGraph {
  const graphPtr = graphOffsets(nodeCounts);
  const numNodes = graphPtr[nodeCounts.length]!;
  const built = buildGraphFromPairs(numNodes, pairs);
  return { ...built, graph: { ...built.graph, graphPtr } };
}
