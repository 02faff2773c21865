// The node features as the sparse input path's packed buffer (compiler/codegen/sparse-input.ts):
// when to use it, and the host-side packing of a dense N×F array into CSR and CSC at once.
import {
  FEATURE_NONZEROS,
  sparseFeatureLayout,
  type SparseFeatureLayout,
} from "../compiler/codegen/sparse-input.js";

export { FEATURE_NONZEROS };

/**
 * Below this fraction of non-zeros the features are bound sparse. The sparse kernel does
 * 2·nnz·D flops where the dense one does 2·N·F·D, but it gathers a row of W (or G) per non-zero
 * instead of streaming x with vec4 loads. Measured on Cora (1.27 % non-zero, lavapipe, 2 loaded
 * cores): both sparse products took 79–110 ms per step where the padded vec4 ones took 449 ms,
 * which puts break-even near 5–7 % density; 4 % leaves a margin. Bag-of-words inputs (Cora
 * 1.3 %) are far below, dense embeddings (arxiv's 128 floats) far above.
 */
export const SPARSE_DENSITY = 0.04;

/** Non-zeros of a dense row-major feature array. */
export function countNonzeros(features: Float32Array): number {
  let n = 0;
  for (let i = 0; i < features.length; i++) if (features[i] !== 0) n++;
  return n;
}

/** Whether features of these sizes (N, F and the non-zeros under FEATURE_NONZEROS) go sparse. */
export function wantsSparse(dims: Readonly<Record<string, number>>, featureDim: string): boolean {
  const nnz = dims[FEATURE_NONZEROS];
  const cells = dims.N! * (dims[featureDim] ?? 0);
  return nnz !== undefined && cells > 0 && nnz < SPARSE_DENSITY * cells;
}

/** Words of the packed buffer for these sizes. */
export function sparseFeatureWords(n: number, f: number, nnz: number): number {
  return sparseFeatureLayout(n, f, nnz).words;
}

/**
 * x [n, f] (row-major, dense) packed as rowPtr | col | val | colPtr | row | valT, values as f32
 * bits; returned as a Float32Array view of the words for upload.
 */
export function packSparseFeatures(x: Float32Array, n: number, f: number): Float32Array {
  const nnz = countNonzeros(x);
  const L: SparseFeatureLayout = sparseFeatureLayout(n, f, nnz);
  const words = new Uint32Array(L.words);
  const floats = new Float32Array(words.buffer);
  let k = 0;
  for (let i = 0; i < n; i++) {
    words[L.rowPtr + i] = k;
    for (let j = 0; j < f; j++) {
      const v = x[i * f + j]!;
      if (v === 0) continue;
      words[L.col + k] = j;
      floats[L.val + k] = v;
      k++;
    }
  }
  words[L.rowPtr + n] = k;
  // Columns: count per column, prefix sums, then fill in row order (rows ascending per column).
  const count = new Uint32Array(f + 1);
  for (let e = 0; e < nnz; e++) count[words[L.col + e]! + 1]!++;
  for (let j = 0; j < f; j++) count[j + 1]! += count[j]!;
  words.set(count, L.colPtr);
  const next = count.slice(0, f);
  for (let i = 0; i < n; i++) {
    for (let e = words[L.rowPtr + i]!; e < words[L.rowPtr + i + 1]!; e++) {
      const j = words[L.col + e]!;
      const at = next[j]!++;
      words[L.row + at] = i;
      floats[L.valT + at] = floats[L.val + e]!;
    }
  }
  return floats;
}
