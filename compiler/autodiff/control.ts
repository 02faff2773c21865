// VJP rules of the control ops. They differ from the one-line rules of ops/*.ts because they decide
// what the forward pass keeps:
//   scan, reversible body  keeps nothing per iteration: the backward scan rebuilds each
//                          iteration's input from its output with the derived inverse
//                          (../inverse/rev-backward.ts), evaluating each statement's function once
//                          for both the rebuild and the VJP;
//   scan, otherwise        keeps the residuals the body's VJP reads, stacked over iterations;
//   rev_block              differentiated through its expansion into plain statements;
//   fixpoint               implicit differentiation: g = J_f(z*)ᵀ g + dz* by the same fixpoint
//                          iteration on f's VJP, then one VJP for the parameters.
//
// The rules are registered on the ops' definitions (../ir/ops/control.ts, `regionVjp`), so this
// module imports the op table, never the registry that imports those definitions.
import { Builder, type GraphBuilder } from "../ir/builder.js";
import { eliminateDeadCode } from "../ir/dce.js";
import {
  fixpointAttrs,
  revStatements,
  scanAttrs,
  statementUpdates,
} from "../ir/ops/control-attrs.js";
import type { RegionVjpRule } from "../ir/op-def.js";
import { getOp } from "../ir/op-table.js";
import { Graph, Value, tensorType, type Op } from "../ir/types.js";
import { inlineGraph } from "../ir/inline.js";
import { countingBody, revBackwardBody, scanStoreReason } from "../inverse/rev-backward.js";
import { emitBackward, emitForward, type Forwarded } from "./core.js";
import { withoutEdgeDataGradients } from "./edge-data.js";
import type { AdOptions } from "./options.js";

function fresh(v: Value, hint?: string): Value {
  return new Value(tensorType(v.shape), hint ?? v.hint);
}

// ---- rev_block ---------------------------------------------------------------------------------

/**
 * The block as plain statements: g = region(reads, consts); x_target = x_target ⊕ g. Outputs: the
 * variables, then the regions' model-state values.
 */
export function expandRevBlock(op: Op): Graph {
  const inputs = op.inputs.map((v) => fresh(v));
  const g = new Graph("rev_block_expanded", inputs);
  const b = new Builder(g, op.loc);
  const numVars = op.attrs.numVars as number;
  const vars = inputs.slice(0, numVars);
  const consts = inputs.slice(numVars);
  const states: Value[] = [];
  revStatements(op.attrs).forEach((s, k) => {
    const values = inlineGraph(b, op.regions[k]!, [...s.reads.map((r) => vars[r]!), ...consts]);
    const updates = statementUpdates(s);
    updates.forEach((u, j) => {
      vars[u.target] = b.op(u.combine, [vars[u.target]!, values[j]!]);
    });
    states.push(...values.slice(updates.length));
  });
  g.outputs = [...vars, ...states];
  return g;
}

export const revBlockVjp: RegionVjpRule = {
  forward(b, op, inputs, opts) {
    const expanded = expandRevBlock(op);
    const fwd = emitForward(b, expanded, inputs, opts);
    return { outputs: fwd.outputs, saved: { expanded, fwd } };
  },
  backward(b, _op, _inputs, _outputs, saved, douts, opts) {
    const { expanded, fwd } = saved as { expanded: Graph; fwd: Forwarded };
    return emitBackward(b, expanded, fwd, douts, opts);
  },
};

// ---- scan --------------------------------------------------------------------------------------

interface StoreSaved {
  policy: "store";
  vjp: BodyVjp;
  /** Residuals the forward scan stores per iteration, and their stacks ([count, …]). */
  stored: Value[];
  stacks: Value[];
  /**
   * Carried slots whose new value the backward reads: not stored, because it is the next
   * iteration's old value, which is (see "Carry handoff" below).
   */
  handoff: number[];
}

interface ReversibleSaved {
  policy: "reversible";
  /** Each iteration's place in the forward's order, stacked ([count]). */
  index: Value;
  /** Per carried value and entry, the leading iterations that left it at the loop's input. */
  unchanged: Value[];
}

