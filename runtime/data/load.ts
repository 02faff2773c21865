// One entry point for "--data <source>": an OGB-layout directory or a synthetic spec.

import { type OgbLoadOptions, loadOgbNodeDataset } from "./ogb.js";
import { type SyntheticOptions, syntheticFromSpec } from "./synthetic.js";
import type { Dataset } from "./types.js";

export async function loadDataset(
  source: string,
  opts: OgbLoadOptions & { synthetic?: SyntheticOptions } = {},
): Promise<Dataset> {
  if (source.startsWith("synthetic:")) return syntheticFromSpec(source, opts.synthetic);
  return loadOgbNodeDataset(source, opts);
}
