// Building the CSR/CSC adjacency from an edge list, validating it, and cutting subgraphs.
//
// Everything is O(N + E) counting sorts, so the result is deterministic (no hash iteration order,
// no unstable sort) and ogbn-products' 124 M directed edges build in seconds.

import { Rng, permutation } from "./rng.js";
import type { EdgeStats, Graph } from "./types.js";

export interface BuildOptions {
  /** Add the reverse of every edge (default true, per spec/models.md). */
  symmetrize?: boolean;
}

export interface BuiltGraph {
  graph: Graph;
  /**
   * For each edge in CSR order, the input row (index into src/dst) it came from. A reverse edge
   * added by symmetrisation points at the row it reverses. Use it to carry edge features along.
   */
  edgeOrigin: Uint32Array;
  stats: EdgeStats;
}

/**
 * Builds the graph from parallel src/dst arrays. Self loops are dropped and duplicate directed
 * edges merged. When several input rows give the same directed edge u→v, the one kept (and so the
 * one whose edge features survive) is the first in this order: all rows as given, in file order,
 * then the reversed rows, in file order. So an edge listed explicitly in both directions keeps its
 * own features in each direction, and an edge listed once gives its features to both directions.
 */
export function buildGraph(
  numNodes: number,
  src: Uint32Array,
  dst: Uint32Array,
  opts: BuildOptions = {},
): BuiltGraph {
  if (dst.length !== src.length) {
    throw new RangeError(`src has ${src.length} entries but dst has ${dst.length}`);
  }
  return buildCore(numNodes, src.length, src, 0, dst, 0, 1, opts);
}

/** As buildGraph, from interleaved [src0, dst0, src1, dst1, ...] pairs (how edge.csv is read). */
export function buildGraphFromPairs(
  numNodes: number,
  pairs: Uint32Array,
  opts: BuildOptions = {},
): BuiltGraph {
  if (pairs.length % 2 !== 0) throw new RangeError(`pairs has odd length ${pairs.length}`);
  return buildCore(numNodes, pairs.length / 2, pairs, 0, pairs, 1, 2, opts);
}

/**
 * Row i of the input is (sArr[i*stride + sOff], dArr[i*stride + dOff]): one monomorphic loop for
 * both separate arrays and interleaved pairs (closures here cost ~2x on 100M-edge graphs).
 */
function buildCore(
  numNodes: number,
  e: number,
  sArr: Uint32Array,
  sOff: number,
  dArr: Uint32Array,
  dOff: number,
  stride: number,
  opts: BuildOptions,
): BuiltGraph {
  const srcAt = (i: number): number => sArr[i * stride + sOff]!;
  const dstAt = (i: number): number => dArr[i * stride + dOff]!;
  const symmetrize = opts.symmetrize ?? true;
  if (!Number.isInteger(numNodes) || numNodes < 0 || numNodes > 0xffffffff) {
    throw new RangeError(`numNodes must be an integer in [0, 2^32), got ${numNodes}`);
  }
  for (let i = 0; i < e; i++) {
    if (srcAt(i) >= numNodes || dstAt(i) >= numNodes) {
      throw new RangeError(`edge ${i} (${srcAt(i)}→${dstAt(i)}) is out of range for ${numNodes} nodes`);
    }
  }
  // Candidate c < e is row c as given; c >= e is row c-e reversed.
  const m = symmetrize ? 2 * e : e;
  const candSrc = (c: number): number => (c < e ? srcAt(c) : dstAt(c - e));
  const candDst = (c: number): number => (c < e ? dstAt(c) : srcAt(c - e));

  // Pass 1: stable counting sort of the non-loop candidates by source.
  const count = new Uint32Array(numNodes + 1);
  let selfLoops = 0;
  for (let c = 0; c < e; c++) {
    const s = srcAt(c);
    const d = dstAt(c);
    if (s === d) selfLoops++;
    else {
      count[s + 1]!++;
      if (symmetrize) count[d + 1]!++;
    }
  }
  const kept = m - (symmetrize ? 2 * selfLoops : selfLoops);
  prefixSum(count);
  const bySrc = new Uint32Array(kept);
  for (let c = 0; c < m; c++) {
    const s = candSrc(c);
    const d = candDst(c);
    if (s !== d) bySrc[count[s]!++] = c;
  }
  // Pass 2: stable counting sort by destination; rows come out ordered by (src, candidate index).
  count.fill(0);
  for (let i = 0; i < kept; i++) count[candDst(bySrc[i]!) + 1]!++;
  prefixSum(count);
  const byDst = new Uint32Array(kept);
  for (let i = 0; i < kept; i++) {
    const c = bySrc[i]!;
    byDst[count[candDst(c)]!++] = c;
  }
  // Dedup in place: keep the first candidate of each (dst, src) run. bySrc is reused for srcIdx and
  // byDst for the origin, both written at or behind the read position.
  const rowPtr = new Uint32Array(numNodes + 1);
  let w = 0;
  let r = 0;
  for (let v = 0; v < numNodes; v++) {
    rowPtr[v] = w;
    const end = count[v]!; // after pass 2, count[v] is the end of row v
    let prev = -1;
    for (; r < end; r++) {
      const c = byDst[r]!;
      const s = candSrc(c);
      if (s === prev) continue;
      prev = s;
      bySrc[w] = s;
      byDst[w] = c < e ? c : c - e;
      w++;
    }
  }
  rowPtr[numNodes] = w;
  // Copy only when dedup shrank the arrays (frees the slack; ogbn-products has 124M edges).
  const srcIdx = w === kept ? bySrc : bySrc.slice(0, w);
  const edgeOrigin = w === kept ? byDst : byDst.slice(0, w);
  return {
    graph: graphFromCsr(numNodes, rowPtr, srcIdx),
    edgeOrigin,
    stats: {
      inputEdges: e,
      selfLoopsDropped: selfLoops,
      duplicatesMerged: kept - w,
      symmetrized: symmetrize,
    },
  };
}

