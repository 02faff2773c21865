// What defines an IR op: its shape rule, its float64 reference semantics, its VJP rule written in
// IR ops, and its WGSL lowering — the four things, in one place (one object per op in ops/*.ts) —
// and every fact a pass needs about it (sign, inverse, column layout, what its lowering reads,
// whether it is worth storing). Passes ask the definition, never the op's name.
import type { DimBindings } from "./dims.js";
import type { AdOptions } from "../autodiff/options.js";
import type { GraphBuilder } from "./graph-builder.js";
import type { Tensor } from "./tensor.js";
import type { Attrs, Graph, Op, Shape, Value } from "./types.js";
import type { SignRule } from "./sign.js";

/** Edge lists of the graph a program runs on, in CSR (destination-major) order. */
export interface EdgeList {
  numNodes: number;
  numEdges: number;
  src: Uint32Array;
  dst: Uint32Array;
}

/** The graph as the interpreter sees it: the base edges and the variant with self loops. */
export interface GraphView {
  numNodes: number;
  base: EdgeList;
  withLoops: EdgeList;
  /** In-degree without self loops. */
  inDegree: Float64Array;
  outDegree: Float64Array;
  /**
   * A batch of graphs as one disjoint union: graph g owns nodes [graphPtr[g], graphPtr[g+1])
   * (G + 1 offsets). Absent: the whole graph is one graph.
   */
  graphPtr?: Uint32Array;
}

export interface EvalContext {
  dims: DimBindings;
  graph?: GraphView;
  /** Dropout stream keys: a run's seed and the optimizer step. */
  seed: number;
  step: number;
  /** Evaluates a region (scan bodies, reversible statements, fixpoint cells). */
  runRegion(region: Graph, inputs: Tensor[]): Tensor[];
  /** Statistics the control ops report (fixpoint iterations and residuals). */
  record?(event: string, data: Record<string, number>): void;
}

/** Operand cotangents from result cotangents; `undefined` stands for a zero cotangent. */
export type VjpRule = (
  b: GraphBuilder,
  op: { inputs: Value[]; outputs: Value[]; attrs: Attrs; regions: Graph[]; source: Op },
  outputCotangents: (Value | undefined)[],
) => (Value | undefined)[];

/**
 * The VJP of an op with regions (scan, rev_block, fixpoint). Unlike a VjpRule it also decides what
 * the forward pass keeps: `forward` emits the op (or an augmented form that also returns
 * residuals) and hands `saved` to its `backward`. The autodiff core calls it like any other rule.
 */
export interface RegionVjpRule {
  forward(
    b: GraphBuilder,
    op: Op,
    inputs: Value[],
    opts: AdOptions,
  ): { outputs: Value[]; saved: unknown };
  backward(
    b: GraphBuilder,
    op: Op,
    inputs: Value[],
    outputs: Value[],
    saved: unknown,
    douts: (Value | undefined)[],
    opts: AdOptions,
  ): (Value | undefined)[];
}

/** Columns [start, start+len) of a matrix. */
export interface ColumnRange {
  start: number;
  len: number;
}

/**
 * How the result's columns (channels) are the operands' columns, for ops that move channels
 * without mixing them (exact mode follows the carried state's channels through these):
 *   same    column c of the result is column c of operand 0 (values may change, not places);
 *   concat  the operands' columns side by side, in operand order;
 *   slice   a range of operand 0's columns.
 */
export type ColumnLayout =
  { kind: "same" } | { kind: "concat" } | ({ kind: "slice" } & ColumnRange);

/**
 * How an op is undone when a reversible loop body is inverted (../inverse/rev-backward.ts walks
 * the ops the carried state flows through in reverse; an op without a rule stops the derivation):
 *   operands  the operands follow from the result alone: `rebuild` emits them;
 *   slice     the result is a range of operand 0's columns: slices that together cover the operand
 *             rebuild it (concatenated in column order);
 *   block     the first `numVars` operands are invertible given the others (rev_block), which
 *             must not depend on the state; the block is undone statement by statement.
 */
export type InverseRule =
  | { kind: "operands"; rebuild(b: GraphBuilder, op: Op, result: Value): Value[] }
  | { kind: "slice"; range(attrs: Attrs): ColumnRange }
  | { kind: "block"; numVars(attrs: Attrs): number };

/**
 * What an elementwise lowering reads besides its operands at the current element, which decides
 * how deep in the generated loops its expression can be hoisted:
 *   linear-index  the element's linear index (`ctx.index`: counter-based RNG streams, iota);
 *   coordinates   the element's row and column (`ctx.row`, `ctx.col`, other columns of an operand
 *                 through `readAt`, graph buffers at the row).
 */
export type ElementReads = "linear-index" | "coordinates";

