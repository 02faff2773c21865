// The graphs the suite trains on: Cora (data/cora, the public Planetoid split) and a synthetic
// graph of ogbn-arxiv's size (169,343 nodes, ~1.17M directed edges, 128 features, 40 classes).
import { join } from "node:path";
import { loadDataset } from "../../runtime/data/load.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import type { Dataset } from "../../runtime/data/types.js";
import type { DatasetInfo } from "../types.js";

export type DatasetKey = "cora" | "arxiv";

export interface BenchDataset {
  info: DatasetInfo;
  ds: Dataset;
}

/** ogbn-arxiv's sizes; syntheticDataset counts undirected edges, so 585,000 gives ~1.17M directed. */
export const ARXIV = { nodes: 169_343, undirectedEdges: 585_000, features: 128, classes: 40 };

export async function loadBenchDataset(
  root: string,
  key: DatasetKey,
  D: number,
  seed: number,
): Promise<BenchDataset> {
  const ds =
    key === "cora"
      ? await loadDataset(join(root, "data", "cora"))
      : syntheticDataset(ARXIV.nodes, ARXIV.undirectedEdges, ARXIV.features, ARXIV.classes, seed);
  if (ds.labels.kind !== "single") throw new Error(`bench: ${key} is not single-label`);
  return {
    info: {
      key,
      name: key === "cora" ? "Cora" : "synthetic arxiv-sized",
      source: ds.source,
      nodes: ds.graph.numNodes,
      edges: ds.graph.numEdges,
      features: ds.numFeatures,
      classes: ds.labels.numClasses,
      D,
    },
    ds,
  };
}
