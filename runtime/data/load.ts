// One entry point for "--data <source>": an OGB-layout directory or a synthetic spec
// (synthetic:N:E:F:K[:seed], or synthetic:proteins[:N:E[:seed]] for ogbn-proteins' shapes).

import { type OgbLoadOptions, loadOgbNodeDataset } from "./ogb.js";
import { isOgbGraphDataset, loadOgbGraphDataset } from "./ogb-graphs.js";
import { checkTrainSplit } from "./split-check.js";
import { type SyntheticOptions, syntheticFromSpec } from "./synthetic.js";
import { syntheticGraphsFromSpec } from "./synthetic-graphs.js";
import { isProteinsSpec, syntheticProteinsFromSpec } from "./synthetic-proteins.js";
import type { Dataset } from "./types.js";

export async function loadDataset(
  source: string,
  opts: OgbLoadOptions & { synthetic?: SyntheticOptions } = {},
): Promise<Dataset> {
  if (source.startsWith("synthetic-graphs:")) {
    const ds = syntheticGraphsFromSpec(source);
    checkTrainSplit(ds.split.train, ds.labels, () => ({}), undefined, "graph");
    return ds;
  }
  if (source.startsWith("synthetic:")) {
    // A generated split has no file to point at; the OGB loader checks its own with file:line.
    const ds = isProteinsSpec(source)
      ? syntheticProteinsFromSpec(source)
      : syntheticFromSpec(source, opts.synthetic);
    checkTrainSplit(ds.split.train, ds.labels, () => ({}));
    return ds;
  }
  if (isOgbGraphDataset(source)) return loadOgbGraphDataset(source, opts);
  return loadOgbNodeDataset(source, opts);
}
