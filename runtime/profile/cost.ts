// The profiler's cost model: how much arithmetic and memory traffic one dispatch of a kernel
// stands for, from the shapes of the tensors it binds. It turns measured times into achieved
// GFLOP/s and GB/s, so that a slow kernel can be told from a big one.
//  - Matmuls (kinds "matmul" and "matmul_splitk_partials", generated or template): 2·M·N·K FLOPs.
//    For C = op(A)·op(B), in any transposition, |A|·|B| / |C| = (M·K)(K·N)/(M·N) = K², so K comes
//    from the element counts alone. A split-K partial writes slabs instead of C; its K is the
//    dimension A and B share (the graph size N or E: split-K is only used along those).
//  - The sparse input kernel ("matmul_sparse_input": x·W or xᵀ·G from x packed as CSR and CSC,
//    compiler/codegen/sparse-input.ts): 2·nnz·n FLOPs, nnz from the packed buffer's size
//    (N + F + 2 + 4·nnz words; N + F are the row counts of B and C).
//  - Everything else (fused elementwise, row/column reductions, graph kernels, the matmul's
//    split-K sum): no FLOPs are counted (they are bound by memory, not arithmetic).
//  - Bytes, for every kernel: each tensor it binds counted once (read, or written), graph arrays
//    included: the compulsory traffic, a lower bound. A graph kernel that gathers a row per edge
//    reads more than that; its GB/s is then a lower bound too.
import { dimEquals, type Dim } from "../../compiler/contract.js";

export interface OperandSize {
  /** Elements bound (the view's, not the whole buffer's). */
  elements: number;
  /** The tensor's shape, symbolic and evaluated, where it is a tensor of the program (graph
   *  arrays: none). */
  shape?: { symbolic: readonly Dim[]; sizes: readonly number[] };
  written: boolean;
}

export interface DispatchCost {
  flops: number;
  bytes: number;
}

const MATMUL_KINDS = new Set(["matmul", "matmul_splitk_partials"]);

export function dispatchCost(kind: string, operands: readonly OperandSize[]): DispatchCost {
  const bytes = 4 * operands.reduce((sum, o) => sum + o.elements, 0);
  const flops = MATMUL_KINDS.has(kind)
    ? matmulFlops(kind, operands)
    : kind === "matmul_sparse_input"
      ? sparseInputFlops(operands)
      : 0;
  return { flops, bytes };
}

/** 2·M·N·K of a matmul kernel whose first two operands are A and B; 0 where it cannot tell. */
export function matmulFlops(kind: string, operands: readonly OperandSize[]): number {
  const [a, b] = operands;
  const out = operands.find((o) => o.written);
  if (!a || !b || !out) return 0;
  if (kind === "matmul") {
    const k = Math.sqrt((a.elements * b.elements) / Math.max(1, out.elements));
    return 2 * out.elements * Math.round(k);
  }
  // Split-K partials: M·K·K·N / K² needs K, the dimension A and B share.
  const k = sharedDimSize(a, b);
  return k > 0 ? (2 * a.elements * b.elements) / k : 0;
}

/** 2·nnz·n of the sparse input kernel, whose operands are the packed x, B and C; 0 where it cannot tell. */
export function sparseInputFlops(operands: readonly OperandSize[]): number {
  const [x, b, c] = operands;
  if (!x || !b?.shape || !c?.shape) return 0;
  const rows = b.shape.sizes[0]! + c.shape.sizes[0]!;
  const nnz = (x.elements - rows - 2) / 4;
  const cols = c.shape.sizes[c.shape.sizes.length - 1]!;
  return nnz > 0 && Number.isInteger(nnz) ? 2 * nnz * cols : 0;
}

/**
 * The size of the dimension two matrices share, found by its symbolic name; where several could
 * be (a square weight), the symbolic one (N, E) rather than a literal width.
 */
function sharedDimSize(a: OperandSize, b: OperandSize): number {
  if (!a.shape || !b.shape) return 0;
  const sb = b.shape.symbolic;
  const shared = a.shape.symbolic
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => sb.some((e) => dimEquals(d, e)));
  const pick = shared.find(({ d }) => typeof d !== "number") ?? shared[0];
  return pick ? a.shape.sizes[pick.i]! : 0;
}
