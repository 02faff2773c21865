// Row-local kernels, one invocation per row: a row reduction ([R, n] → [R]), and a run of
// row-local members fused into one kernel (on CPU drivers, where dispatches cost most).
import { dimToString, shapeToString } from "../ir/dims.js";
import type { Dim, Op, Value } from "../ir/types.js";
import type { ReduceCombine } from "../ir/op-def.js";
import type { Step } from "../contract.js";
import {
  columnRun,
  emitter,
  loweringOf,
  rowRef,
  WORKGROUP,
  type KernelContext,
} from "./context.js";
import type { Coord, Sink } from "./expr.js";
import { F32_MAX, gridOf, KernelBuilder } from "./kernel-builder.js";
import { getOp } from "../ir/registry.js";

export type RowMember =
  | { kind: "map"; out: Value; rows: Dim }
  | { kind: "reduce"; op: Op; out: Value; rows: Dim; combine: ReduceCombine };

/** A row-local kernel member: a materialised elementwise [R, n] value or a row reduction. */
export function rowMember(op: Op, kind: string, materialised: Set<Value>): RowMember | undefined {
  const out = op.outputs[0]!;
  if (kind === "reduce") {
    const l = loweringOf(op, "reduce");
    // A reduction into several groups per row (group_sum) keeps its own kernel.
    if (l.axis !== "row" || op.outputs[0]!.shape[1] !== 1) return undefined;
    return { kind: "reduce", op, out, rows: op.inputs[0]!.shape[0]!, combine: l.combine };
  }
  if (
    (kind === "elementwise" || kind === "gather") &&
    materialised.has(out) &&
    out.shape.length === 2
  ) {
    return { kind: "map", out, rows: out.shape[0]! };
  }
  return undefined;
}

/**
 * out[r, g] = ⊕ over the columns of group g of x[r, :]; x's expression inlined. A plain row
 * reduction has one group (the whole row); group_sum has out's column count of them, each as
 * wide as the row divided by that count (the heads of multi-head attention).
 */
export function rowKernel(ctx: KernelContext, op: Op, combine: ReduceCombine): Step {
  const x = op.inputs[0]!;
  const out = op.outputs[0]!;
  const kb = new KernelBuilder("row_reduce");
  kb.implements.push(op.opcode);
  const [rows, cols] = x.shape as [Dim, Dim];
  const groups = out.shape[1] ?? 1;
  const grouped = groups !== 1;
  const outer: Sink = { lines: [], indent: "  " };
  const inner: Sink = { lines: [], indent: "    " };
  const ex = emitter(ctx, kb, [outer, inner]);
  if (grouped) {
    // One invocation per (row, group); the group's columns are consecutive.
    const G = kb.dim(groups);
    outer.lines.push(
      `  if (idx >= ${kb.dim(rows)} * ${G}) { return; }`,
      `  let row = idx / ${G};`,
      `  let group = idx % ${G};`,
      `  let width = ${ctx.loopCount(kb, cols)} / ${G};`,
    );
  } else {
    outer.lines.push(`  if (idx >= ${kb.dim(rows)}) { return; }`, "  let row = idx;");
  }
  const coord: Coord = {
    row: rowRef(kb, rows, "row", 0),
    col: grouped ? "(group * width + c)" : "c",
    colLevel: 1,
  };
  const val = ex.at(x, coord);
  const r = rowReduction(combine, "acc", [val]);
  const o = kb.value(out, "read_write");
  const body = [
    ...outer.lines,
    ...r.init.map((l) => `  ${l}`),
    `  for (var c = 0u; c < ${grouped ? "width" : ctx.loopCount(kb, cols)}; c = c + 1u) {`,
    ...inner.lines,
    ...r.update.map((l) => `    ${l}`),
    "  }",
    `  ${o}[${kb.offset(out)} + ${grouped ? "idx" : "row"}] = ${r.result};`,
  ];
  const name = ctx.name("row_" + combine, out.hint);
  return {
    kind: "kernel",
    kernel: ctx.register(
      kb.finish(
        name,
        body.join("\n"),
        WORKGROUP,
        [`${op.opcode} ${shapeToString(x.shape)} → ${shapeToString(out.shape)}`],
        gridOf(grouped ? [rows, groups] : [rows]),
      ),
    ),
    writes: [out],
  };
}

/**
 * A run of row-local members in one kernel, one invocation per row: each member is a loop over
 * its row (a reduction into a scalar, or an elementwise row written out) in program order, so
 * later members read what earlier ones wrote for the same row. Layer norm forward (mean,
 * variance, normalised output) or backward becomes one dispatch instead of three to five.
 */
