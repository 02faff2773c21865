// Reductions: row reductions run one invocation per row (rows.ts); column and full sums run as a
// deterministic two-stage pair built here: stage 1 sums chunks of CHUNK_ROWS rows into partials
// [ceil(R/CHUNK_ROWS), n], stage 2 adds each column's partials in a fixed order. No atomics, so
// the result does not depend on scheduling. One builder serves a lone sum and a group of sums over
// the same rows (the bias and gain gradients of a block, fused on CPU drivers).
import { dimToString, shapeToString } from "../ir/dims.js";
import { Value, tensorType, type Dim, type Op } from "../ir/types.js";
import type { Grid, Step } from "../contract.js";
import {
  columnRun,
  emitter,
  loweringOf,
  rowRef,
  WORKGROUP,
  type KernelContext,
} from "./context.js";
import type { Coord, Sink } from "./expr.js";
import { gridOf, KernelBuilder } from "./kernel-builder.js";
import { rowKernel } from "./rows.js";

/** Rows per partial sum in column reductions: bounds the serial loop of each invocation. */
const CHUNK_ROWS = 256;

/**
 * Workgroup of stage 1 when it computes several columns per invocation (CPU drivers): lavapipe
 * runs a workgroup on one thread, and a block's sums over Cora (11 chunks × 8 column runs) make
 * 88 invocations: one workgroup of 256 leaves a core idle. Measured per step at L = 10: 256:
 * 10.2 ms, 64: 8.7 ms, 32: 6.6 ms.
 */
const CPU_PARTIALS_WORKGROUP = 32;

/** The kernels of a reduce op: a row kernel, or a two-stage pair for a column or full sum. */
export function reduceKernels(ctx: KernelContext, op: Op): Step[] {
  const lowering = loweringOf(op, "reduce");
  if (lowering.axis === "row") return [rowKernel(ctx, op, lowering.combine)];
  return columnKernels(ctx, op, lowering.axis);
}

/** col_sum [R, n] → [n] and sum_all (of any rank, viewed as rows × cols). */
function columnKernels(ctx: KernelContext, op: Op, axis: "col" | "all"): Step[] {
  const out = op.outputs[0]!;
  const s = op.inputs[0]!.shape;
  // View the input as rows × cols; a flat view for ranks other than 2.
  const rank2 = s.length === 2;
  const rows: Dim = rank2
    ? s[0]!
    : s.length === 0
      ? 1
      : (s.reduce((a, d) =>
          typeof a === "number" && typeof d === "number" ? a * d : `${a}*${d}`,
        ) as Dim);
  const cols: Dim = rank2 ? s[1]! : 1;
  const at = (kb: KernelBuilder, col: string): Coord =>
    rank2
      ? { row: rowRef(kb, rows, "r", 1), col, colLevel: 0 }
      : s.length === 1
        ? { col: "r", colLevel: 1 }
        : s.length === 0
          ? { colLevel: 0 }
          : { flat: "r", colLevel: 1 };
  return chunkedSums(
    ctx,
    {
      dim: rows,
      wgsl: (kb) => (rank2 || s.length === 0 ? kb.dim(rows) : s.map((d) => kb.dim(d)).join(" * ")),
    },
    [{ op, axis, cols, at }],
    {
      kinds: ["column_reduce_partials", "column_reduce_final"],
      names: ["colsum_partials", "colsum_final"],
      hint: out.hint,
      headers: [
        `${op.opcode} ${shapeToString(s)} → ${shapeToString(out.shape)}, stage 1 of 2`,
        `${op.opcode}, stage 2 of 2`,
      ],
    },
  );
}

/**
 * Several column reductions over the same rows [R, nᵢ] in one pair of kernels: stage 1 sums every
 * member's chunk of rows per column into its partials, stage 2 adds each member's partials in
 * order. Deterministic, like the single ones.
 */
export function columnProgram(ctx: KernelContext, ops: Op[]): Step[] {
  const rows = ops[0]!.inputs[0]!.shape[0]!;
  const sums = ops.map((op): ChunkedSum => ({
    op,
    axis: loweringOf(op, "reduce").axis === "col" ? "col" : "all",
    cols: op.inputs[0]!.shape[1]!,
    at: (kb, col) => ({ row: rowRef(kb, rows, "r", 1), col, colLevel: 0 }),
  }));
  return chunkedSums(ctx, { dim: rows, wgsl: (kb) => kb.dim(rows) }, sums, {
    kinds: ["column_program_partials", "column_program_final"],
    names: ["colsums_partials", "colsums_final"],
    headers: [
      `${ops.length} column reductions over ${dimToString(rows)} rows, stage 1 of 2`,
      `${ops.length} column reductions, stage 2 of 2`,
    ],
  });
}