/** Context the WGSL generator gives an elementwise lowering. */
export interface ElementwiseEmitContext {
  /**
   * WGSL f32 expressions of the operands at the current element (broadcast applied), emitted
   * when first read: a lowering that reads its operands elsewhere (readAt, readColumn) never
   * makes the generator read them here, where a narrower operand or a weight read at an edge's
   * row has no element.
   */
  args: string[];
  attrs: Attrs;
  /** WGSL u32 expressions of the current element's coordinates and linear index. */
  row: string;
  col: string;
  /** The values `col` takes, [lo, hi), where the kernel knows them (see Coord.range). */
  colRange?: readonly [number, number];
  index: string;
  /** Number of operands (reading `args` to count them would emit them all). */
  arity: number;
  /**
   * Reads operand `i` at another element: `row` is either the current row (`ctx.row`) or one made
   * only of the column and constants (a weight's row), which is read once per column. `range`:
   * the values `col` takes there, when known.
   */
  readAt(i: number, row: string, col: string, range?: readonly [number, number]): string;
  /** Reads operand `i` at another column of the current row (an edge row stays an edge row). */
  readColumn(i: number, col: string): string;
  /** WGSL literal for a float. */
  f32(x: number): string;
  /** Per-dispatch uniforms the kernel receives (dropout keys, graph sizes). */
  uniform(name: "seed" | "step"): string;
  /** Reads a graph buffer at a node (degrees are f32; graph_ptr, the batch's node offsets, u32). */
  graphRead(buffer: "in_degree" | "out_degree" | "graph_ptr", node: string): string;
  /** Number of columns of operand i (for layout ops). */
  cols(i: number): string;
  /** The same as a number, when it is one (not a symbolic size). */
  colCount(i: number): number | undefined;
  /** WGSL u32 expression of a dimension's value (N, E, F, "E+N", 64, …). */
  dim(d: string | number): string;
}

/** How a reduction combines: a sum, a maximum, or the index of the first maximum (row only). */
export type ReduceCombine = "sum" | "max" | "argmax";

export type Lowering =
  /** A scalar function of its operands at one element (broadcast), possibly reading indices. */
  | {
      kind: "elementwise";
      emit(ctx: ElementwiseEmitContext): string;
      reads?: ElementReads;
    }
  /** Reductions along the last axis (row), the first axis (col) or all of it. */
  | { kind: "reduce"; axis: "row" | "col" | "all"; combine: ReduceCombine }
  | { kind: "matmul" }
  /**
   * Reads a node tensor at an edge endpoint (fused into graph kernels); `at: "graph"`: reads, at
   * each node, the row of its graph in a batch (ops/pool.ts).
   */
  | { kind: "gather"; at?: "graph" }
  /**
   * Reduces edge values into nodes by destination (CSR) or source (CSC); `over: "node_ranges"`:
   * reduces the contiguous node range of each graph of a batch into one row (ops/pool.ts).
   */
  | { kind: "segment"; combine: "sum" | "max"; over?: "node_ranges" }
  /** Scan, reversible blocks and fixpoints: lowered by the scheduler, not into one kernel. */
  | { kind: "control" }
  /** Reshape: a view, no kernel. */
  | { kind: "view" };

export interface OpDef {
  readonly name: string;
  /** One line for the language reference and the printer. */
  readonly doc: string;
  /** Output shapes, or an error message for the user (shapes are symbolic). */
  shape(inputs: Shape[], attrs: Attrs, regions: Graph[]): Shape[] | string;
  /** float64 reference semantics. */
  evaluate(inputs: Tensor[], attrs: Attrs, ctx: EvalContext, regions: Graph[]): Tensor[];
  /** Reverse-mode rule in IR ops. Absent for ops with zero derivative (comparisons, masks). */
  readonly vjp?: VjpRule;
  /** Reverse-mode rule of an op with regions; replaces `vjp` there. */
  readonly regionVjp?: RegionVjpRule;
  /** True when every operand's cotangent is zero (step functions, comparisons). */
  readonly zeroGradient?: boolean;
  /**
   * The result's sign from the operands' (./sign.ts), for invertibility proofs: a reversible
   * `x *= e` needs e provably nonzero. Absent: nothing is known.
   */
  readonly sign?: SignRule;
  /** How the op is undone in a reversible loop body; absent: it is not invertible. */
  readonly inverse?: InverseRule;
  /** How the result's columns are the operands' (layout ops); absent: the op mixes channels. */
  readonly columns?: (attrs: Attrs) => ColumnLayout;
  /**
   * Column edges of the result, given the operands' column counts, between which the lowering
   * reads one operand (or none) without selecting, once it knows the column's range
   * (ElementwiseEmitContext.colRange): the code generator splits row loops there.
   */
  readonly columnEdges?: (attrs: Attrs, widths: number[]) => number[];
  /**
   * The result is operand 0 repeated along the dimensions it stretches (broadcast): storing the
   * operand keeps the same information in fewer bytes, so a shared result gets no buffer of its
   * own; the operand gets one.
   */
  readonly repeatsOperand?: boolean;
  /**
   * Rounds onto exact mode's fixed-point grid (`quantize`): exact mode recognises a loop whose
   * carried state enters rounded by it.
   */
  readonly roundsToGrid?: boolean;
  /**
   * Never worth storing for a backward pass: the result is regenerated from the attributes, the
   * run's RNG keys and scalar operands (dropout masks), so a stored-activation scan recomputes it.
   */
  readonly cheapToRecompute?: boolean;
  /**
   * The result is loop bookkeeping (iteration numbers), not an activation: the runtime accounts
   * its memory as workspace.
   */
  readonly bookkeeping?: boolean;
  readonly lowering: Lowering;
}