/** Completes a Graph (CSC, degrees) from a valid CSR; the arrays are taken, not copied. */
export function graphFromCsr(numNodes: number, dstRowPtr: Uint32Array, srcIdx: Uint32Array): Graph {
  const numEdges = srcIdx.length;
  const srcColPtr = new Uint32Array(numNodes + 1);
  for (let k = 0; k < numEdges; k++) srcColPtr[srcIdx[k]! + 1]!++;
  prefixSum(srcColPtr);
  const cursor = srcColPtr.slice(0, numNodes);
  const dstIdx = new Uint32Array(numEdges);
  const cscToCsr = new Uint32Array(numEdges);
  const inDegree = new Float32Array(numNodes);
  // Walking CSR rows in order visits destinations ascending, so each CSC column comes out sorted.
  for (let v = 0; v < numNodes; v++) {
    const a = dstRowPtr[v]!;
    const b = dstRowPtr[v + 1]!;
    inDegree[v] = b - a;
    for (let k = a; k < b; k++) {
      const pos = cursor[srcIdx[k]!]!++;
      dstIdx[pos] = v;
      cscToCsr[pos] = k;
    }
  }
  return { numNodes, numEdges, dstRowPtr, srcIdx, srcColPtr, dstIdx, cscToCsr, inDegree };
}

function prefixSum(a: Uint32Array): void {
  for (let i = 1; i < a.length; i++) a[i]! += a[i - 1]!;
}

/**
 * Checks every structural invariant of a Graph; returns the problems found (at most `limit`),
 * empty when the graph is sound. Costs O(N + E); meant for tests and for graphs from elsewhere.
 */
export function validateGraph(g: Graph, limit = 10): string[] {
  const out: string[] = [];
  const bad = (msg: string): boolean => out.push(msg) >= limit;
  const n = g.numNodes;
  const m = g.numEdges;
  const lens: [string, number, number][] = [
    ["dstRowPtr", g.dstRowPtr.length, n + 1],
    ["srcColPtr", g.srcColPtr.length, n + 1],
    ["srcIdx", g.srcIdx.length, m],
    ["dstIdx", g.dstIdx.length, m],
    ["cscToCsr", g.cscToCsr.length, m],
    ["inDegree", g.inDegree.length, n],
  ];
  for (const [name, got, want] of lens) {
    if (got !== want && bad(`${name} has length ${got}, expected ${want}`)) return out;
  }
  if (out.length) return out;
  for (const [name, ptr] of [
    ["dstRowPtr", g.dstRowPtr],
    ["srcColPtr", g.srcColPtr],
  ] as const) {
    if (ptr[0] !== 0 || ptr[n] !== m) bad(`${name} must start at 0 and end at ${m}`);
    for (let v = 0; v < n; v++) {
      if (ptr[v]! > ptr[v + 1]! && bad(`${name} decreases at ${v}`)) return out;
    }
  }
  if (out.length) return out;
  // CSR: rows strictly ascending (sorted, no duplicates), no self loops, degrees match.
  for (let v = 0; v < n; v++) {
    const a = g.dstRowPtr[v]!;
    const b = g.dstRowPtr[v + 1]!;
    if (g.inDegree[v] !== b - a && bad(`inDegree[${v}] = ${g.inDegree[v]}, row has ${b - a}`)) {
      return out;
    }
    for (let k = a; k < b; k++) {
      const s = g.srcIdx[k]!;
      if (s >= n && bad(`srcIdx[${k}] = ${s} out of range`)) return out;
      if (s === v && bad(`self loop at node ${v}`)) return out;
      if (k > a && s <= g.srcIdx[k - 1]! && bad(`row ${v} not strictly ascending at ${k}`)) return out;
    }
  }
  // CSC: each entry maps to the CSR edge with the same endpoints, and each CSR edge is hit once.
  const seen = new Uint8Array(m);
  for (let u = 0; u < n; u++) {
    for (let k = g.srcColPtr[u]!; k < g.srcColPtr[u + 1]!; k++) {
      const d = g.dstIdx[k]!;
      const j = g.cscToCsr[k]!;
      if (d >= n || j >= m) {
        if (bad(`CSC entry ${k} out of range (dst ${d}, csr ${j})`)) return out;
        continue;
      }
      if (seen[j] && bad(`CSR edge ${j} appears twice in cscToCsr`)) return out;
      seen[j] = 1;
      if (g.srcIdx[j] !== u || !(g.dstRowPtr[d]! <= j && j < g.dstRowPtr[d + 1]!)) {
        if (bad(`CSC entry ${k} (${u}→${d}) maps to CSR edge ${j} with other endpoints`)) return out;
      }
      if (k > g.srcColPtr[u]! && d <= g.dstIdx[k - 1]!) {
        if (bad(`column ${u} not strictly ascending at ${k}`)) return out;
      }
    }
  }
  return out;
}

