// Seeded random inputs for oracle checks (never zeros: an unwritten or ignored element must show),
// shared by `revgnn gradcheck` and the test suite.
import { tensor, type Tensor } from "../ir/tensor.js";
import { graphView, type CsrGraph } from "../ir/interp.js";
import type { GraphView } from "../ir/op-def.js";

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Uniform in ±scale, kept at least `gap` away from zero (kinks of relu/abs/step live there). */
export function randomTensor(
  shape: number[],
  rand: () => number,
  opts: { scale?: number; gap?: number; positive?: boolean } = {},
): Tensor {
  const scale = opts.scale ?? 1;
  const gap = opts.gap ?? 0.05;
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) {
    const mag = gap + (scale - gap) * rand();
    t.data[i] = opts.positive || rand() < 0.5 ? mag : -mag;
  }
  return t;
}

/** A random directed graph in CSR form; some nodes have no in-edges. */
export function randomCsr(numNodes: number, numEdges: number, rand: () => number): CsrGraph {
  const lists: number[][] = Array.from({ length: numNodes }, () => []);
  const seen = new Set<number>();
  let tries = 0;
  while (seen.size < numEdges && tries++ < numEdges * 20) {
    const u = Math.floor(rand() * numNodes);
    const v = Math.floor(rand() * Math.max(1, numNodes - 1)); // the last node never receives
    if (u === v || seen.has(u * numNodes + v)) continue;
    seen.add(u * numNodes + v);
    lists[v]!.push(u);
  }
  const rowPtr = new Uint32Array(numNodes + 1);
  const src: number[] = [];
  lists.forEach((l, v) => {
    l.sort((a, b) => a - b);
    src.push(...l);
    rowPtr[v + 1] = src.length;
  });
  return { numNodes, dstRowPtr: rowPtr, srcIdx: Uint32Array.from(src) };
}

export function randomGraphView(numNodes: number, numEdges: number, rand: () => number): GraphView {
  return graphView(randomCsr(numNodes, numEdges, rand));
}
