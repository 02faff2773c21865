// The contract between the compiler and the runtime: what a compiled program is (blocks of steps
// over IR values), what a kernel is (WGSL text, named bindings, a parameter block, a dispatch
// formula), and the host-side computations some steps ask of the runtime. The runtime imports this
// module (and the target description, ./target.ts) and nothing else of the compiler: it compiles
// the strings it is given and dispatches them; it never runs a pass.
import type { Dim, Value } from "./ir/types.js";

export { Value } from "./ir/types.js";
export type { Dim, Shape } from "./ir/types.js";
export {
  dimEquals,
  evalDim,
  evalShape,
  numElements,
  shapeToString,
  type DimBindings,
} from "./ir/dims.js";

// ---- Programs -----------------------------------------------------------------------------

export type Step =
  | { kind: "kernel"; kernel: KernelSpec; writes: Value[] }
  | {
      kind: "scan";
      count: number;
      reverse: boolean;
      numCarry: number;
      numXs: number;
      inputs: Value[];
      outputs: Value[];
      body: Block;
    }
  | {
      kind: "fixpoint";
      attrs: FixpointAttrs;
      inputs: Value[];
      output: Value;
      /** The cell: [z, consts…] → [f(z)]. */
      body: Block;
      /** [z, f(z)] → [f(z) − z, ‖f(z) − z‖², ‖f(z)‖²]: the convergence test, read back. */
      residual: Block;
      /** Anderson mixing: [r, h₁…h_m] → [⟨r, h₁⟩…⟨r, h_m⟩] and [f₁…f_m, α₁…α_m] → [Σ αₖ fₖ]. */
      dots: Block;
      mix: Block;
    }
  | { kind: "alias"; from: Value; to: Value };

export interface Block {
  name: string;
  inputs: Value[];
  outputs: Value[];
  steps: Step[];
}

export interface Program {
  main: Block;
  /** Every distinct kernel, in first-use order (deduplicated by WGSL text). */
  kernels: KernelSpec[];
  /** Sizes of workspace values that are not plain shapes (partial sums), by value. */
  workspace: Map<
    Value,
    { formula: string; elements(dims: Readonly<Record<string, number>>): number }
  >;
}

// ---- Kernels ------------------------------------------------------------------------------

/** Graph structure buffers a kernel can bind (uploaded once per graph). */
export type GraphBufferName =
  | "csr_rowptr"
  | "csr_src"
  | "csc_colptr"
  | "csc_dst"
  | "csc_eid"
  | "in_degree"
  | "out_degree"
  | "edge_src"
  | "edge_dst"
  | "edge_src_loops"
  | "edge_dst_loops"
  /** A batch of graphs: node offsets of each graph (G + 1) and each node's graph (N). */
  | "graph_ptr"
  | "graph_id";

export type Operand = { kind: "value"; value: Value } | { kind: "graph"; name: GraphBufferName };

/** One 32-bit word of a kernel's parameter block. */
export type ParamWord =
  | { kind: "dim"; dim: Dim }
  | { kind: "offset"; binding: number }
  | { kind: "seed" }
  | { kind: "step" };

/**
 * "uniform": the parameter block, bound at a dynamic offset into the command stream's ring.
 * "immediate": the parameter block as the pass's immediate data (`var<immediate>`, set per
 * dispatch with setImmediates): no binding at all (codegen/params-placement.ts).
 */
export type BindingKind = "read" | "read_write" | "uniform" | "immediate";

export interface BindingSpec {
  name: string;
  kind: BindingKind;
  /** "immediate": the block's size in 32-bit words (the pipeline layout's immediateSize / 4). */
  words?: number;
}

/** Whether a binding is a storage buffer (rather than the parameter block). */
export function isStorageBinding(b: BindingSpec): boolean {
  return b.kind === "read" || b.kind === "read_write";
}

/** How many invocations a dispatch needs, as a formula of the data's sizes. */
export interface Grid {
  /** A readable formula for manifest.json, e.g. "N*32" or "ceil(N/256)*64". */
  formula: string;
  threads(dims: Readonly<Record<string, number>>): number;
}

