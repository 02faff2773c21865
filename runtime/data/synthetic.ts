// Synthetic node-classification datasets of any size, for benchmarks and tests that must not depend
// on a download. The graph is Chung–Lu (each node gets a power-law weight; endpoints are drawn in
// proportion to weight), so degrees are heavy-tailed like citation and co-purchase graphs; edges
// are homophilous and features are noisy class centroids, so a GNN has something to learn and does
// better than a per-node classifier (neighbour averaging cancels noise).
//
// Size convention: E counts UNDIRECTED edges, exactly as OGB's num-edge-list does (Cora: 5,278).
// Exactly E distinct node pairs, no self loops, are generated, so after symmetrisation the graph has
// exactly 2E directed edges: synthetic:2708:5278:1433:7 has Cora's 10,556, and
// synthetic:169343:1166243:128:40 is arxiv-sized (ogbn-arxiv symmetrised: 2,315,598, a little under
// 2E because arxiv has reciprocal citations).

import { DataError } from "./errors.js";
import { buildGraphFromPairs } from "./graph.js";
import { Rng, permutation } from "./rng.js";
import type { Dataset } from "./types.js";

export interface SyntheticOptions {
  /** Probability that an edge is drawn inside its first endpoint's class (default 0.8). */
  homophily?: number;
  /** Power-law exponent of the expected degree distribution (default 2.5; needs > 2). */
  gamma?: number;
  /** Centroid scale relative to unit noise; default 2/sqrt(F): nearest-centroid ~92% per pair. */
  signal?: number;
  /** Fractions for train and valid; test gets the rest (default 0.6 / 0.2). */
  trainFraction?: number;
  validFraction?: number;
}

export interface SyntheticSpec {
  numNodes: number;
  numEdges: number;
  numFeatures: number;
  numClasses: number;
  seed: number;
}

/** Parses "synthetic:N:E:F:K" or "synthetic:N:E:F:K:seed" (seed defaults to 0). */
export function parseSyntheticSpec(spec: string): SyntheticSpec {
  const parts = spec.split(":");
  const usage = "expected synthetic:N:E:F:K or synthetic:N:E:F:K:seed with non-negative integers";
  if (parts[0] !== "synthetic" || parts.length < 5 || parts.length > 6) {
    throw new DataError(`bad synthetic dataset spec \`${spec}\`: ${usage}`);
  }
  const names = ["N", "E", "F", "K", "seed"];
  const nums = parts.slice(1).map((p, i) => {
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))) {
      throw new DataError(`bad synthetic dataset spec \`${spec}\`: ${names[i]} = \`${p}\` is not a non-negative integer`);
    }
    return Number(p);
  });
  const [numNodes, numEdges, numFeatures, numClasses, seed = 0] = nums as [number, number, number, number, number?];
  return { numNodes, numEdges, numFeatures, numClasses, seed };
}

export function syntheticFromSpec(spec: string, opts: SyntheticOptions = {}): Dataset {
  const s = parseSyntheticSpec(spec);
  return syntheticDataset(s.numNodes, s.numEdges, s.numFeatures, s.numClasses, s.seed, opts);
}

export function syntheticDataset(
  numNodes: number,
  numEdges: number,
  numFeatures: number,
  numClasses: number,
  seed: number,
  opts: SyntheticOptions = {},
): Dataset {
  const where = `synthetic:${numNodes}:${numEdges}:${numFeatures}:${numClasses}`;
  if (numNodes < 1 || numClasses < 1 || numNodes > 0x7fffffff) {
    throw new DataError(`${where}: need N >= 1 and K >= 1`);
  }
  const maxPairs = (numNodes * (numNodes - 1)) / 2;
  if (numEdges > maxPairs) {
    throw new DataError(`${where}: ${numEdges} edges do not fit in ${numNodes} nodes (at most ${maxPairs})`);
  }
  const homophily = opts.homophily ?? 0.8;
  const gamma = opts.gamma ?? 2.5;
  const rng = new Rng(seed);
  // Independent streams so that e.g. changing F does not change the graph.
  const labelRng = rng.fork();
  const graphRng = rng.fork();
  const featRng = rng.fork();
  const splitRng = rng.fork();

  const y = new Int32Array(numNodes);
  for (let i = 0; i < numNodes; i++) y[i] = labelRng.nextInt(numClasses);
  const pairs = sampleEdges(numNodes, numEdges, y, numClasses, homophily, gamma, graphRng);
  const built = buildGraphFromPairs(numNodes, pairs);
  const features = classFeatures(y, numFeatures, numClasses, opts.signal ?? 2 / Math.sqrt(Math.max(1, numFeatures)), featRng);

  const perm = permutation(numNodes, splitRng);
  const nTrain = Math.floor(numNodes * (opts.trainFraction ?? 0.6));
  const nValid = Math.floor(numNodes * (opts.validFraction ?? 0.2));
  const seedPart = seed === 0 ? "" : `:${seed}`;
  return {
    name: `synthetic-${numNodes}-${numEdges}-${numFeatures}-${numClasses}${seed === 0 ? "" : `-${seed}`}`,
    source: where + seedPart,
    graph: built.graph,
    numFeatures,
    features,
    featureNormalization: "none",
    labels: { kind: "single", numClasses, y },
    split: {
      name: "random",
      train: perm.slice(0, nTrain).sort(),
      valid: perm.slice(nTrain, nTrain + nValid).sort(),
      test: perm.slice(nTrain + nValid).sort(),
    },
    edgeStats: built.stats,
  };
}