/** One sum of a chunked pair: op's input viewed as rows × cols, summed per column or in total. */
interface ChunkedSum {
  op: Op;
  axis: "col" | "all";
  cols: Dim;
  /** Where element (r, col) of the rows × cols view is, for a column expression `col`. */
  at: (kb: KernelBuilder, col: string) => Coord;
}

/** The rows every sum of a pair shares: the dimension, and its WGSL in a given kernel. */
interface RowsView {
  dim: Dim;
  wgsl: (kb: KernelBuilder) => string;
}

/** Kernel kinds, name stems, name hint and header lines of stages 1 and 2. */
interface PairLabels {
  kinds: [string, string];
  names: [string, string];
  hint?: string;
  headers: [string, string];
}

/**
 * The chunked two-stage sum. One invocation of stage 1 per (chunk of CHUNK_ROWS rows, column of
 * the widest sum) writes one partial per sum; one invocation of stage 2 per column adds that
 * column's partials in chunk order (a total adds all partials, in one invocation).
 */
function chunkedSums(
  ctx: KernelContext,
  rows: RowsView,
  sums: ChunkedSum[],
  labels: PairLabels,
): Step[] {
  const layout = layoutOf(sums);
  const stage1 = partialSums(ctx, rows, sums, labels, layout);
  const stage2 = finalSums(ctx, rows, sums, stage1.partials, labels, layout);
  return [stage1.step, stage2];
}

/**
 * How the members share a kernel body. A lone sum is laid out with early returns and plain
 * names; several share the index decoding, guard their own columns and number their names.
 */
interface Layout {
  several: boolean;
  /** Indentation of a member's statements. */
  indent: string;
  /** The accumulator of member i. */
  acc: (i: number) => string;
  /** Prefix of member i's temporaries. */
  prefix: (i: number) => string;
  /** Invocations across columns: the widest member's width (symbolic widths: at dispatch). */
  columns: Grid;
}

function layoutOf(sums: ChunkedSum[]): Layout {
  const several = sums.length > 1;
  const widthGrids = sums.map((s) => gridOf([s.cols]));
  const widths = [...new Set(sums.map((s) => dimToString(s.cols)))];
  return {
    several,
    indent: several ? "    " : "  ",
    acc: (i) => (several ? `acc${i}` : "acc"),
    prefix: (i) => (several ? `m${i}_` : ""),
    columns: {
      // A group always says max(…), even of one distinct width.
      formula: several ? `max(${widths.join(", ")})` : widths[0]!,
      threads: (b) => Math.max(...widthGrids.map((g) => g.threads(b))),
    },
  };
}

/** `((R + CHUNK_ROWS − 1) / CHUNK_ROWS)`: the number of chunks of R rows, in WGSL. */
function chunkCount(R: string): string {
  return `((${R} + ${CHUNK_ROWS - 1}u) / ${CHUNK_ROWS}u)`;
}

