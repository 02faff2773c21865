// A synthetic graph with ogbn-proteins' shapes: 8 edge features in [0, 1] (most of them zero, as the
// association scores of the real graph are), 112 binary tasks, no node features of its own (node
// features are the mean of each node's in-edge features, DeeperGCN's initialisation, which the
// dataset also provides as its features), and a random 65/16/19 split (the real species split's
// proportions). Labels depend on the structure and the edge features, so a GNN can learn them
// and does better than a per-node model:
//
//   every node has a latent profile z ∈ R^8 (its community's centroid plus noise); an edge's
//   features are noisy, sparse squashings of its endpoints' profiles; task t is positive where
//   a_t · (z_v / 2 + 2 · the two-hop neighbourhood mean of z) plus noise is in the task's top
//   fraction (5 % to 45 %): one hop of edge features shows some of it, message passing more.
//
// Named `synthetic:proteins` (2,000 nodes, 20,000 undirected edges), `synthetic:proteins:N:E` or
// `synthetic:proteins:N:E:seed`. E counts undirected edges, as for synthetic:N:E:F:K.
import { DataError } from "./errors.js";
import { meanEdgeFeaturesToNodes } from "./features.js";
import { buildGraphFromPairs } from "./graph.js";
import { Rng, permutation } from "./rng.js";
import { sampleEdges } from "./synthetic.js";
import type { Dataset, Graph } from "./types.js";

export const PROTEINS_TASKS = 112;
export const PROTEINS_EDGE_FEATURES = 8;
/** Latent communities (ogbn-proteins has 8 species). */
const COMMUNITIES = 8;
const DEFAULT_SIZE = { numNodes: 2000, numEdges: 20000 };

export interface ProteinsSpec {
  numNodes: number;
  numEdges: number;
  seed: number;
}

/** Whether `spec` names the proteins-shaped generator. */
export function isProteinsSpec(spec: string): boolean {
  return spec === "synthetic:proteins" || spec.startsWith("synthetic:proteins:");
}

export function parseProteinsSpec(spec: string): ProteinsSpec {
  const parts = spec.split(":").slice(2);
  const usage = "expected synthetic:proteins, synthetic:proteins:N:E or synthetic:proteins:N:E:seed";
  if (parts.length === 0) return { ...DEFAULT_SIZE, seed: 0 };
  if (parts.length < 2 || parts.length > 3) throw new DataError(`bad dataset spec \`${spec}\`: ${usage}`);
  const names = ["N", "E", "seed"];
  const nums = parts.map((p, i) => {
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))) {
      throw new DataError(`bad dataset spec \`${spec}\`: ${names[i]} = \`${p}\` is not a non-negative integer`);
    }
    return Number(p);
  });
  return { numNodes: nums[0]!, numEdges: nums[1]!, seed: nums[2] ?? 0 };
}

export function syntheticProteinsFromSpec(spec: string): Dataset {
  const s = parseProteinsSpec(spec);
  return syntheticProteins(s.numNodes, s.numEdges, s.seed);
}

export function syntheticProteins(numNodes: number, numEdges: number, seed: number): Dataset {
  const where = `synthetic:proteins:${numNodes}:${numEdges}`;
  if (numNodes < 2 || numNodes > 0x7fffffff) throw new DataError(`${where}: need N >= 2`);
  const maxPairs = (numNodes * (numNodes - 1)) / 2;
  if (numEdges > maxPairs) {
    throw new DataError(`${where}: ${numEdges} edges do not fit in ${numNodes} nodes (at most ${maxPairs})`);
  }
  const rng = new Rng(seed);
  const communityRng = rng.fork();
  const graphRng = rng.fork();
  const profileRng = rng.fork();
  const edgeRng = rng.fork();
  const taskRng = rng.fork();
  const splitRng = rng.fork();

  const community = new Int32Array(numNodes);
  for (let i = 0; i < numNodes; i++) community[i] = communityRng.nextInt(COMMUNITIES);
  const pairs = sampleEdges(numNodes, numEdges, community, COMMUNITIES, 0.7, 2.5, graphRng);
  const built = buildGraphFromPairs(numNodes, pairs);
  const graph = built.graph;
  const profile = latentProfiles(community, profileRng);
  const values = edgeFeatures(graph, built.edgeOrigin, pairs, profile, edgeRng);
  const edgeFeat = { dim: PROTEINS_EDGE_FEATURES, values };
  const y = taskLabels(graph, profile, taskRng);

  const perm = permutation(numNodes, splitRng);
  const nTrain = Math.floor(numNodes * 0.65);
  const nValid = Math.floor(numNodes * 0.16);
  const seedPart = seed === 0 ? "" : `:${seed}`;
  return {
    name: `synthetic-proteins-${numNodes}-${numEdges}${seed === 0 ? "" : `-${seed}`}`,
    source: where + seedPart,
    graph,
    numFeatures: PROTEINS_EDGE_FEATURES,
    features: meanEdgeFeaturesToNodes(graph, edgeFeat),
    featureNormalization: "none",
    labels: { kind: "multi", numTasks: PROTEINS_TASKS, y },
    edgeFeatures: edgeFeat,
    split: {
      name: "random",
      train: perm.slice(0, nTrain).sort(),
      valid: perm.slice(nTrain, nTrain + nValid).sort(),
      test: perm.slice(nTrain + nValid).sort(),
    },
    edgeStats: built.stats,
  };
}

