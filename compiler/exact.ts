// Exact mode (`--exact`): the residual stream of every reversible loop on the grid of multiples of
// 2^-bits, which float32 holds exactly only within ±2^(24−bits). Two things decide whether a grid
// is usable: its range must hold the largest state of any block (beyond it the state becomes NaN),
// and rounding must not change the model much. This file builds the programs that measure both at
// given weights, and the rewrite that keeps the stack's input itself off the grid.
import { Builder } from "./ir/builder.js";
import { inlineGraph } from "./ir/inline.js";
import type { ColumnLayout } from "./ir/op-def.js";
import { isRevBlock, isScan, revStatements, scanAttrs } from "./ir/ops/control.js";
import { getOp } from "./ir/registry.js";
import { Graph, Op, Value, tensorType } from "./ir/types.js";
import { isReversibleScan, mapReversibleScans } from "./drift.js";

/** Fractional bits exact mode can use: 0 (integers, range ±2^24) to 23 (range ±2). */
export const EXACT_MAX_BITS = 23;

/** The range of the 2^-bits grid in float32: |x| < 2^(24−bits). */
export const exactRange = (bits: number): number => 2 ** (24 - bits);

export interface ExactRangeGraph {
  /**
   * inputs  the model's inputs (data, parameters)
   * outputs [loss, then per reversible loop: largest |state| after each block [L], largest |input|]
   */
  graph: Graph;
  scans: { label: string; count: number }[];
}

/** max |x| over a matrix, as a scalar. */
function maxAbs(b: Builder, x: Value): Value {
  const rows = b.op("row_max", [b.unary("abs", x)]);
  const flat = b.op("reshape", [rows], { shape: [1, rows.shape[0]!] });
  return b.op("reshape", [b.op("row_max", [flat])], { shape: [] });
}

/**
 * A forward pass of the float model (compiled without --exact) recording the largest |state| of
 * every reversible loop, block by block: one pass, no stored activations (memory is a step's, not
 * O(L)).
 */
export function exactRangeGraph(model: Graph): ExactRangeGraph {
  return mapReversibleScans(model, "exact_range", [], (b, op, ins) => {
    const nc = scanAttrs(op.attrs).numCarry;
    const body = op.regions[0]!;
    // The body with one more (stacked) output: the largest |state| after the block.
    const kept = new Graph(body.name, body.inputs);
    kept.ops.push(...body.ops);
    const kb = new Builder(kept);
    let largest = maxAbs(kb, body.outputs[0]!);
    for (const v of body.outputs.slice(1, nc)) largest = kb.op("maximum", [largest, maxAbs(kb, v)]);
    kept.outputs = [...body.outputs, largest];
    const outs = b.emit("scan", ins, op.attrs, [kept]);
    let inputMax = maxAbs(b, ins[0]!);
    for (const x of ins.slice(1, nc)) inputMax = b.op("maximum", [inputMax, maxAbs(b, x)]);
    return { outputs: outs.slice(0, op.outputs.length), measures: [outs[nc]!, inputMax] };
  });
}

/**
 * The float and the exact model side by side on the same inputs (evaluation graphs: no dropout,
 * so both see the same computation): outputs [Σ (P_exact − P_float)², Σ P_float², loss_float,
 * loss_exact], P the prediction (logits) — how much the grid changes the model's output.
 */
export function exactChangeGraph(float: Graph, exact: Graph): Graph {
  const inputs = float.inputs.map((v) => new Value(tensorType(v.shape), v.hint));
  const g = new Graph(`${float.name}_exact_change`, inputs);
  const b = new Builder(g);
  const [lf, pf] = inlineGraph(b, float, inputs) as [Value, Value];
  const [le, pe] = inlineGraph(b, exact, inputs) as [Value, Value];
  g.outputs = [
    b.op("sum_all", [b.unary("square", b.sub(pe, pf))]),
    b.op("sum_all", [b.unary("square", pf)]),
    lf,
    le,
  ];
  return g;
}

