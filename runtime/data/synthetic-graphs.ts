// A synthetic graph-classification dataset whose labels depend on structure only: each graph is a
// random tree (class 0) or a ring with 0–2 chords (class 1), of 6 to 14 nodes. Node features carry
// no label information (a constant channel and noise), so a model must read the structure: a GIN
// sees it in the degrees (a tree has leaves of degree 1, a ring none) and its sum pooling counts
// nodes and edges (a tree has |E| = |V| − 1). Deterministic from the seed.
import { buildBatch } from "./batch.js";
import { DataError } from "./errors.js";
import { Rng, permutation } from "./rng.js";
import type { Dataset } from "./types.js";

/** Node features: a constant 1, then uniform noise. */
export const SYNTHETIC_GRAPH_FEATURES = 4;
const MIN_NODES = 6;
const MAX_NODES = 14;

export interface SyntheticGraphsSpec {
  numGraphs: number;
  seed: number;
}

/** Parses "synthetic-graphs:G" or "synthetic-graphs:G:seed". */
export function parseSyntheticGraphsSpec(spec: string): SyntheticGraphsSpec {
  const parts = spec.split(":");
  const usage = "expected synthetic-graphs:G or synthetic-graphs:G:seed (G graphs, G >= 2)";
  if (parts[0] !== "synthetic-graphs" || parts.length < 2 || parts.length > 3) {
    throw new DataError(`bad synthetic dataset spec \`${spec}\`: ${usage}`);
  }
  const nums = parts.slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (nums.some((n) => !Number.isSafeInteger(n)) || nums[0]! < 2) {
    throw new DataError(`bad synthetic dataset spec \`${spec}\`: ${usage}`);
  }
  return { numGraphs: nums[0]!, seed: nums[1] ?? 0 };
}

/** Edges of one graph with n nodes (local ids): a random tree, or a ring with `chords` chords. */
function randomGraphEdges(n: number, ring: boolean, chords: number, rng: Rng): [number, number][] {
  const edges: [number, number][] = [];
  const has = new Set<number>();
  const add = (u: number, v: number) => {
    const key = Math.min(u, v) * n + Math.max(u, v);
    if (u === v || has.has(key)) return false;
    has.add(key);
    edges.push([u, v]);
    return true;
  };
  if (ring) {
    for (let i = 0; i < n; i++) add(i, (i + 1) % n);
    for (let added = 0; added < chords; ) if (add(rng.nextInt(n), rng.nextInt(n))) added++;
  } else {
    // A uniform random recursive tree: node i attaches to an earlier node.
    for (let i = 1; i < n; i++) add(i, rng.nextInt(i));
  }
  return edges;
}

export function syntheticGraphsFromSpec(spec: string): Dataset {
  const s = parseSyntheticGraphsSpec(spec);
  return syntheticGraphs(s.numGraphs, s.seed);
}

export function syntheticGraphs(numGraphs: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const graphRng = rng.fork();
  const featRng = rng.fork();
  const splitRng = rng.fork();
  const y = new Int32Array(numGraphs);
  const counts = new Uint32Array(numGraphs);
  const pairs: number[] = [];
  let offset = 0;
  for (let g = 0; g < numGraphs; g++) {
    // Alternating classes keep the two balanced; the split below shuffles the graphs.
    y[g] = g % 2;
    const n = MIN_NODES + graphRng.nextInt(MAX_NODES - MIN_NODES + 1);
    const ring = y[g] === 1;
    const chords = ring ? graphRng.nextInt(3) : 0;
    for (const [u, v] of randomGraphEdges(n, ring, chords, graphRng)) {
      pairs.push(offset + u, offset + v);
    }
    counts[g] = n;
    offset += n;
  }
  const built = buildBatch(counts, Uint32Array.from(pairs));
  const F = SYNTHETIC_GRAPH_FEATURES;
  const features = new Float32Array(offset * F);
  for (let i = 0; i < offset; i++) {
    features[i * F] = 1;
    for (let f = 1; f < F; f++) features[i * F + f] = featRng.next();
  }
  const perm = permutation(numGraphs, splitRng);
  const nTrain = Math.floor(numGraphs * 0.6);
  const nValid = Math.floor(numGraphs * 0.2);
  return {
    name: `synthetic-graphs-${numGraphs}${seed === 0 ? "" : `-${seed}`}`,
    source: `synthetic-graphs:${numGraphs}${seed === 0 ? "" : `:${seed}`}`,
    graph: built.graph,
    numFeatures: F,
    features,
    featureNormalization: "none",
    targets: "graphs",
    labels: { kind: "single", numClasses: 2, y },
    split: {
      name: "random",
      train: perm.slice(0, nTrain).sort(),
      valid: perm.slice(nTrain, nTrain + nValid).sort(),
      test: perm.slice(nTrain + nValid).sort(),
    },
    edgeStats: built.stats,
  };
}