/** A scan body's VJP split into the forward recomputation and the backward ops. */
interface BodyVjp {
  primal: Value[];
  /** Cotangent inputs, one per body output. */
  cots: Value[];
  forwardOps: Op[];
  forwardOutputs: Value[];
  /** Backward ops that contribute to some gradient (dead ones dropped). */
  backwardOps: Op[];
  /** Gradient of each body input; undefined where it is zero. */
  grads: (Value | undefined)[];
  /** Values the backward ops read that the forward part defines (primal inputs included). */
  residuals: Value[];
}

function bodyVjp(body: Graph, opts: AdOptions): BodyVjp {
  const primal = body.inputs.map((v) => fresh(v));
  const cots = body.outputs.map((v) => fresh(v, `d${v.hint ?? ""}`));
  const g = new Graph(`${body.name}_vjp`, [...primal, ...cots]);
  const b = new Builder(g);
  const fwd = emitForward(b, body, primal, opts);
  const forwardOps = [...g.ops];
  const grads = withoutEdgeDataGradients(primal, emitBackward(b, body, fwd, cots, opts));
  const forwardDefined = new Set<Value>(primal);
  for (const o of forwardOps) for (const v of o.outputs) forwardDefined.add(v);
  // Liveness over the backward ops only, from the gradients.
  const live = new Set<Value>(grads.filter((x): x is Value => !!x));
  const backwardOps: Op[] = [];
  const all = g.ops.slice(forwardOps.length);
  for (let i = all.length - 1; i >= 0; i--) {
    const o = all[i]!;
    if (!o.outputs.some((v) => live.has(v))) continue;
    backwardOps.push(o);
    for (const v of o.inputs) live.add(v);
  }
  backwardOps.reverse();
  // Cheap values are recomputed in the backward rather than stored: edge values (storing an
  // [E, d] tensor per iteration is exactly what the fused graph kernels avoid) and values made
  // from nothing (constants, dropout masks: the hash RNG regenerates them).
  const producer = new Map<Value, Op>();
  for (const o of forwardOps) for (const v of o.outputs) producer.set(v, o);
  const recompute = new Set<Op>();
  const residualSet = new Set<Value>();
  const visit = (v: Value) => {
    if (!forwardDefined.has(v) || residualSet.has(v)) return;
    const o = producer.get(v);
    if (o && !recompute.has(o) && isCheapToRecompute(o, v)) {
      recompute.add(o);
      o.inputs.forEach(visit);
    } else if (!o || !recompute.has(o)) residualSet.add(v);
  };
  [...live].forEach(visit);
  const recomputed = forwardOps.filter((o) => recompute.has(o));
  const residuals = [...residualSet];
  return {
    primal,
    cots,
    forwardOps,
    forwardOutputs: fwd.outputs,
    backwardOps: [...recomputed, ...backwardOps],
    grads,
    residuals,
  };
}

function isCheapToRecompute(op: Op, v: Value): boolean {
  const def = getOp(op.opcode);
  const kind = def.lowering.kind;
  if (kind !== "elementwise" && kind !== "gather") return false;
  const edge = v.shape.length === 2 && (v.shape[0] === "E" || v.shape[0] === "E+N");
  return edge || op.inputs.length === 0 || !!def.cheapToRecompute;
}

function scanPolicy(op: Op, opts: AdOptions): "store" | "reversible" {
  if (opts.scanPolicy !== "auto") return "store";
  return scanStoreReason(op) === undefined ? "reversible" : "store";
}