// ---- the stack's input off the grid ---------------------------------------------------------
//
// Quantising the stack's input changes the model where the input is small: `x·W_in` on
// row-normalised bag-of-words features is ~4e-3, and a 2^-14 grid moves it by 1.8e-3 (relative),
// which moved RevGCN's gradients on Cora by 3 %. The grid is only needed for what the blocks
// ADD: x_{l+1} = x_l + round(g(x_l)) is undone exactly by x_l = x_{l+1} − round(g(x_l)) as long
// as both sides sit on the grid. So the input h is split once, before the loop, into its grid
// part s = round(h) and the residual r = h − s; the loop carries s (on the grid: updates and
// their inverses stay exact), every update reads s + r (the true state, so the blocks see the
// float model's input), and after the loop the program continues with s_L + r. The only change
// to the model left is the rounding of each update, small against updates of size O(1). The
// residual is a loop constant ([N, D] memory, O(1) in L); its gradient is not needed — with the
// rounding's straight-through derivative, d(h − round(h))/dh = 0 — so it is read through a
// stop_gradient.

/** Columns [start, start + len) of the residual of carried value `carry`. */
interface Segment {
  carry: number;
  start: number;
  len: number;
}

function width(v: Value): number | undefined {
  const w = v.shape[1];
  return v.shape.length === 2 && typeof w === "number" ? w : undefined;
}

function normalize(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (last && last.carry === s.carry && last.start + last.len === s.start) last.len += s.len;
    else out.push({ ...s });
  }
  return out;
}

function slice(segs: Segment[], start: number, len: number): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const s of segs) {
    const lo = Math.max(start, at);
    const hi = Math.min(start + len, at + s.len);
    if (hi > lo) out.push({ carry: s.carry, start: s.start + (lo - at), len: hi - lo });
    at += s.len;
  }
  return out;
}

class Bail extends Error {}

/** The segments a channel move (OpDef.columns) makes of its operands' segments. */
function movedSegments(layout: ColumnLayout, operands: (Segment[] | undefined)[]): Segment[] {
  switch (layout.kind) {
    case "same":
      return operands[0]!;
    case "slice":
      return slice(operands[0]!, layout.start, layout.len);
    case "concat":
      if (operands.some((s) => s === undefined)) throw new Bail();
      return normalize(operands.flatMap((s) => s!));
  }
}

/**
 * The loop body reading s + r: each rev_block statement adds the residual of every variable it
 * reads. The residual pieces the rev_blocks need (slices of the carried values' residuals) become
 * new loop constants, cut before the loop — the body gains no weight-only ops. Undefined where
 * the body is not made of what a reversible stack is made of (slices, concatenations, rev_blocks,
 * rounding).
 */
