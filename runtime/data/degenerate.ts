// Small graphs holding what real data holds and random test graphs do not: isolated nodes, empty
// (all-zero) feature rows, duplicate edges and self loops in the input edge list, a hub of very
// high degree, and nodes whose LayerNorm input is constant. The oracle tests (GPU against the
// float64 interpreter) and the PyTorch cross-check run on them, so that a kernel or a derived
// gradient that mishandles one of these cases cannot pass unnoticed.
//
// The edge lists go through the same loader path as a dataset file (buildGraphFromPairs:
// symmetrisation, self loops dropped, duplicates merged), so a duplicate or a self loop here is
// exactly what a user's edge.csv.gz with one would become.
import { buildGraphFromPairs } from "./graph.js";
import { rowNormalize } from "./features.js";
import { Rng, permutation } from "./rng.js";
import type { Dataset } from "./types.js";

export const DEGENERATE_CASES = [
  "isolated",
  "empty-rows",
  "duplicates",
  "self-loops",
  "hub",
  "constant-rows",
  "all",
] as const;
export type DegenerateCase = (typeof DEGENERATE_CASES)[number];

export const DEGENERATE_DESCRIPTIONS: Record<DegenerateCase, string> = {
  isolated: "a quarter of the nodes have no edge at all",
  "empty-rows": "bag-of-words features with all-zero rows (empty documents), some of them isolated",
  duplicates: "every edge listed two to four times, in both directions",
  "self-loops": "the input lists a self loop on every third node",
  hub: "one node adjacent to every other connected node",
  // (An empty row is what makes a LayerNorm input constant: x W_in + b_in = b_in.)
  "constant-rows": "feature rows with one value across all features",
  all: "all of the above in one graph",
};

export interface DegenerateOptions {
  nodes?: number;
  features?: number;
  classes?: number;
  seed?: number;
}

/** Node indices of the special nodes, so tests can look at them. */
export interface DegenerateDataset extends Dataset {
  isolated: number[];
  emptyRows: number[];
  constantRows: number[];
  hub?: number;
}

export function degenerateDataset(
  kind: DegenerateCase,
  opts: DegenerateOptions = {},
): DegenerateDataset {
  const n = opts.nodes ?? 40;
  const f = opts.features ?? 12;
  const k = opts.classes ?? 3;
  const rng = new Rng(opts.seed ?? 7);
  const has = (c: DegenerateCase) => kind === c || kind === "all";

  const isolated = has("isolated") || has("empty-rows") ? pick(n, Math.max(2, n >> 2), rng) : [];
  const isolatedSet = new Set(isolated);
  const hub = has("hub") ? first(n, (v) => !isolatedSet.has(v)) : undefined;

  // A sparse random backbone among the connected nodes, then the degeneracies on top of it.
  const connected = [...Array(n).keys()].filter((v) => !isolatedSet.has(v));
  const pairs: number[] = [];
  for (let i = 0; i < connected.length * 2; i++) {
    const u = connected[rng.nextInt(connected.length)]!;
    const v = connected[rng.nextInt(connected.length)]!;
    if (u !== v) pairs.push(u, v);
  }
  if (hub !== undefined) for (const v of connected) if (v !== hub) pairs.push(hub, v);
  if (has("duplicates")) {
    const base = pairs.slice();
    for (let i = 0; i < base.length; i += 2) {
      const copies = 1 + rng.nextInt(3);
      for (let c = 0; c < copies; c++) pairs.push(base[i + 1]!, base[i]!, base[i]!, base[i + 1]!);
    }
  }
  if (has("self-loops")) for (let v = 0; v < n; v += 3) pairs.push(v, v);
  const built = buildGraphFromPairs(n, Uint32Array.from(pairs));

  // Non-negative bag-of-words-like features (row-normalised like Cora's), or Gaussian ones.
  const features = new Float32Array(n * f);
  const bagOfWords = has("empty-rows");
  for (let i = 0; i < features.length; i++) {
    features[i] = bagOfWords ? (rng.next() < 0.3 ? 1 : 0) : rng.normal();
  }
  // Empty rows: half of them on isolated nodes (nothing reaches them), half on connected ones.
  const emptyRows = has("empty-rows")
    ? [...isolated.slice(0, 2), ...pick(n, 3, rng).filter((v) => !isolatedSet.has(v))]
    : [];
  for (const v of emptyRows) features.fill(0, v * f, (v + 1) * f);
  const taken = new Set([...emptyRows, ...(hub === undefined ? [] : [hub])]);
  const constantRows = has("constant-rows")
    ? pick(n, 6, rng)
        .filter((v) => !taken.has(v))
        .slice(0, 3)
    : [];
  for (const v of constantRows) features.fill(bagOfWords ? 1 : 0.5, v * f, (v + 1) * f);
  if (bagOfWords) {
    // Only the chosen rows are empty: an ordinary row the random draw left empty gets one word.
    const empty = new Set(emptyRows);
    for (let v = 0; v < n; v++) {
      if (empty.has(v) || features.subarray(v * f, (v + 1) * f).some((x) => x !== 0)) continue;
      features[v * f + (v % f)] = 1;
    }
    rowNormalize(features, f);
  }

  const y = new Int32Array(n);
  for (let v = 0; v < n; v++) y[v] = rng.nextInt(k);
  // Every special node trains, so its gradient contribution is part of what is compared.
  const special = new Set([...isolated, ...emptyRows, ...constantRows, ...(hub === undefined ? [] : [hub])]);
  const rest = [...permutation(n, rng)].filter((v) => !special.has(v));
  const nTrain = Math.max(0, Math.floor(n * 0.6) - special.size);
  const train = Uint32Array.from([...special, ...rest.slice(0, nTrain)]).sort();
  const others = rest.slice(nTrain);
  const half = others.length >> 1;
  return {
    name: `degenerate-${kind}`,
    source: `degenerate:${kind}`,
    graph: built.graph,
    numFeatures: f,
    features,
    featureNormalization: bagOfWords ? "row" : "none",
    labels: { kind: "single", numClasses: k, y },
    split: {
      name: "random",
      train,
      valid: Uint32Array.from(others.slice(0, half)).sort(),
      test: Uint32Array.from(others.slice(half)).sort(),
    },
    edgeStats: built.stats,
    isolated,
    emptyRows,
    constantRows,
    hub,
  };
}

/** `count` distinct random nodes (deterministic: drawn from the dataset's stream). */
function pick(n: number, count: number, rng: Rng): number[] {
  return [...permutation(n, rng).slice(0, Math.min(count, n))];
}

function first(n: number, ok: (v: number) => boolean): number | undefined {
  for (let v = 0; v < n; v++) if (ok(v)) return v;
  return undefined;
}
