// Per-row contractions with a small weight matrix: `row_matmul` is a @ W computed row by row, and
// `row_outer` is the per-row outer product its weight gradient sums. Unlike `matmul` (a kernel of
// its own, whose operands need buffers) they are elementwise in the code generator's sense: one
// element of the result is a short unrolled sum over the operands' other columns, so they fuse
// into whatever kernel reads them. That is how `e @ We` inside an aggregate body is computed per
// edge on the fly, in the graph kernel that reduces the messages, and never stored as [E, D]; and
// how the gradient wrt We, Σ over edges of eᵀ·G, is a column sum over the edges of row_outer(e, G)
// with the message gradient G inlined per edge, again without an [E, D] buffer.
//
// The unrolled sum needs the contracted size known at compile time and small: see
// MAX_ROW_CONTRACTION. row_outer's own VJP (second order, never needed for training) uses row
// sums, which do not fuse into graph kernels: it serves the interpreter and gradient checks.
import { dimToString, shapeToString } from "../dims.js";
import type { GraphBuilder } from "../graph-builder.js";
import type { OpDef } from "../op-def.js";
import { tensor } from "../tensor.js";
import type { Shape, Value } from "../types.js";

/** The longest unrolled sum a row contraction emits per element (terms of WGSL, kept readable). */
export const MAX_ROW_CONTRACTION = 64;

const known = (s: Shape): s is number[] => s.every((d) => typeof d === "number");

/** op(W) = W or Wᵀ for a row_matmul: [inner, cols]. */
function weightDims(w: Shape, transB: boolean): [Shape[number], Shape[number]] {
  return transB ? [w[1]!, w[0]!] : [w[0]!, w[1]!];
}

/**
 * a @ op(W) per row. The contracted size is an attribute (the emitted sum is unrolled over it); it
 * is the known width of `a`.
 */
export function rowMatmul(b: GraphBuilder, a: Value, w: Value, transB: boolean): Value {
  return b.op("row_matmul", [a, w], { transB, inner: w.shape[transB ? 1 : 0]! });
}

/** Σ over its columns of a row's weighted pieces, for row_outer's VJP. */
function sumOf(b: GraphBuilder, terms: Value[]): Value {
  return terms.reduce((acc, t) => b.add(acc, t));
}