export const scanVjp: RegionVjpRule = {
  forward(b, op, inputs, opts) {
    if (opts.forwardOnly) {
      return { outputs: b.emit("scan", inputs, op.attrs, op.regions), saved: undefined };
    }
    const policy = scanPolicy(op, opts);
    if (policy === "reversible") {
      // The body, counting which entries no iteration has changed yet (../inverse/rev-backward.ts,
      // "Anchoring"), with the loop's input as an invariant to compare against.
      const a = scanAttrs(op.attrs);
      const nC = a.numCarry;
      const constStart = nC + a.numXs;
      const index = iterationIndex(b, a.count, !!a.reverse);
      const outs = b.emit(
        "scan",
        [
          ...inputs.slice(0, nC),
          ...inputs.slice(0, nC).map((v) => b.zerosLike(v.shape)),
          ...inputs.slice(nC, constStart),
          index,
          ...inputs.slice(constStart),
          ...inputs.slice(0, nC),
        ],
        { ...op.attrs, numCarry: 2 * nC, numXs: a.numXs + 1 },
        [countingBody(op.regions[0]!, nC, a.numXs)],
      );
      const unchanged = outs.slice(nC, 2 * nC);
      unchanged.forEach((v) => (v.hint = "unchanged"));
      const saved: ReversibleSaved = { policy, index, unchanged };
      // After the carried values: the per-iteration model-state values (running statistics).
      return { outputs: [...outs.slice(0, nC), ...outs.slice(2 * nC)], saved };
    }
    const a = scanAttrs(op.attrs);
    const body = op.regions[0]!;
    const vjp = bodyVjp(body, opts);
    // Stacked inputs and loop invariants reach the backward scan directly; carried state and
    // intermediate values are stored per iteration.
    const passedThrough = new Set(vjp.primal.slice(a.numCarry));
    // Carry handoff: iteration i's new carried value is iteration i+1's old one. When the
    // backward reads both (a reversible loop nested in this one reads its input and its output),
    // storing both would keep every value twice; the old values are stored and the backward scan,
    // walking the iterations in reverse, hands each one down as the next iteration's new value.
    const residualSet = new Set(vjp.residuals);
    const handoff = vjp.forwardOutputs
      .slice(0, a.numCarry)
      .flatMap((out, i) =>
        residualSet.has(out) && out !== vjp.primal[i] && !vjp.primal.includes(out) ? [i] : [],
      );
    const handedOff = new Set(handoff.map((i) => vjp.forwardOutputs[i]!));
    const stored = [
      ...vjp.residuals.filter((v) => !passedThrough.has(v) && !handedOff.has(v)),
      ...handoff.map((i) => vjp.primal[i]!).filter((v) => !residualSet.has(v)),
    ];
    const augmented = new Graph(body.name, vjp.primal);
    augmented.ops.push(...vjp.forwardOps);
    augmented.outputs = [...vjp.forwardOutputs, ...stored];
    eliminateDeadCode(augmented);
    const outs = b.emit("scan", inputs, op.attrs, [augmented]);
    const numOuts = body.outputs.length;
    const stacks = outs.slice(numOuts);
    stacks.forEach((s, i) => (s.hint = `saved_${stored[i]!.hint ?? i}`));
    const saved: StoreSaved = { policy: "store", vjp, stored, stacks, handoff };
    return { outputs: outs.slice(0, numOuts), saved };
  },

  backward(b, op, inputs, outputs, saved, douts) {
    const s = saved as StoreSaved | ReversibleSaved;
    return s.policy === "reversible"
      ? reversibleScanBackward(b, op, inputs, outputs, s, douts)
      : storedScanBackward(b, op, inputs, outputs, s, douts);
  },
};

