// A Dataset restricted to a node subset: the unit of mini-batch training by random partitions.

import { gatherRows } from "./features.js";
import { inducedSubgraph } from "./graph.js";
import type { Dataset, Labels } from "./types.js";

export interface DatasetPart {
  /** Local node i is parent node nodes[i]; split indices are local and keep their parent order. */
  dataset: Dataset;
  nodes: Uint32Array;
  /** Local CSR edge → parent CSR edge. */
  edgeIds: Uint32Array;
}

/** The induced subgraph on `nodes` with its features, labels, edge features and split. */
export function subsetDataset(ds: Dataset, nodes: Uint32Array): DatasetPart {
  const sub = inducedSubgraph(ds.graph, nodes);
  const local = new Int32Array(ds.graph.numNodes).fill(-1);
  for (let i = 0; i < nodes.length; i++) local[nodes[i]!] = i;
  const mapSet = (ids: Uint32Array): Uint32Array => {
    const out: number[] = [];
    for (const g of ids) if (local[g]! >= 0) out.push(local[g]!);
    return Uint32Array.from(out);
  };
  const labels: Labels =
    ds.labels.kind === "single"
      ? { kind: "single", numClasses: ds.labels.numClasses, y: gatherRows(ds.labels.y, 1, nodes) }
      : {
          kind: "multi",
          numTasks: ds.labels.numTasks,
          y: gatherRows(ds.labels.y, ds.labels.numTasks, nodes),
        };
  const dataset: Dataset = {
    ...ds,
    name: `${ds.name}[${nodes.length} nodes]`,
    graph: sub.graph,
    features: gatherRows(ds.features, ds.numFeatures, nodes),
    labels,
    edgeStats: {
      inputEdges: sub.graph.numEdges,
      selfLoopsDropped: 0,
      duplicatesMerged: 0,
      symmetrized: ds.edgeStats?.symmetrized ?? true,
    },
    split: {
      name: ds.split.name,
      train: mapSet(ds.split.train),
      valid: mapSet(ds.split.valid),
      test: mapSet(ds.split.test),
    },
  };
  if (ds.edgeFeatures) {
    dataset.edgeFeatures = {
      dim: ds.edgeFeatures.dim,
      values: gatherRows(ds.edgeFeatures.values, ds.edgeFeatures.dim, sub.edgeIds),
    };
  }
  return { dataset, nodes: sub.nodes, edgeIds: sub.edgeIds };
}
