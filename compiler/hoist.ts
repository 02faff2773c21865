// Loop-invariant hoisting: what a `repeat` body computes from the graph alone — GCN's per-node
// normalisation deg^-1/2, computed from `in_degree()` — is the same in every block, so it is
// computed once before the loop and passed in as one of the loop's invariant inputs, instead of
// once per block (ResGCN's map kernel per block) or once per edge and column inside every
// aggregation (RevGCN's fused graph kernels re-derived it from the degree at each source).
//
// A graph pass after autodiff and the expansion of reversible blocks: the forward, the backward's
// rebuild and its VJP are plain scan bodies by then, so moving a value out of one changes no
// derivative. A value is hoisted when it depends only on the body's invariant inputs and on ops
// without operands that read the graph (degrees), at least one of those; pure constants stay
// literals in their kernels, and edge-shaped values ([E, d]) stay inside the body, which could
// not give them a buffer: their node-sized operands are hoisted instead.
import { isEdgeDim } from "./codegen/context.js";
import { eliminateDeadCode } from "./ir/dce.js";
import { isScan } from "./ir/ops/control.js";
import { scanAttrs } from "./ir/ops/control-attrs.js";
import { getOp } from "./ir/registry.js";
import { Graph, Op, Value } from "./ir/types.js";

/** The graph with every scan body's hoistable values computed before the scan (any depth). */
export function hoistLoopInvariants(g: Graph): Graph {
  let changed = false;
  const ops: Op[] = [];
  for (const op of g.ops) {
    // Inner loops first: what they hoist into an enclosing body may move further out.
    const regions = op.regions.map(hoistLoopInvariants);
    const regionsChanged = regions.some((r, i) => r !== op.regions[i]);
    const hoist = isScan(op) ? scanHoist(op, regions[0]!) : undefined;
    if (!hoist) {
      ops.push(
        regionsChanged ? new Op(op.opcode, op.inputs, op.outputs, op.attrs, regions, op.loc) : op,
      );
      changed ||= regionsChanged;
      continue;
    }
    ops.push(...hoist.before);
    ops.push(
      new Op(
        op.opcode,
        [...op.inputs, ...hoist.operands],
        op.outputs,
        op.attrs,
        [hoist.body],
        op.loc,
      ),
    );
    changed = true;
  }
  if (!changed) return g;
  const out = new Graph(g.name, g.inputs);
  out.ops.push(...ops);
  out.outputs = g.outputs;
  return out;
}

interface Hoist {
  /** Ops computing the hoisted values, in order, for the graph that holds the scan. */
  before: Op[];
  /** The hoisted values there: new invariant operands of the scan. */
  operands: Value[];
  /** The body reading them as new invariant inputs (after its others). */
  body: Graph;
}

function scanHoist(scan: Op, body: Graph): Hoist | undefined {
  const a = scanAttrs(scan.attrs);
  const fixed = a.numCarry + a.numXs;
  const invariantInputs = body.inputs.slice(fixed);
  // Values the same in every iteration, and whether each is derived from the graph (degrees).
  // Only those are hoisted: a function of the loop's invariant inputs alone (α·h0 in GCNII) would
  // cost a buffer of its own for a few elementwise ops the kernels reading it do anyway.
  const invariant = new Map<Value, boolean>(invariantInputs.map((v) => [v, false]));
  /** The op of each invariant value computed in the body. */
  const producer = new Map<Value, Op>();
  for (const op of body.ops) {
    if (op.regions.length > 0 || !op.inputs.every((v) => invariant.has(v))) continue;
    const def = getOp(op.opcode);
    // Dropout masks are regenerated where they are read, never stored; loop bookkeeping is the loop's.
    if (def.cheapToRecompute || def.bookkeeping) continue;
    const readsData =
      op.inputs.length === 0
        ? def.lowering.kind !== "elementwise" || def.lowering.reads !== undefined
        : op.inputs.some((v) => invariant.get(v));
    for (const v of op.outputs) {
      invariant.set(v, readsData);
      producer.set(v, op);
    }
  }
  // The hoisted values: what the ops staying in the body read, as close to them as a buffer can
  // be (an edge-shaped invariant stays, and its operands are considered instead).
  const hoisted: Value[] = [];
  const chosen = new Set<Value>();
  const stays = new Set<Op>();
  const need = (v: Value): void => {
    const op = producer.get(v);
    if (!op || chosen.has(v)) return;
    if (invariant.get(v) && !(v.shape.length > 0 && isEdgeDim(v.shape[0]))) {
      chosen.add(v);
      hoisted.push(v);
      return;
    }
    if (stays.has(op)) return;
    stays.add(op);
    op.inputs.forEach(need);
  };
  for (const op of body.ops) if (!producer.has(op.outputs[0]!)) op.inputs.forEach(need);
  body.outputs.forEach(need);
  if (hoisted.length === 0) return undefined;

  // Outside: the hoisted values' producers, their operands mapped from the body's invariant
  // inputs to the scan's invariant operands.
  const outside = new Map<Value, Value>(
    invariantInputs.map((v, j) => [v, scan.inputs[fixed + j]!]),
  );
  const needed = new Set<Op>();
  const mark = (v: Value) => {
    const op = producer.get(v);
    if (!op || needed.has(op)) return;
    needed.add(op);
    op.inputs.forEach(mark);
  };
  hoisted.forEach(mark);
  const before: Op[] = [];
  for (const op of body.ops) if (needed.has(op)) before.push(copyOp(op, outside));

  // Inside: the same body with the hoisted values as further invariant inputs; what only
  // computed them is dropped.
  const inside = new Map<Value, Value>();
  const rebuilt = new Graph(
    body.name,
    [...body.inputs, ...hoisted].map((v) => fresh(v, inside)),
  );
  for (const op of body.ops)
    if (!op.outputs.every((v) => inside.has(v))) rebuilt.ops.push(copyOp(op, inside));
  rebuilt.outputs = body.outputs.map((v) => inside.get(v)!);
  eliminateDeadCode(rebuilt);
  return { before, operands: hoisted.map((v) => outside.get(v)!), body: rebuilt };
}

/** A new value like v, recorded as v's replacement in `env`. */
function fresh(v: Value, env: Map<Value, Value>): Value {
  const copy = new Value(v.type, v.hint);
  env.set(v, copy);
  return copy;
}

/** op over its operands' replacements in `env`, with fresh results recorded there. */
function copyOp(op: Op, env: Map<Value, Value>): Op {
  const inputs = op.inputs.map((v) => env.get(v)!);
  return new Op(
    op.opcode,
    inputs,
    op.outputs.map((v) => fresh(v, env)),
    op.attrs,
    op.regions,
    op.loc,
  );
}