/** Backward scan over stored residuals. */
function storedScanBackward(
  b: GraphBuilder,
  op: Op,
  inputs: Value[],
  outputs: Value[],
  s: StoreSaved,
  douts: (Value | undefined)[],
): (Value | undefined)[] {
  const a = scanAttrs(op.attrs);
  const body = op.regions[0]!;
  const nC = a.numCarry;
  const nIn = body.inputs.length;
  const v = s.vjp;
  const xsSlices = v.primal.slice(nC, nC + a.numXs);
  const consts = v.primal.slice(nC + a.numXs);
  const constGrads = v.grads.slice(nC + a.numXs, nIn);
  const xsGrads = v.grads.slice(nC, nC + a.numXs);

  // Backward body: carry [dcarry…, const-gradient accumulators…]; xs [stored…, dys…, xs…]; consts.
  const map = new Map<Value, Value>();
  const bind = (x: Value) => {
    const n = fresh(x);
    map.set(x, n);
    return n;
  };
  const dCarryIn = v.cots.slice(0, nC).map(bind);
  const accIn = consts.flatMap((c, i) => (constGrads[i] ? [fresh(c, `acc_d${c.hint ?? ""}`)] : []));
  const handoffIn = s.handoff.map((i) => bind(v.forwardOutputs[i]!));
  const storedIn = s.stored.map(bind);
  const dysIn = v.cots.slice(nC).flatMap((c, j) => (douts[nC + j] ? [bind(c)] : []));
  const xsIn = xsSlices.map(bind);
  const constIn = consts.map(bind);
  const bwd = new Graph(`${body.name}_bwd`, [
    ...dCarryIn,
    ...accIn,
    ...handoffIn,
    ...storedIn,
    ...dysIn,
    ...xsIn,
    ...constIn,
  ]);
  const bb = new Builder(bwd, op.loc);
  for (const c of v.cots) if (!map.has(c)) map.set(c, bb.zerosLike(c.shape));
  for (const o of v.backwardOps) {
    const ins = o.inputs.map((x) => {
      const m = map.get(x);
      if (!m)
        throw new Error(`scan backward: residual %${x.id} (${x.hint ?? o.opcode}) was not kept`);
      return m;
    });
    const outs = bb.emit(o.opcode, ins, o.attrs, o.regions);
    o.outputs.forEach((x, i) => {
      outs[i]!.hint ??= x.hint;
      map.set(x, outs[i]!);
    });
  }
  const get = (x: Value | undefined, shapeOf: Value) =>
    x ? map.get(x)! : bb.zerosLike(shapeOf.shape);
  const dCarryOut = v.grads.slice(0, nC).map((g, i) => get(g, body.inputs[i]!));
  let k = 0;
  const accOut = constGrads.flatMap((g) => (g ? [bb.add(accIn[k++]!, map.get(g)!)] : []));
  const dxsOut = xsGrads.flatMap((g) => (g ? [map.get(g)!] : []));
  // This iteration's old carried value is the new value of the iteration the backward visits next.
  const handoffOut = s.handoff.map((i) => map.get(v.primal[i]!)!);
  bwd.outputs = [...dCarryOut, ...accOut, ...handoffOut, ...dxsOut];
  eliminateDeadCode(bwd);

  const xsStacks = inputs.slice(nC, nC + a.numXs);
  const constVals = inputs.slice(nC + a.numXs);
  const carryInit = [
    ...op.outputs.slice(0, nC).map((_, i) => douts[i] ?? b.zerosLike(body.outputs[i]!.shape)),
    ...consts.flatMap((c, i) => (constGrads[i] ? [b.zerosLike(c.shape)] : [])),
    // The last iteration's new value is the loop's result.
    ...s.handoff.map((i) => outputs[i]!),
  ];
  const dysStacks = douts.slice(nC).filter((d): d is Value => !!d);
  const outs = b.emit(
    "scan",
    [...carryInit, ...s.stacks, ...dysStacks, ...xsStacks, ...constVals],
    {
      count: a.count,
      numCarry: carryInit.length,
      numXs: s.stacks.length + dysStacks.length + xsStacks.length,
      reverse: !a.reverse,
    },
    [bwd],
  );
  return assembleCotangents(
    outs.slice(0, nC),
    outs.slice(nC, nC + accOut.length),
    outs.slice(nC + accOut.length + handoffOut.length),
    constGrads.map((g) => !!g),
    xsGrads.map((g) => !!g),
  );
}

/** [dcarry…, dxs…, dconsts…] from the backward scan's results and which gradients exist. */
function assembleCotangents(
  dCarry: Value[],
  dConstList: Value[],
  dXsList: Value[],
  hasConstGrad: boolean[],
  hasXsGrad: boolean[],
): (Value | undefined)[] {
  let c = 0;
  let x = 0;
  const dConsts = hasConstGrad.map((h) => (h ? dConstList[c++] : undefined));
  const dXs = hasXsGrad.map((h) => (h ? dXsList[x++] : undefined));
  return [...dCarry, ...dXs, ...dConsts];
}

/** Each iteration's place in the order a scan visits them (0 first), stacked ([count]). */
function iterationIndex(b: GraphBuilder, count: number, reverse: boolean): Value {
  const iota = b.op("iota", [], { count });
  const index = reverse ? b.sub(b.fill(count - 1), iota) : iota;
  index.hint = "iteration";
  return index;
}