export const rowwiseOps: OpDef[] = [
  {
    name: "row_matmul",
    doc: "a @ op(W) row by row, fused where it is read: [M, k] @ [k, n] → [M, n] (k, n known, ≤ 64 summed terms)",
    shape: ([a, w], attrs) => {
      if (a!.length !== 2 || w!.length !== 2) {
        return `row_matmul multiplies rows by a matrix, got ${shapeToString(a!)} @ ${shapeToString(w!)}`;
      }
      if (!known(w!)) {
        return `the weight of a per-row product needs a known shape, got ${shapeToString(w!)}`;
      }
      const [inner, cols] = weightDims(w!, !!attrs.transB);
      if (a![1] !== inner) {
        return `inner dimensions of @ differ: ${shapeToString(a!)} @ ${shapeToString(w!)} (${dimToString(a![1]!)} ≠ ${dimToString(inner)})`;
      }
      if ((inner as number) > MAX_ROW_CONTRACTION) {
        return `a per-row product sums at most ${MAX_ROW_CONTRACTION} terms, got ${inner}`;
      }
      if (attrs.inner !== inner)
        return `row_matmul: attribute inner = ${String(attrs.inner)}, operands need ${inner}`;
      return [[a![0]!, cols]];
    },
    evaluate: ([a, w], attrs) => {
      const [m, k] = a!.shape as [number, number];
      const tB = !!attrs.transB;
      const n = tB ? w!.shape[0]! : w!.shape[1]!;
      const wc = w!.shape[1]!;
      const out = tensor([m, n]);
      for (let i = 0; i < m; i++) {
        for (let c = 0; c < n; c++) {
          let s = 0;
          for (let j = 0; j < k; j++)
            s += a!.data[i * k + j]! * w!.data[tB ? c * wc + j : j * wc + c]!;
          out.data[i * n + c] = s;
        }
      }
      return [out];
    },
    // y = a W: da = d Wᵀ, dW = Σ_rows aᵀ d (a column sum of per-row outer products, so that the
    // rows, edges in an aggregate, are never stored). With transB (y = a Wᵀ): da = d W, dW = dᵀ a.
    vjp: (b, { inputs: [a, w], attrs }, [d]) => {
      if (!d) return [undefined, undefined];
      const tB = !!attrs.transB;
      const da = rowMatmul(b, d, w!, !tB);
      const outer = tB ? b.op("row_outer", [d, a!]) : b.op("row_outer", [a!, d]);
      const dw = b.op("reshape", [b.op("col_sum", [outer])], { shape: [...w!.shape] });
      return [da, dw];
    },
    lowering: {
      kind: "elementwise",
      reads: "coordinates",
      emit: (c) => {
        const tB = !!c.attrs.transB;
        const inner = c.attrs.inner as number;
        const terms = Array.from({ length: inner }, (_, j) => {
          const w = tB ? c.readAt(1, c.col, `${j}u`) : c.readAt(1, `${j}u`, c.col);
          return `${c.readAt(0, c.row, `${j}u`)} * ${w}`;
        });
        return `(${terms.join(" + ")})`;
      },
    },
  },
  {
    name: "row_outer",
    doc: "per-row outer product, flattened: [M, k], [M, n] → [M, k·n] with column j·n + c = a[·, j]·g[·, c]",
    shape: ([a, g]) => {
      if (a!.length !== 2 || g!.length !== 2) {
        return `row_outer expects two matrices, got ${shapeToString(a!)} and ${shapeToString(g!)}`;
      }
      if (a![0] !== g![0]) {
        return `row_outer needs the same rows, got ${shapeToString(a!)} and ${shapeToString(g!)}`;
      }
      if (typeof a![1] !== "number" || typeof g![1] !== "number") {
        return `row_outer needs known column counts, got ${shapeToString(a!)} and ${shapeToString(g!)}`;
      }
      return [[a![0]!, a![1]! * g![1]!]];
    },
    evaluate: ([a, g]) => {
      const [m, k] = a!.shape as [number, number];
      const n = g!.shape[1]!;
      const out = tensor([m, k * n]);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < k; j++)
          for (let c = 0; c < n; c++)
            out.data[i * k * n + j * n + c] = a!.data[i * k + j]! * g!.data[i * n + c]!;
      return [out];
    },
    // d is [M, k·n]: its column block j pairs with a's column j. da[·, j] = Σ_c d[·, j·n + c]·g[·, c]
    // and dg = Σ_j d[·, j·n : (j+1)·n]·a[·, j], in elementwise ops that fuse like the op itself.
    vjp: (b, { inputs: [a, g] }, [d]) => {
      if (!d) return [undefined, undefined];
      const k = a!.shape[1] as number;
      const n = g!.shape[1] as number;
      const block = (j: number) => b.op("slice_cols", [d], { start: j * n, len: n });
      const column = (j: number) => b.op("slice_cols", [a!], { start: j, len: 1 });
      const blocks = Array.from({ length: k }, (_, j) => block(j));
      const perColumn = blocks.map((blk) => b.op("row_sum", [b.mul(blk, g!)]));
      const da = k === 1 ? perColumn[0]! : b.op("concat_cols", perColumn);
      const dg = sumOf(
        b,
        blocks.map((blk, j) => b.mul(blk, column(j))),
      );
      return [da, dg];
    },
    lowering: {
      kind: "elementwise",
      reads: "coordinates",
      emit: (c) => {
        const n = c.cols(1);
        return `(${c.readAt(0, c.row, `(${c.col} / ${n})`)} * ${c.readAt(1, c.row, `(${c.col} % ${n})`)})`;
      },
    },
  },
];