export interface Subgraph {
  graph: Graph;
  /** Local node id → node id in the parent graph (a copy of the `nodes` argument). */
  nodes: Uint32Array;
  /** Local CSR edge → CSR edge position in the parent graph (to gather edge features). */
  edgeIds: Uint32Array;
}

/**
 * The subgraph induced by `nodes` (distinct parent ids, any order; local id i is nodes[i]).
 * Keeps exactly the parent edges with both ends inside. O(|nodes| + edges touched + N).
 */
export function inducedSubgraph(graph: Graph, nodes: Uint32Array): Subgraph {
  const n = nodes.length;
  const local = new Int32Array(graph.numNodes).fill(-1);
  for (let i = 0; i < n; i++) {
    const g = nodes[i]!;
    if (g >= graph.numNodes) throw new RangeError(`node ${g} is out of range (${graph.numNodes})`);
    if (local[g] !== -1) throw new RangeError(`node ${g} is listed twice`);
    local[g] = i;
  }
  let count = 0;
  for (let i = 0; i < n; i++) {
    const g = nodes[i]!;
    for (let k = graph.dstRowPtr[g]!; k < graph.dstRowPtr[g + 1]!; k++) {
      if (local[graph.srcIdx[k]!]! >= 0) count++;
    }
  }
  const src = new Uint32Array(count);
  const dst = new Uint32Array(count);
  const parentEdge = new Uint32Array(count);
  let w = 0;
  for (let i = 0; i < n; i++) {
    const g = nodes[i]!;
    for (let k = graph.dstRowPtr[g]!; k < graph.dstRowPtr[g + 1]!; k++) {
      const s = local[graph.srcIdx[k]!]!;
      if (s >= 0) {
        src[w] = s;
        dst[w] = i;
        parentEdge[w++] = k;
      }
    }
  }
  // Local ids may be in any order, so re-sort rows with the same counting sort (no loops or
  // duplicates can appear, the parent has none).
  const built = buildGraph(n, src, dst, { symmetrize: false });
  const edgeIds = new Uint32Array(built.edgeOrigin.length);
  for (let k = 0; k < edgeIds.length; k++) edgeIds[k] = parentEdge[built.edgeOrigin[k]!]!;
  return { graph: built.graph, nodes: nodes.slice(), edgeIds };
}

/**
 * Splits 0..numNodes-1 into `parts` random disjoint sets of near-equal size (sizes differ by at most
 * one), each sorted ascending so subgraphs keep the parent's memory locality. This is the random
 * node partitioning the paper uses for mini-batch training on ogbn-proteins and ogbn-products.
 */
export function randomPartition(numNodes: number, parts: number, rng: Rng): Uint32Array[] {
  if (!Number.isInteger(parts) || parts < 1) {
    throw new RangeError(`parts must be a positive integer, got ${parts}`);
  }
  const perm = permutation(numNodes, rng);
  const out: Uint32Array[] = [];
  for (let p = 0; p < parts; p++) {
    const a = Math.floor((p * numNodes) / parts);
    const b = Math.floor(((p + 1) * numNodes) / parts);
    out.push(perm.slice(a, b).sort());
  }
  return out;
}
