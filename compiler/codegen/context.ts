// What a kernel builder needs from the code generator, passed explicitly: the block's partition
// (which values have buffers, who produces each value), registration of finished kernels (shared
// text is compiled once), kernel naming (a counter over the whole program, so names are stable),
// and the workspace for scratch buffers such as partial sums. Also the small helpers every
// builder uses: how to read an op's lowering and how to address a row.
import { edgeDim } from "../ir/dims.js";
import { getOp } from "../ir/registry.js";
import type { Dim, Op, Value } from "../ir/types.js";
import type { Lowering } from "../ir/op-def.js";
import type { KernelSpec, Program } from "../contract.js";
import { ExprEmitter, type RowRef, type Sink } from "./expr.js";
import type { KernelBuilder } from "./kernel-builder.js";

export interface KernelContext {
  /** The op that computes each value of the block. */
  readonly producer: Map<Value, Op>;
  /** Values with a buffer; the others are recomputed inside the kernels that read them. */
  readonly materialised: Set<Value>;
  /** Scratch buffers the program allocates (partial sums). */
  readonly workspace: Program["workspace"];
  /** The instance of a finished kernel to put in a step (kernels with the same text are shared). */
  register(spec: KernelSpec): KernelSpec;
  /** A program-unique kernel name. */
  name(kind: string, hint?: string): string;
  /** WGSL for a row loop's trip count (see Tuning.rowLoopCounts). */
  loopCount(kb: KernelBuilder, cols: Dim): string;
  /**
   * Consecutive columns a graph, map or column-sum invocation (or a row loop's iteration)
   * computes over rows `width` wide (Tuning.columnsPerInvocation; 1 where `width` does not allow).
   */
  columnsPerInvocation(width: Dim): number;
}

/**
 * The column expressions of `per` consecutive columns starting `lo` after `base`: `base` itself
 * (when lo = 0), then `(base + k)`. Emitted at these coordinates, what does not depend on the
 * column is shared (the emitter memoises by coordinate).
 */
export function columnRun(base: string, per: number, lo = 0): string[] {
  return Array.from({ length: per }, (_, j) => (lo + j ? `(${base} + ${lo + j}u)` : base));
}

/** Invocations per workgroup of the element-parallel kernels. */
export const WORKGROUP = 256;

/** An op's lowering, which the caller knows to be of the given kind (the scheduler chose by it). */
export function loweringOf<K extends Lowering["kind"]>(
  op: Op,
  kind: K,
): Extract<Lowering, { kind: K }> {
  const lowering = getOp(op.opcode).lowering;
  if (lowering.kind !== kind) throw new Error(`codegen: ${op.opcode} is not a ${kind} op`);
  return lowering as Extract<Lowering, { kind: K }>;
}

export function isEdgeDim(d: Dim | undefined): boolean {
  return d === edgeDim(false) || d === edgeDim(true);
}

/** A coordinate for rows of `rows` (node rows, or edges read through the edge arrays). */
export function rowRef(kb: KernelBuilder, rows: Dim, expr: string, level: number): RowRef {
  if (!isEdgeDim(rows)) return { kind: "index", expr, level };
  const loops = rows === edgeDim(true);
  const src = `${kb.graph(loops ? "edge_src_loops" : "edge_src")}[${expr}]`;
  const dst = `${kb.graph(loops ? "edge_dst_loops" : "edge_dst")}[${expr}]`;
  return { kind: "edge", src, dst, id: expr, level, srcLevel: level, dstLevel: level };
}

/** An expression emitter that reads the context's materialised values and inlines the rest. */
export function emitter(
  ctx: KernelContext,
  kb: KernelBuilder,
  sinks: Sink[],
  prefix = "",
  materialised: Set<Value> = ctx.materialised,
): ExprEmitter {
  return new ExprEmitter(kb, (v) => materialised.has(v), ctx.producer, sinks, prefix);
}
