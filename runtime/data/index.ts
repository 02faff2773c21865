// Public surface of the data layer, for the CLI and the training loop.

export type { Dataset, EdgeStats, Graph, Labels, Split } from "./types.js";
export { DataError } from "./errors.js";
export { loadDataset } from "./load.js";
export { loadOgbNodeDataset, type OgbLoadOptions } from "./ogb.js";
export {
  parseSyntheticSpec,
  syntheticDataset,
  syntheticFromSpec,
  type SyntheticOptions,
} from "./synthetic.js";
export {
  buildGraph,
  buildGraphFromPairs,
  graphFromCsr,
  inducedSubgraph,
  randomPartition,
  validateGraph,
  type Subgraph,
} from "./graph.js";
export { subsetDataset, type DatasetPart } from "./subset.js";
export {
  aggregateEdgeFeaturesToNodes,
  gatherRows,
  meanEdgeFeaturesToNodes,
  rowNormalize,
} from "./features.js";
export { gcnCoefficients, meanCoefficients, type GcnCoefficients } from "./normalize.js";
export { Rng, permutation } from "./rng.js";