/** Backward scan that rebuilds each iteration's input from its output (no stored activations). */
function reversibleScanBackward(
  b: GraphBuilder,
  op: Op,
  inputs: Value[],
  outputs: Value[],
  saved: ReversibleSaved,
  douts: (Value | undefined)[],
): (Value | undefined)[] {
  const a = scanAttrs(op.attrs);
  const body = op.regions[0]!;
  const nC = a.numCarry;
  const constStart = nC + a.numXs;
  // The per-iteration outputs of a reversible loop are model state (scanStoreReason allows no
  // others), which only the step's outputs read: no loss depends on them. Their cotangents are
  // zeros where an enclosing stored loop passes one for every output (--checkpoint-every).
  const rb = revBackwardBody(body, nC, a.numXs, { anchored: true });
  const carryInit = [
    ...outputs.slice(0, nC),
    ...outputs.slice(0, nC).map((v, i) => douts[i] ?? b.zerosLike(v.shape)),
    ...rb.hasConstGrad.flatMap((h, i) => (h ? [b.zerosLike(inputs[constStart + i]!.shape)] : [])),
  ];
  // Where an iteration's input is the loop's kept input, bit for bit, the backward uses that
  // instead of the rebuilt one (../inverse/rev-backward.ts, "Anchoring").
  const outs = b.emit(
    "scan",
    [
      ...carryInit,
      ...inputs.slice(nC, constStart),
      saved.index,
      ...inputs.slice(constStart),
      ...inputs.slice(0, nC),
      ...saved.unchanged,
    ],
    { count: a.count, numCarry: carryInit.length, numXs: a.numXs + 1, reverse: !a.reverse },
    [rb.graph],
  );
  // outs: [rebuilt carry…, dcarry…, const-gradient accumulators…, dxs…]
  outs.slice(0, nC).forEach((v) => (v.hint = "rebuilt_input"));
  const numAcc = rb.hasConstGrad.filter((h) => h).length;
  return assembleCotangents(
    outs.slice(nC, 2 * nC),
    outs.slice(2 * nC, 2 * nC + numAcc),
    outs.slice(2 * nC + numAcc),
    rb.hasConstGrad,
    rb.hasXsGrad,
  );
}

// ---- fixpoint ----------------------------------------------------------------------------------

export const fixpointVjp: RegionVjpRule = {
  forward(b, op, inputs) {
    return { outputs: b.emit("fixpoint", inputs, op.attrs, op.regions), saved: undefined };
  },
  backward(b, op, inputs, outputs, _saved, douts, opts) {
    const dz = douts[0];
    if (!dz) return inputs.map(() => undefined);
    const f = op.regions[0]!;
    const zStar = outputs[0]!;
    const consts = inputs.slice(1);
    // Adjoint cell: g ↦ J_f(z*)ᵀ g + dz*, a region of (g, z*, dz*, consts…).
    const gIn = fresh(zStar, "g");
    const zIn = fresh(zStar, "z_star");
    const dzIn = fresh(zStar, "dz_star");
    const constIn = consts.map((c) => fresh(c));
    const cell = new Graph("fixpoint_adjoint_cell", [gIn, zIn, dzIn, ...constIn]);
    const cb = new Builder(cell, op.loc);
    const fwd = emitForward(cb, f, [zIn, ...constIn], opts);
    const [jtg] = emitBackward(cb, f, fwd, [gIn], opts);
    cell.outputs = [jtg ? cb.add(jtg, dzIn) : dzIn];
    eliminateDeadCode(cell);
    const fa = fixpointAttrs(op.attrs);
    const [g] = b.emit(
      "fixpoint",
      [dz, zStar, dz, ...consts],
      { ...op.attrs, tag: `${fa.tag}_adjoint` },
      [cell],
    );
    // Parameter cotangents: one VJP of f at z* with the solved adjoint.
    const fwd2 = emitForward(b, f, [zStar, ...consts], opts);
    const grads = emitBackward(b, f, fwd2, [g!], opts);
    return [undefined, ...grads.slice(1)];
  },
};