/** Chung–Lu with homophily: exactly numEdges distinct unordered pairs, as interleaved src,dst (y: each node's class, k classes). */
export function sampleEdges(
  n: number,
  numEdges: number,
  y: Int32Array,
  k: number,
  homophily: number,
  gamma: number,
  rng: Rng,
): Uint32Array {
  // Weight of rank r is (r+1)^(-1/(gamma-1)): the expected degree sequence of a power law with
  // exponent gamma. Ranks are shuffled so degree is independent of node id and class.
  const rank = permutation(n, rng);
  const alpha = 1 / (gamma - 1);
  // Nodes grouped by class, each group with its own cumulative weights; one global cumulative too.
  const classStart = new Uint32Array(k + 1);
  for (let i = 0; i < n; i++) classStart[y[i]! + 1]!++;
  for (let c = 0; c < k; c++) classStart[c + 1]! += classStart[c]!;
  const byClass = new Uint32Array(n);
  const fill = classStart.slice(0, k);
  for (let i = 0; i < n; i++) byClass[fill[y[i]!]!++] = i;
  const classCum = new Float64Array(n);
  const globalCum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += Math.pow(rank[i]! + 1, -alpha);
    globalCum[i] = total;
  }
  for (let c = 0; c < k; c++) {
    let acc = 0;
    for (let j = classStart[c]!; j < classStart[c + 1]!; j++) {
      const v = byClass[j]!;
      acc += Math.pow(rank[v]! + 1, -alpha);
      classCum[j] = acc;
    }
  }
  const pickGlobal = (): number => upperBound(globalCum, 0, n, rng.next() * total);
  const pickInClass = (c: number): number => {
    const a = classStart[c]!;
    const b = classStart[c + 1]!;
    const sum = classCum[b - 1]!;
    return byClass[upperBound(classCum, a, b, rng.next() * sum)]!;
  };

  const pairs = new Uint32Array(2 * numEdges);
  const seen = new PairSet(numEdges);
  let m = 0;
  // Rejections (self loops, repeats) are rare for sparse graphs; the budget only guards against
  // near-complete graphs, which are finished by enumerating the missing pairs.
  const budget = 30 * numEdges + 1000;
  for (let attempt = 0; m < numEdges && attempt < budget; attempt++) {
    const u = pickGlobal();
    const v = rng.next() < homophily ? pickInClass(y[u]!) : pickGlobal();
    if (u === v || !seen.add(u, v)) continue;
    pairs[2 * m] = u;
    pairs[2 * m + 1] = v;
    m++;
  }
  if (m < numEdges) {
    const missing: number[] = [];
    for (let u = 0; u < n; u++) for (let v = u + 1; v < n; v++) if (!seen.has(u, v)) missing.push(u, v);
    const order = permutation(missing.length / 2, rng);
    for (let i = 0; m < numEdges; i++, m++) {
      pairs[2 * m] = missing[2 * order[i]!]!;
      pairs[2 * m + 1] = missing[2 * order[i]! + 1]!;
    }
  }
  return pairs;
}

/** First index j in [a, b) with cum[j] > x (clamped to b-1 against rounding at the top). */
function upperBound(cum: Float64Array, a: number, b: number, x: number): number {
  let lo = a;
  let hi = b - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Open-addressing set of unordered node pairs; far lighter than a Set of 1M+ non-Smi numbers. Keys
 * are interleaved (min+1, max) in one array so a probe touches one cache line.
 */
class PairSet {
  private readonly keys: Uint32Array; // [2*slot] = min endpoint + 1 (0 = empty), [2*slot+1] = max
  private readonly mask: number;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Uint32Array(2 * cap);
    this.mask = cap - 1;
  }

  /** Adds {u, v}; false if it was already present. */
  add(u: number, v: number): boolean {
    return this.probe(u, v, true);
  }

  has(u: number, v: number): boolean {
    return !this.probe(u, v, false);
  }

  /** Returns true when the pair was absent (and inserts it when `insert`). */
  private probe(u: number, v: number, insert: boolean): boolean {
    const a = (u < v ? u : v) + 1;
    const b = u < v ? v : u;
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    h = (h ^ (h >>> 15)) & this.mask;
    const keys = this.keys;
    for (;;) {
      const ka = keys[2 * h]!;
      if (ka === 0) {
        if (insert) {
          keys[2 * h] = a;
          keys[2 * h + 1] = b;
        }
        return true;
      }
      if (ka === a && keys[2 * h + 1] === b) return false;
      h = (h + 1) & this.mask;
    }
  }
}

/** x_i = signal * centroid[y_i] + N(0, I); centroids ~ N(0, I). */
function classFeatures(y: Int32Array, f: number, k: number, signal: number, rng: Rng): Float32Array {
  const centroids = new Float32Array(k * f);
  rng.fillNormal(centroids, 0, k * f, 0, signal);
  const x = new Float32Array(y.length * f);
  rng.fillNormal(x);
  for (let i = 0; i < y.length; i++) {
    const c = y[i]! * f;
    const base = i * f;
    for (let j = 0; j < f; j++) x[base + j]! += centroids[c + j]!;
  }
  return x;
}
