// Matmuls by ranges of their left operand's rows. A dense feature matrix x [N, F] larger than one
// storage binding (maxStorageBufferBindingSize, 128 MiB on lavapipe) is held by the runtime in
// row chunks, each its own buffer; a kernel that reads x then runs once per chunk, on that chunk's
// rows. Two matmuls can, with their kernels unchanged — only the launch moves:
//   x·W (and x·Wᵀ)  C's rows follow x's: a range starting at row s writes C from row s on.
//   xᵀ·G            split-K over the rows already: each chunk of `chunkRows` rows writes its
//                   partial product into its own slab, and a second kernel adds the slabs in
//                   order. A range starting at a multiple of chunkRows writes exactly the slabs
//                   the whole product would, so the partials — and their in-order sum — are
//                   bitwise those of the unsplit run; no float atomics.
// The launch facts live on the kernel (KernelSpec.rowRange); the executor applies them.
import { evalDim } from "../ir/dims.js";
import type { Dim, Graph, Value } from "../ir/types.js";
import { readOnlyAsLeftMatmulOperand } from "../ir/left-operand.js";
import type { RowRangeLaunch } from "../contract.js";

/** A dim that is one plain symbol ("N"): only those can be rebound to a range's row count. */
function plainSymbol(d: Dim | undefined): string | undefined {
  return typeof d === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d) ? d : undefined;
}

/** Whether a dim mentions symbol `s` (exactly, or inside an expression such as "N+E"). */
function mentions(d: Dim, s: string): boolean {
  return typeof d === "string" && new RegExp(`(^|[^A-Za-z0-9_])${s}($|[^A-Za-z0-9_])`).test(d);
}

const noneMention = (dims: readonly Dim[], s: string) => dims.every((d) => !mentions(d, s));

/**
 * C = A·B or A·Bᵀ (A not transposed) by ranges of A's rows: C's row r is A's row r times B, so
 * the range starting at row s writes C from offset s·cols(C); B is read whole. Undefined where
 * A's row count is not a plain symbol or appears anywhere else in the product's shapes.
 */
export function outputRowsRange(A: Value, B: Value, C: Value): RowRangeLaunch | undefined {
  const rows = plainSymbol(A.shape[0]);
  if (!rows || C.shape[0] !== rows) return undefined;
  if (!noneMention([...A.shape.slice(1), ...B.shape, ...C.shape.slice(1)], rows)) return undefined;
  const cols = C.shape[1]!;
  return {
    operand: 0,
    dim: rows,
    align: 1,
    shift: (dims, start) => [0, 0, start * evalDim(cols, dims)],
  };
}

/**
 * C = Aᵀ·B (A [K, M], B [K, N]) split along K into partial slabs of `chunkRows` rows: a range of
 * K starting at a multiple of chunkRows reads the same rows of B and writes the slabs from
 * number start/chunkRows on (each M·N floats). Operands: A, B, the slabs.
 */
export function splitKRowsRange(
  A: Value,
  B: Value,
  m: Dim,
  n: Dim,
  chunkRows: number,
): RowRangeLaunch | undefined {
  const rows = plainSymbol(A.shape[0]);
  if (!rows || B.shape[0] !== rows) return undefined;
  if (!noneMention([...A.shape.slice(1), ...B.shape.slice(1), m, n], rows)) return undefined;
  return {
    operand: 0,
    dim: rows,
    align: chunkRows,
    shift: (dims, start) => {
      const [mm, nn] = [evalDim(m, dims), evalDim(n, dims)];
      return [0, start * nn, (start / chunkRows) * mm * nn];
    },
  };
}

/**
 * Whether every op of `g` reading its input `x` is a matmul with x on the left (x·B, x·Bᵀ or
 * xᵀ·B) and nothing else of x: the reads the row-range launches above cover (the IR-level test
 * the size checks use before any kernel exists; the session checks the kernels themselves).
 */
export function readByRowRanges(g: Graph, x: Value): boolean {
  return readOnlyAsLeftMatmulOperand(g, x, (attrs) => !(attrs.transA && attrs.transB));
}
