// Host-side data model shared by the loaders, the training loop and the GPU uploader.
// Everything is a flat typed array so it can be handed to the GPU (or a worker) without copying.

export interface Graph {
  numNodes: number;
  /** Directed edges after symmetrisation & dedup, self loops removed. */
  numEdges: number;
  // CSR by destination: the in-edges of v are rowPtr[v]..rowPtr[v+1]; srcIdx is sorted ascending
  // (and therefore duplicate-free) within a row.
  dstRowPtr: Uint32Array; // N+1
  srcIdx: Uint32Array; // E
  // CSC by source (out-edges of u, ascending destination): dstIdx[k] is the destination and
  // cscToCsr[k] the same edge's position in CSR order (so per-edge data stored in CSR order can be
  // read while walking out-edges, which the backward pass of an aggregation needs).
  srcColPtr: Uint32Array; // N+1
  dstIdx: Uint32Array; // E
  cscToCsr: Uint32Array; // E
  /** In-degree without self loops; equals the out-degree when the graph is symmetric. */
  inDegree: Float32Array; // N
  /**
   * A batch of many small graphs stored as one disjoint union: graph g owns the contiguous nodes
   * graphPtr[g]..graphPtr[g+1] (G+1 offsets, no edge between graphs). Absent: one graph.
   */
  graphPtr?: Uint32Array;
}

export type Labels =
  | { kind: "single"; numClasses: number; y: Int32Array } // -1 = unlabeled
  | { kind: "multi"; numTasks: number; y: Float32Array }; // N*T row-major, 0/1, NaN = missing

export interface Split {
  name: string;
  train: Uint32Array;
  valid: Uint32Array;
  test: Uint32Array;
}

/** What loading did to the raw edge list, for logs and reports. */
export interface EdgeStats {
  /** Rows in the edge file (or generated pairs). */
  inputEdges: number;
  selfLoopsDropped: number;
  /** Directed edges merged because they repeated one already present (after symmetrisation). */
  duplicatesMerged: number;
  symmetrized: boolean;
}

export interface Dataset {
  name: string;
  /** A path or "synthetic:N:E:F:K[:seed]". */
  source: string;
  graph: Graph;
  numFeatures: number;
  /** N*F row-major; empty when the dataset has no node features (F = 0). */
  features: Float32Array;
  /** What was done to the features after reading them (loaders always set it). */
  featureNormalization?: "row" | "none";
  /**
   * What the labels and the split index: nodes (the default), or the graphs of a batch
   * (graph.graphPtr), for graph classification.
   */
  targets?: "nodes" | "graphs";
  labels: Labels;
  /** E*dim row-major, in CSR edge order. */
  edgeFeatures?: { dim: number; values: Float32Array };
  split: Split;
  /** How the edge list became the graph (loaders always set it). */
  edgeStats?: EdgeStats;
}