export function rowProgram(ctx: KernelContext, members: RowMember[]): Step {
  const kb = new KernelBuilder("row_program");
  const rows = members[0]!.rows;
  const lines: string[] = [`  if (idx >= ${kb.dim(rows)}) { return; }`, "  let row = idx;"];
  members.forEach((m, i) => {
    const outer: Sink = { lines: [], indent: "  " };
    const inner: Sink = { lines: [], indent: "    " };
    const others = new Set(ctx.materialised);
    if (m.kind === "map") others.delete(m.out);
    const ex = emitter(ctx, kb, [outer, inner], `m${i}_`, others);
    const o = kb.value(m.out, "read_write");
    if (m.kind === "reduce") {
      kb.implements.push(m.op.opcode);
      const x = m.op.inputs[0]!;
      const width = x.shape[1]!;
      const per = ctx.columnsPerInvocation(width);
      const vals = columnRun("c", per).map((col) =>
        ex.at(x, { row: rowRef(kb, rows, "row", 0), col, colLevel: 1 }),
      );
      // The columns are folded in in order, as a one-column loop would: the same sum, bitwise.
      const r = rowReduction(m.combine, `acc${i}`, vals);
      lines.push(
        ...outer.lines,
        ...r.init.map((l) => `  ${l}`),
        `  for (var c = 0u; c < ${ctx.loopCount(kb, width)}; c = c + ${per}u) {`,
        ...inner.lines,
        ...r.update.map((l) => `    ${l}`),
        "  }",
        `  ${o}[${kb.offset(m.out)} + row] = ${r.result};`,
      );
      return;
    }
    const cols = m.out.shape[1]!;
    if (cols === 1) {
      const val = ex.at(m.out, { row: rowRef(kb, rows, "row", 0), col: "0u", colLevel: 0 });
      lines.push(...outer.lines, `  ${o}[${kb.offset(m.out)} + row] = ${val};`);
      return;
    }
    // One loop per piece of a concatenation (or a padding) the row is made of: inside a piece
    // the layout ops know which operand they read (Coord.range), so the row computes each
    // piece once instead of every piece at every column and selecting. Each loop takes `per`
    // columns per iteration where the piece's width allows (CPU drivers).
    // A symbolic width is one loop over all of it, a column at a time.
    const pieces: [number, Dim][] = columnPieces(ctx, m.out) ?? [[0, cols]];
    pieces.forEach(([lo, hi], j) => {
      const width = typeof hi === "number" ? hi - lo : hi;
      const pOuter: Sink = { lines: [], indent: "  " };
      const pInner: Sink = { lines: [], indent: "    " };
      const pex =
        pieces.length === 1 ? ex : emitter(ctx, kb, [pOuter, pInner], `m${i}p${j}_`, others);
      const [pre, body] = pieces.length === 1 ? [outer, inner] : [pOuter, pInner];
      const per = ctx.columnsPerInvocation(width);
      const colsAt = columnRun("c", per, lo);
      const vals = colsAt.map((col) =>
        pex.at(m.out, {
          row: rowRef(kb, rows, "row", 0),
          col,
          colLevel: 1,
          ...(pieces.length > 1 ? { range: [lo, hi as number] as const } : {}),
        }),
      );
      lines.push(
        ...pre.lines,
        `  for (var c = 0u; c < ${ctx.loopCount(kb, width)}; c = c + ${per}u) {`,
        ...body.lines,
        ...vals.map(
          (val, k) =>
            `    ${o}[${kb.offset(m.out)} + row * ${kb.dim(cols)} + ${colsAt[k]}] = ${val};`,
        ),
        "  }",
      );
    });
  });
  const name = ctx.name("rows", members[members.length - 1]!.out.hint);
  const header = [
    `${members.length} row-local results over ${dimToString(rows)} rows, one invocation per row`,
  ];
  return {
    kind: "kernel",
    kernel: ctx.register(kb.finish(name, lines.join("\n"), WORKGROUP, header, gridOf([rows]))),
    writes: members.map((m) => m.out),
  };
}

/**
 * The column ranges a row loop over `out` splits into: the edges of the concatenations and
 * paddings as wide as `out` that its inlined expression is built from (numeric widths only).
 * One range (no split) when there are none; undefined when `out`'s width is symbolic.
 */
export function columnPieces(ctx: KernelContext, out: Value): [number, number][] | undefined {
  const width = out.shape[1];
  if (typeof width !== "number") return undefined;
  const edges = new Set<number>([0, width]);
  const seen = new Set<Value>();
  const visit = (v: Value, top: boolean) => {
    if (seen.has(v) || (!top && ctx.materialised.has(v))) return;
    seen.add(v);
    const op = ctx.producer.get(v);
    const def = op && getOp(op.opcode);
    if (!op || def!.lowering.kind !== "elementwise") return;
    const widths = op.inputs.map((x) => x.shape[1]);
    const edgesOf = def!.columnEdges;
    if (edgesOf && v.shape[1] === width && widths.every((w) => typeof w === "number"))
      for (const e of edgesOf(op.attrs, widths as number[])) edges.add(e);
    for (const x of op.inputs) visit(x, false);
  };
  visit(out, true);
  const sorted = [...edges].filter((e) => e >= 0 && e <= width).sort((a, b) => a - b);
  // Many pieces would mean many loops for little gain (and long compiles): keep one loop.
  if (sorted.length > 5) return [[0, width]];
  return sorted.slice(1).map((hi, k) => [sorted[k]!, hi]);
}

/**
 * A row reduction's WGSL inside `for (var c = 0u; c < cols; c += vals.length)`: declarations
 * before the loop, the updates of the iteration's column values `vals` (in column order), and the
 * row's result. argmax starts at −FLT_MAX and moves only on a strictly greater value: the first
 * maximum, as the interpreter's row_argmax.
 */
function rowReduction(
  combine: ReduceCombine,
  acc: string,
  vals: string[],
): { init: string[]; update: string[]; result: string } {
  switch (combine) {
    case "sum":
      return {
        init: [`var ${acc} = 0.0;`],
        update: vals.map((v) => `${acc} = ${acc} + ${v};`),
        result: acc,
      };
    case "max":
      return {
        init: [`var ${acc} = -${F32_MAX};`],
        update: vals.map((v) => `${acc} = max(${acc}, ${v});`),
        result: acc,
      };
    case "argmax":
      return {
        init: [`var ${acc} = -${F32_MAX};`, `var ${acc}_at = 0u;`],
        update: vals.map(
          (v, k) =>
            `{ let ${acc}_v = ${v}; if (${acc}_v > ${acc}) { ${acc} = ${acc}_v; ${acc}_at = c${k ? ` + ${k}u` : ""}; } }`,
        ),
        result: `f32(${acc}_at)`,
      };
  }
}