/** z_v = centroid[community] / 2 + N(0, 1) noise, centroids ~ N(0, 1): [N, 8]. */
function latentProfiles(community: Int32Array, rng: Rng): Float64Array {
  const d = PROTEINS_EDGE_FEATURES;
  const centroids = Float64Array.from({ length: COMMUNITIES * d }, () => rng.normal());
  const z = new Float64Array(community.length * d);
  for (let v = 0; v < community.length; v++)
    for (let j = 0; j < d; j++) z[v * d + j] = 0.5 * centroids[community[v]! * d + j]! + rng.normal();
  return z;
}

/**
 * One 8-vector per undirected input pair, shared by both directions (as ogbn-proteins' edges are
 * undirected): feature j is sigmoid(z_u,j + z_v,j + noise), kept with probability 0.6 and rounded
 * to 3 decimals like the real scores; returned in the graph's CSR edge order.
 */
function edgeFeatures(
  graph: Graph,
  edgeOrigin: Uint32Array,
  pairs: Uint32Array,
  z: Float64Array,
  rng: Rng,
): Float32Array {
  const d = PROTEINS_EDGE_FEATURES;
  const numPairs = pairs.length / 2;
  const perPair = new Float32Array(numPairs * d);
  for (let r = 0; r < numPairs; r++) {
    const u = pairs[2 * r]!;
    const v = pairs[2 * r + 1]!;
    for (let j = 0; j < d; j++) {
      const s = 1 / (1 + Math.exp(-(z[u * d + j]! + z[v * d + j]! + 0.5 * rng.normal())));
      perPair[r * d + j] = rng.next() < 0.6 ? Math.round(s * 1000) / 1000 : 0;
    }
  }
  const out = new Float32Array(graph.numEdges * d);
  for (let k = 0; k < graph.numEdges; k++) {
    const r = edgeOrigin[k]!;
    out.set(perPair.subarray(r * d, (r + 1) * d), k * d);
  }
  return out;
}

/** The mean over each node's in-neighbours of an [N, 8] matrix (0 for a node without any). */
function neighbourMean(graph: Graph, x: Float64Array): Float64Array {
  const d = PROTEINS_EDGE_FEATURES;
  const out = new Float64Array(graph.numNodes * d);
  for (let v = 0; v < graph.numNodes; v++) {
    const a = graph.dstRowPtr[v]!;
    const b = graph.dstRowPtr[v + 1]!;
    for (let k = a; k < b; k++) {
      const u = graph.srcIdx[k]!;
      for (let j = 0; j < d; j++) out[v * d + j]! += x[u * d + j]! / (b - a);
    }
  }
  return out;
}

/**
 * Task t: 1 where a_t · (z_v + the two-hop mean of z) plus noise is in its top fraction: [N, T].
 * The two-hop term is what a node's own aggregated edge features (one hop) do not show.
 */
function taskLabels(graph: Graph, z: Float64Array, rng: Rng): Float32Array {
  const d = PROTEINS_EDGE_FEATURES;
  const n = graph.numNodes;
  const twoHop = neighbourMean(graph, neighbourMean(graph, z));
  const context = z.map((zv, i) => 0.5 * zv + 2 * twoHop[i]!);
  const y = new Float32Array(n * PROTEINS_TASKS);
  const score = new Float64Array(n);
  for (let t = 0; t < PROTEINS_TASKS; t++) {
    const w = Array.from({ length: d }, () => rng.normal());
    for (let v = 0; v < n; v++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += w[j]! * context[v * d + j]!;
      score[v] = s + 0.5 * rng.normal();
    }
    const positive = 0.05 + 0.4 * rng.next();
    const threshold = Float64Array.from(score).sort()[Math.floor((1 - positive) * (n - 1))]!;
    for (let v = 0; v < n; v++) y[v * PROTEINS_TASKS + t] = score[v]! > threshold ? 1 : 0;
  }
  return y;
}