function residualBody(
  body: Graph,
  nc: number,
): { body: Graph; pieces: { segs: Segment[]; input: Value }[] } | undefined {
  const pieces: { key: string; segs: Segment[]; input: Value }[] = [];
  const shadow = new Map<Value, Segment[]>();
  const ops: Op[] = [];
  const piece = (segs: Segment[], shape: Value["shape"]): Value => {
    const key = JSON.stringify(segs);
    let p = pieces.find((q) => q.key === key);
    if (!p) {
      p = { key, segs, input: new Value(tensorType(shape), "residual") };
      pieces.push(p);
    }
    return p.input;
  };
  try {
    body.inputs.slice(0, nc).forEach((v, j) => {
      const w = width(v);
      if (w === undefined) throw new Bail();
      shadow.set(v, [{ carry: j, start: 0, len: w }]);
    });
    for (const op of body.ops) {
      const shadowed = op.inputs.map((v) => shadow.get(v));
      if (shadowed.every((s) => s === undefined)) {
        ops.push(op);
        continue;
      }
      const layout = getOp(op.opcode).columns?.(op.attrs);
      if (layout) {
        // Channel moves: the result's residual is the operands', moved the same way.
        shadow.set(op.outputs[0]!, movedSegments(layout, shadowed));
        ops.push(op);
      } else if (isRevBlock(op)) {
        const numVars = op.attrs.numVars as number;
        const vars = op.inputs.slice(0, numVars);
        const consts = op.inputs.slice(numVars);
        if (shadowed.slice(0, numVars).some((s) => s === undefined)) throw new Bail();
        if (shadowed.slice(numVars).some((s) => s !== undefined)) throw new Bail();
        const res = vars.map((v, j) => piece(shadowed[j]!, v.shape));
        const stmts = revStatements(op.attrs);
        const regions = op.regions.map((region, k) => {
          const reads = stmts[k]!.reads;
          const fresh = region.inputs
            .slice(0, reads.length)
            .map((v) => new Value(tensorType(v.shape), v.hint));
          const resIn = res.map((v) => new Value(tensorType(v.shape), "residual"));
          const g = new Graph(region.name, [
            ...fresh,
            ...region.inputs.slice(reads.length),
            ...resIn,
          ]);
          // The region's own input values become the sums, so its ops are reused unchanged.
          // The residual enters through a stop_gradient: its cotangent is never formed, so the
          // backward accumulates no [N, D] gradient for it over the blocks.
          reads.forEach((r, i) => {
            const frozen = new Value(tensorType(resIn[r]!.shape), "residual");
            g.ops.push(new Op("stop_gradient", [resIn[r]!], [frozen], {}, [], op.loc));
            g.ops.push(new Op("add", [fresh[i]!, frozen], [region.inputs[i]!], {}, [], op.loc));
          });
          g.ops.push(...region.ops);
          g.outputs = [...region.outputs];
          return g;
        });
        ops.push(
          new Op("rev_block", [...vars, ...consts, ...res], op.outputs, op.attrs, regions, op.loc),
        );
        op.outputs.forEach((v, j) => shadow.set(v, shadowed[j]!));
      } else {
        throw new Bail();
      }
    }
    // The loop's next state must carry the same residual as its input, column for column.
    for (let j = 0; j < nc; j++) {
      const s = shadow.get(body.outputs[j]!);
      if (!s || s.length !== 1 || s[0]!.carry !== j || s[0]!.start !== 0) throw new Bail();
      if (s[0]!.len !== width(body.inputs[j]!)) throw new Bail();
    }
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
  const out = new Graph(body.name, [...body.inputs, ...pieces.map((p) => p.input)]);
  out.ops.push(...ops);
  out.outputs = [...body.outputs];
  return { body: out, pieces };
}

/**
 * Exact mode with the stack's input off the grid (see above): every reversible loop whose carried
 * values enter rounded (`quantize`) carries the rounded part and adds the residual back wherever
 * the true state is read. Loops of other shapes are left as they are (input on the grid).
 */
export function exactResiduals(g: Graph): Graph {
  const producer = new Map<Value, Op>();
  for (const op of g.ops) for (const v of op.outputs) producer.set(v, op);
  const out = new Graph(g.name, g.inputs);
  const b = new Builder(out);
  const replaced = new Map<Value, Value>();
  const map = (v: Value) => replaced.get(v) ?? v;
  for (const op0 of g.ops) {
    const op = op0.inputs.some((v) => replaced.has(v))
      ? new Op(op0.opcode, op0.inputs.map(map), op0.outputs, op0.attrs, op0.regions, op0.loc)
      : op0;
    const nc = isScan(op) ? scanAttrs(op.attrs).numCarry : 0;
    const rounded = op.inputs.slice(0, nc).map((v) => producer.get(v));
    const t =
      isReversibleScan(op) && rounded.every((p) => p && getOp(p.opcode).roundsToGrid)
        ? residualBody(op.regions[0]!, nc)
        : undefined;
    if (!t) {
      out.ops.push(op);
      continue;
    }
    b.loc = op.loc;
    const residuals = rounded.map((p) =>
      b.unary("stop_gradient", b.sub(p!.inputs[0]!, p!.outputs[0]!)),
    );
    const cut = (segs: Segment[]) => {
      const parts = segs.map((s) =>
        s.start === 0 && s.len === width(residuals[s.carry]!)
          ? residuals[s.carry]!
          : b.op("slice_cols", [residuals[s.carry]!], { start: s.start, len: s.len }),
      );
      return parts.length === 1 ? parts[0]! : b.op("concat_cols", parts);
    };
    const pieces = t.pieces.map((p) => cut(p.segs));
    out.ops.push(new Op("scan", [...op.inputs, ...pieces], op.outputs, op.attrs, [t.body], op.loc));
    // After the loop, the residual is rebuilt from the pieces the loop keeps when they tile it, so
    // that the whole residual dies before the loop: [N, D] of memory less while it runs.
    op.outputs.slice(0, nc).forEach((v, j) => {
      const own = t.pieces
        .map((p, k) => ({ seg: p.segs[0]!, value: pieces[k]!, single: p.segs.length === 1 }))
        .filter((p) => p.single && p.seg.carry === j)
        .sort((x, y) => x.seg.start - y.seg.start);
      let at = 0;
      const tiling = own.filter((p) => (p.seg.start === at ? ((at += p.seg.len), true) : false));
      const whole =
        at === width(residuals[j]!) && tiling.length > 1
          ? b.op(
              "concat_cols",
              tiling.map((p) => p.value),
            )
          : residuals[j]!;
      replaced.set(v, b.add(v, whole));
    });
  }
  out.outputs = g.outputs.map(map);
  return out;
}