export interface KernelSpec {
  name: string;
  code: string;
  entryPoint: "main";
  bindings: BindingSpec[];
  /** Storage bindings in binding order (binding 0 is the parameter block). */
  operands: Operand[];
  params: ParamWord[];
  workgroupSize: number;
  grid: Grid;
  /** The IR ops this kernel implements, for its header comment and the manifest. */
  implements: string[];
  kind: string;
  /**
   * In-place variants: for an input read only at the element written, the same kernel writing its
   * output over that input. The executor uses one when the input dies at this kernel.
   */
  inPlace: Map<Value, KernelSpec>;
  /**
   * Hand-tuned templates (compiler/codegen/templates) bring their own parameter block and dispatch shape;
   * generated kernels leave this undefined and use `params` and `grid`.
   */
  custom?: CustomLaunch;
  /**
   * How the kernel runs on a range of rows of one operand, for an operand the runtime holds in
   * row chunks (a dense feature matrix over the binding limit): one dispatch per chunk, with the
   * row symbol bound to the chunk's rows, the chunk bound at offset 0 and the other operands'
   * offsets moved to the range. Absent: the kernel reads its operands whole.
   */
  rowRange?: RowRangeLaunch;
}

export interface RowRangeLaunch {
  /** The operand (index into `operands`) read by rows. */
  operand: number;
  /** The symbol of its rows (e.g. "N"): bound to the range's row count for each dispatch. */
  dim: string;
  /** Ranges must start at a multiple of this many rows (a split-K matmul's chunk of rows). */
  align: number;
  /**
   * Element offsets to add to each operand's view (operand order) for a range starting at row
   * `start`; the entry of the chunked operand itself is not used.
   */
  shift(dims: Readonly<Record<string, number>>, start: number): number[];
}

export interface LaunchContext {
  dims: Readonly<Record<string, number>>;
  /** Element offsets of the operands' views, in operand order. */
  offsets: readonly number[];
}

export interface CustomLaunch {
  params(ctx: LaunchContext): Uint32Array;
  dispatch(ctx: LaunchContext): [number, number, number];
  /** The parameter block's fields, in order (for manifest.json). */
  fields: string[];
}

/** A WGSL module as the runtime compiles it. */
export interface KernelSource {
  code: string;
  entryPoint: string;
  bindings: readonly BindingSpec[];
  /** For error messages and GPU debug labels. */
  label?: string;
}

/** How a fixpoint step iterates (the attributes of the IR `fixpoint` op). */
export interface FixpointAttrs {
  tol: number;
  maxIter: number;
  solver: "picard" | "anderson";
  /** Anderson: how many past iterates the least-squares mixing uses. */
  memory: number;
  /** A tag for the statistics the run reports ("forward", "backward"). */
  tag: string;
}

// ---- Host-side computations -----------------------------------------------------------------

/** The largest finite float32, as float64: the sentinel of max reductions on both sides. */
export const FLT_MAX = 3.4028234663852886e38;

/**
 * Anderson weights from the Gram matrix G = RᵀR of the residual history: minimise ‖Σ αᵢ rᵢ‖
 * subject to Σ αᵢ = 1, i.e. (G + λI) a = 1, α = a / Σ a. The GPU runtime computes G with kernels
 * and solves this small system on the host with the same function.
 */
export function andersonWeightsFromGram(gram: number[][]): number[] {
  const m = gram.length;
  const G = gram.map((row) => [...row]);
  const scale = Math.max(...G.map((row, i) => row[i]!), 1e-300);
  for (let i = 0; i < m; i++) G[i]![i]! += 1e-10 * scale;
  const rhs = new Array<number>(m).fill(1);
  // Gaussian elimination with partial pivoting (m ≤ 10).
  const A = G.map((row, i) => [...row, rhs[i]!]);
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r;
    [A[c], A[p]] = [A[p]!, A[c]!];
    for (let r = c + 1; r < m; r++) {
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= m; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  const a = new Array<number>(m).fill(0);
  for (let r = m - 1; r >= 0; r--) {
    let s = A[r]![m]!;
    for (let k = r + 1; k < m; k++) s -= A[r]![k]! * a[k]!;
    a[r] = s / A[r]![r]!;
  }
  const total = a.reduce((x, y) => x + y, 0);
  return a.map((x) => x / total);
}
