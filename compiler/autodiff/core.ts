// Reverse-mode differentiation of IR graphs, one small VJP rule per op (ops/*.ts).
//
// Differentiation is split in two sweeps that emit into the same builder:
//   emitForward  copies a graph's ops (control ops may emit an augmented form that also keeps
//                what their backward needs — residuals — and say so in `saved`);
//   emitBackward walks the ops in reverse, calling each op's VJP rule on the forward values and
//                the result cotangents, and sums cotangents of values used more than once.
// Control ops (scan, rev_block, fixpoint) carry a regionVjp on their definitions (rules in
// ./control.ts); the memory policy of a scan (keep residuals, recompute, or rebuild reversibly) is
// chosen there. Ops are looked up in the op table, not the registry that fills it: the control
// ops' rules call back into this module.
import { Builder, type GraphBuilder } from "../ir/builder.js";
import { eliminateDeadCode } from "../ir/dce.js";
import { getOp } from "../ir/op-table.js";
import { Graph, Value, tensorType, type Op } from "../ir/types.js";
import { defaultAdOptions, type AdOptions } from "./options.js";

export { defaultAdOptions, type AdOptions, type ScanPolicy } from "./options.js";

export interface Forwarded {
  /** Original value → value in the graph being built. */
  env: Map<Value, Value>;
  /** What control ops' forward hooks kept for their backward. */
  saved: Map<Op, unknown>;
  outputs: Value[];
}

export function emitForward(
  b: GraphBuilder,
  g: Graph,
  inputs: Value[],
  opts: AdOptions = defaultAdOptions,
): Forwarded {
  const env = new Map<Value, Value>();
  const saved = new Map<Op, unknown>();
  g.inputs.forEach((v, i) => env.set(v, inputs[i]!));
  const mapped = (v: Value) => {
    const m = env.get(v);
    if (!m) throw new Error(`autodiff: value %${v.id} used before definition in ${g.name}`);
    return m;
  };
  for (const op of g.ops) {
    const ins = op.inputs.map(mapped);
    const prev = b.loc;
    b.loc = op.loc ?? prev;
    const rule = getOp(op.opcode).regionVjp;
    let outs: Value[];
    if (rule) {
      const r = rule.forward(b, op, ins, opts);
      outs = r.outputs;
      saved.set(op, r.saved);
    } else {
      outs = b.emit(op.opcode, ins, op.attrs, op.regions);
    }
    b.loc = prev;
    op.outputs.forEach((v, i) => {
      outs[i]!.hint ??= v.hint;
      env.set(v, outs[i]!);
    });
  }
  return { env, saved, outputs: g.outputs.map(mapped) };
}

export class NotDifferentiableError extends Error {}

/** Cotangents of g's inputs, given cotangents of its outputs (undefined = zero). */
export function emitBackward(
  b: GraphBuilder,
  g: Graph,
  fwd: Forwarded,
  outputCotangents: (Value | undefined)[],
  opts: AdOptions = defaultAdOptions,
): (Value | undefined)[] {
  const cot = new Map<Value, Value>();
  const addCot = (v: Value, c: Value | undefined) => {
    if (!c) return;
    const prev = cot.get(v);
    cot.set(v, prev ? b.add(prev, c) : c);
  };
  g.outputs.forEach((v, i) => addCot(v, outputCotangents[i]));
  for (let k = g.ops.length - 1; k >= 0; k--) {
    const op = g.ops[k]!;
    const douts = op.outputs.map((v) => cot.get(v));
    if (douts.every((d) => d === undefined)) continue;
    const def = getOp(op.opcode);
    if (def.zeroGradient) continue;
    const prev = b.loc;
    b.loc = op.loc ?? prev;
    const ins = op.inputs.map((v) => fwd.env.get(v)!);
    const outs = op.outputs.map((v) => fwd.env.get(v)!);
    let dins: (Value | undefined)[];
    if (def.regionVjp) {
      dins = def.regionVjp.backward(b, op, ins, outs, fwd.saved.get(op), douts, opts);
    } else if (def.vjp) {
      dins = def.vjp(
        b,
        { inputs: ins, outputs: outs, attrs: op.attrs, regions: op.regions, source: op },
        douts,
      );
    } else {
      throw new NotDifferentiableError(`op ${op.opcode} has no VJP rule`);
    }
    b.loc = prev;
    op.inputs.forEach((v, i) => addCot(v, dins[i]));
  }
  return g.inputs.map((v) => cot.get(v));
}

/**
 * A graph computing g's outputs and the gradients of its outputs with respect to the inputs
 * listed in `wrt`: inputs [g's inputs…, one cotangent per output], outputs [g's outputs…,
 * one gradient per `wrt` input (zeros where it does not depend on it)].
 */
export function vjpGraph(g: Graph, wrt: number[], opts: AdOptions = defaultAdOptions): Graph {
  const primal = g.inputs.map((v) => new Value(tensorType(v.shape), v.hint));
  const cots = g.outputs.map((v) => new Value(tensorType(v.shape), `d${v.hint ?? ""}`));
  const out = new Graph(`${g.name}_vjp`, [...primal, ...cots]);
  const b = new Builder(out);
  const fwd = emitForward(b, g, primal, opts);
  const grads = emitBackward(b, g, fwd, cots, opts);
  out.outputs = [...fwd.outputs, ...wrt.map((i) => grads[i] ?? b.zerosLike(g.inputs[i]!.shape))];
  return eliminateDeadCode(out);
}