/** Stage 1: each member's sum over each chunk of rows, per column, into its partials. */
function partialSums(
  ctx: KernelContext,
  rows: RowsView,
  sums: ChunkedSum[],
  labels: PairLabels,
  layout: Layout,
): { step: Step; partials: Value[] } {
  const { indent } = layout;
  const kb = new KernelBuilder(labels.kinds[0]);
  const R = rows.wgsl(kb);
  // Consecutive columns per invocation (CPU drivers) when every member's width allows: the row
  // loop's index arithmetic and per-row values are shared.
  const widths = sums.map((s) => s.cols);
  const numeric = widths.every((w) => typeof w === "number") ? (widths as number[]) : undefined;
  const per = numeric ? Math.min(...numeric.map((w) => ctx.columnsPerInvocation(w))) : 1;
  // Invocations across the columns: runs of `per` over the widest member, or one per column.
  const runs = per > 1 ? Math.max(...numeric!) / per : 0;
  const columns: Grid = per > 1 ? { formula: String(runs), threads: () => runs } : layout.columns;
  const C =
    per > 1 ? kb.dim(runs) : sums.map((s) => kb.dim(s.cols)).reduce((a, b) => `max(${a}, ${b})`);
  const decode = [
    per > 1 ? `  let col = (idx % ${C}) * ${per}u;` : `  let col = idx % ${C};`,
    `  let chunk = idx / ${C};`,
    `  if (chunk >= ${chunkCount(R)}) { return; }`,
  ];
  const cols = columnRun("col", per);
  const range = [
    `  let r0 = chunk * ${CHUNK_ROWS}u;`,
    `  let r1 = min(r0 + ${CHUNK_ROWS}u, ${R});`,
  ];
  const chunksOf = (b: Readonly<Record<string, number>>) =>
    Math.max(1, Math.ceil(gridOf([rows.dim]).threads(b) / CHUNK_ROWS));
  const members = sums.map((s, i) => {
    kb.implements.push(s.op.opcode);
    const hoisted: Sink = { lines: [], indent };
    const inner: Sink = { lines: [], indent: indent + "  " };
    const ex = emitter(ctx, kb, [hoisted, inner], layout.prefix(i));
    const vals = cols.map((col) => ex.at(s.op.inputs[0]!, s.at(kb, col)));
    const partial = new Value(tensorType([]), `${s.op.outputs[0]!.hint ?? "sum"}_partials`);
    ctx.workspace.set(partial, {
      formula: `ceil(${dimToString(rows.dim)}/${CHUNK_ROWS})*${dimToString(s.cols)}`,
      elements: (d) => chunksOf(d) * gridOf([s.cols]).threads(d),
    });
    const p = kb.value(partial, "read_write");
    const W = kb.dim(s.cols);
    const accs = vals.map((_, j) => (per > 1 ? `${layout.acc(i)}_${j}` : layout.acc(i)));
    const loop = [
      ...accs.map((a) => `${indent}var ${a} = 0.0;`),
      `${indent}for (var r = r0; r < r1; r = r + 1u) {`,
      ...inner.lines,
      ...accs.map((a, j) => `${indent}  ${a} = ${a} + ${vals[j]};`),
      `${indent}}`,
      ...accs.map(
        (a, j) => `${indent}${p}[${kb.offset(partial)} + chunk * ${W} + ${cols[j]}] = ${a};`,
      ),
    ];
    return { partial, W, hoisted: hoisted.lines, loop };
  });
  const body = layout.several
    ? [
        ...decode,
        ...range,
        ...members.flatMap((m) => [`  if (col < ${m.W}) {`, ...m.hoisted, ...m.loop, "  }"]),
      ]
    : [...decode, ...members[0]!.hoisted, ...range, ...members[0]!.loop];
  const grid: Grid = {
    formula: `ceil(${dimToString(rows.dim)}/${CHUNK_ROWS})*${columns.formula}`,
    threads: (b) => chunksOf(b) * columns.threads(b),
  };
  const name = ctx.name(labels.names[0], labels.hint);
  const kernel = ctx.register(
    kb.finish(
      name,
      body.join("\n"),
      per > 1 ? CPU_PARTIALS_WORKGROUP : WORKGROUP,
      [labels.headers[0]],
      grid,
    ),
  );
  const partials = members.map((m) => m.partial);
  return { step: { kind: "kernel", kernel, writes: partials }, partials };
}

/** Stage 2: each member's partials added in chunk order, per column (or all of them, for a total). */
function finalSums(
  ctx: KernelContext,
  rows: RowsView,
  sums: ChunkedSum[],
  partials: Value[],
  labels: PairLabels,
  layout: Layout,
): Step {
  const { indent } = layout;
  const kb = new KernelBuilder(labels.kinds[1]);
  const body = sums.flatMap((s, i) => {
    kb.implements.push(s.op.opcode);
    const partial = partials[i]!;
    const out = s.op.outputs[0]!;
    const p = kb.value(partial, "read");
    const o = kb.value(out, "read_write");
    const n = chunkCount(rows.wgsl(kb));
    const W = kb.dim(s.cols);
    const acc = layout.acc(i);
    const perColumn = s.axis === "col";
    const read = `${p}[${kb.offset(partial)} + ${perColumn ? `k * ${W} + idx` : "k"}]`;
    const lines = [
      `${indent}var ${acc} = 0.0;`,
      `${indent}for (var k = 0u; k < ${perColumn ? n : `${n} * ${W}`}; k = k + 1u) { ${acc} = ${acc} + ${read}; }`,
      `${indent}${o}[${kb.offset(out)}${perColumn ? " + idx" : ""}] = ${acc};`,
    ];
    if (!layout.several) return [`  if (idx >= ${perColumn ? W : "1u"}) { return; }`, ...lines];
    return [`  if (${perColumn ? `idx < ${W}` : "idx == 0u"}) {`, ...lines, "  }"];
  });
  // A lone total needs one invocation; otherwise one per column of the widest sum.
  const loneTotal = !layout.several && sums[0]!.axis === "all";
  const name = ctx.name(labels.names[1], labels.hint);
  const kernel = ctx.register(
    kb.finish(
      name,
      body.join("\n"),
      loneTotal ? 1 : 64,
      [labels.headers[1]],
      loneTotal ? gridOf([]) : layout.columns,
    ),
  );
  return { kind: "kernel", kernel, writes: sums.map((s) => s.op.outputs[0]!) };
}
