// Derived inverses and the memory-free backward of reversible loop bodies.
//
// A loop body is invertible when its carried state flows only through invertible ops — ops whose
// definitions carry an inverse rule (OpDef.inverse): channel slices that together cover a value,
// concatenations, rounding onto exact mode's grid, and rev_blocks — and everything else in it
// depends on weights alone. Inverting walks those ops in reverse (NiLang-style): a concat is
// undone by slicing, a set of slices by concatenating them, and a rev_block statement
// `x_t ⊕= g(reads)` by `x_t ⊖= g(reads)`, with the statements in reverse order.
//
// The memory-free backward does the same walk and, at each rev_block statement, evaluates g once:
// that one evaluation rebuilds x_t's input (x_t ⊖ g) and feeds g's VJP. A training step therefore
// evaluates each group function twice (forward, backward), not three times (forward, inverse,
// re-forward) as the PyTorch implementations do.
//
// Anchoring. A rebuilt input equals the forward's only up to rounding, and where the forward sat
// exactly on a kink that rounding decides the branch: an empty feature row makes a LayerNorm
// input constant, LayerNorm maps it to beta (0 at initialisation), and relu' at exactly 0 is 0 in
// the forward but 0 or 1 at the rebuilt ±1e-8 (the gradient of b_in on Cora with 15 empty rows
// was 5 % off the stored-activation gradient). The loop's own input is still alive when its
// backward runs, so the backward body takes it and, at the first iteration, uses it in place of
// the rebuilt value — bit for bit, through `select` — before any function reads it.
// Degenerate rows do not stay at the first block: an empty feature row is 0 (h0 in RevGCNII) and
// stays exactly 0 until information from its neighbours reaches it, one hop per block, or until
// relu lets an update through. Rebuilt, such a 0 is x' − g' with g' recomputed from rebuilt
// inputs: rounding noise, and at the block before, LayerNorm + relu took the other side of the
// kink (RevGCNII on the degenerate graph: group 2's LayerNorm beta 19 % off the stored gradient
// at L = 3, 6.7 % at L = 16). So the forward also counts, per entry of the carried state, the
// leading iterations after which the entry still equals the loop's input (`countingBody`): the
// entry of iteration k's input is then exactly the kept input's wherever that count is ≥ k, and
// the backward puts it in place there (k = 0 is the first iteration: every entry). No tolerance
// is involved: the forward compared the values. The cost is two kept [N, D] values (the input
// and the counts) and one elementwise comparison per block in the forward.
import { Builder, type GraphBuilder } from "../ir/builder.js";
import { eliminateDeadCode } from "../ir/dce.js";
import { inverseCombine, revStatements, statementUpdates } from "../ir/ops/control-attrs.js";
import type { ColumnRange, InverseRule } from "../ir/op-def.js";
import { getOp } from "../ir/op-table.js";
import { Graph, Value, tensorType, type Op } from "../ir/types.js";
import { emitBackward, emitForward, type Forwarded } from "../autodiff/core.js";
import { withoutEdgeDataGradients } from "../autodiff/edge-data.js";
import { inlineGraph } from "../ir/inline.js";

/** How an op is undone (OpDef.inverse); undefined where it cannot be. */
const inverseOf = (op: Op): InverseRule | undefined => getOp(op.opcode).inverse;

/** The column range an op's result takes from its operand, when its inverse is a slice's. */
function sliceRangeOf(op: Op): ColumnRange | undefined {
  const inv = inverseOf(op);
  return inv?.kind === "slice" ? inv.range(op.attrs) : undefined;
}

/** Values of the body that depend on its carried inputs. */
function carryDependent(body: Graph, numCarry: number): Set<Value> {
  const dep = new Set<Value>(body.inputs.slice(0, numCarry));
  for (const op of body.ops) {
    if (op.inputs.some((v) => dep.has(v))) for (const v of outputRoles(op).carried) dep.add(v);
  }
  return dep;
}

/**
 * An op's outputs split into those that carry the state and a rev_block's model-state values
 * (running statistics), which leave the loop as per-iteration outputs that the backward neither
 * rebuilds nor differentiates. Every output of any other op carries.
 */
function outputRoles(op: Op): { carried: Value[]; states: Value[] } {
  const inv = inverseOf(op);
  if (inv?.kind !== "block") return { carried: op.outputs, states: [] };
  const numVars = inv.numVars(op.attrs);
  return { carried: op.outputs.slice(0, numVars), states: op.outputs.slice(numVars) };
}

/**
 * The body's per-iteration outputs that are model state: each the direct state output of a
 * rev_block. A loop whose other outputs are all carried can still run reversibly.
 */
function stateOutputs(body: Graph): Set<Value> {
  return new Set(body.ops.flatMap((op) => outputRoles(op).states));
}

/**
 * Why the body's carried state cannot be rebuilt from its outputs, or undefined when it can.
 * The message is for users: it names the op that loses information.
 */
export function carryPathError(body: Graph, numCarry: number): string | undefined {
  const dep = carryDependent(body, numCarry);
  const uses = new Map<Value, Op[]>();
  for (const op of body.ops) for (const v of op.inputs) uses.set(v, [...(uses.get(v) ?? []), op]);
  for (let i = 0; i < numCarry; i++) {
    if (!dep.has(body.outputs[i]!)) return `the loop's new state does not depend on its old state`;
  }
  for (const op of body.ops) {
    if (!op.inputs.some((v) => dep.has(v))) continue;
    const inv = inverseOf(op);
    if (!inv) {
      return `the state passes through \`${op.opcode}\`, which is not an invertible update`;
    }
    if (inv.kind === "block") {
      if (op.inputs.slice(inv.numVars(op.attrs)).some((v) => dep.has(v))) {
        return "a reversible block's weights depend on the state";
      }
    }
  }
  const outputs = new Set(body.outputs);
  for (const v of dep) {
    const consumers = uses.get(v) ?? [];
    if (consumers.length === 0 && !outputs.has(v))
      return "part of the state is computed and dropped";
    const slices = consumers.flatMap((o) => sliceRangeOf(o) ?? []);
    const whole = slices.length < consumers.length || outputs.has(v);
    if (!whole && slices.length > 0) {
      const width = v.shape[1] as number;
      const covered = new Array<boolean>(width).fill(false);
      for (const { start, len } of slices) covered.fill(true, start, start + len);
      if (covered.some((c) => !c)) return "some channels of the state are sliced away and dropped";
    }
  }
  return undefined;
}

/**
 * Why autodiff keeps this scan's activations instead of rebuilding them, or undefined when its
 * backward rebuilds each iteration's input from its output. The one policy that the training step
 * (autodiff/control.ts), the drift measurement and what the CLI tells the user all read.
 */
export function scanStoreReason(scan: Op): string | undefined {
  const body = scan.regions[0]!;
  const numCarry = scan.attrs.numCarry as number;
  const states = stateOutputs(body);
  if (body.outputs.slice(numCarry).some((v) => !states.has(v)))
    return "the loop also returns per-iteration values";
  return carryPathError(body, numCarry);
}

export class NotInvertibleError extends Error {}

/** What the backward knows exactly about each iteration's input (see "Anchoring"). */
interface Anchor {
  /** The iteration's place in the forward's order (0 at the first), a scalar. */
  index: Value;
  /** One per carried value, the loop's input. */
  kept: Value[];
  /**
   * One per carried value, per entry: how many leading iterations left it equal to the loop's
   * input (the forward counts them, `countingBody`). Where it is ≥ index, the iteration's input is
   * the kept input's entry.
   */
  unchanged: Value[];
}

/** A body value's kept version and its unchanged counts. */
interface Anchored {
  kept: Value;
  unchanged: Value;
}

/**
 * Kept versions (and counts) of the body's values that the kept input determines through layout
 * ops alone (slices, concatenations, quantisation): the entry values of the body's first
 * rev_blocks. Values behind a rev_block are not mapped; those are rebuilt as before.
 */
function anchorValues(
  b: GraphBuilder,
  body: Graph,
  numCarry: number,
  carryOps: Op[],
  anchor: Anchor,
): Map<Value, Anchored> {
  const known = new Map<Value, Anchored>(
    body.inputs
      .slice(0, numCarry)
      .map((v, i) => [v, { kept: anchor.kept[i]!, unchanged: anchor.unchanged[i]! }]),
  );
  for (const op of carryOps) {
    const layout = getOp(op.opcode).columns?.(op.attrs);
    if (!layout || !op.inputs.every((v) => known.has(v))) continue;
    const emit = (pick: (a: Anchored) => Value) =>
      b.emit(
        op.opcode,
        op.inputs.map((v) => pick(known.get(v)!)),
        op.attrs,
        op.regions,
      );
    const kept = emit((a) => a.kept);
    // A count moves with its entry; an op that keeps columns in place (rounding onto the grid)
    // maps equal entries to equal entries, so the count stays.
    const unchanged =
      layout.kind === "same" ? [known.get(op.inputs[0]!)!.unchanged] : emit((a) => a.unchanged);
    op.outputs.forEach((v, i) => known.set(v, { kept: kept[i]!, unchanged: unchanged[i]! }));
  }
  return known;
}

interface WalkResult {
  carryPre: Value[];
  dCarryPre: (Value | undefined)[];
  /** Cotangents of the body's non-carried inputs (xs slices, then consts). */
  dOther: (Value | undefined)[];
}

/**
 * Emits into b the reverse walk over the body: from the carried outputs (and their cotangents when
 * `dCarryPost` is given) to the carried inputs (and theirs), recomputing what depends on weights.
 */
function walkReverse(
  b: GraphBuilder,
  body: Graph,
  numCarry: number,
  carryPost: Value[],
  other: Value[],
  dCarryPost: (Value | undefined)[] | undefined,
  anchor?: Anchor,
): WalkResult {
  const why = carryPathError(body, numCarry);
  if (why) throw new NotInvertibleError(why);
  const withVjp = dCarryPost !== undefined;
  const dep = carryDependent(body, numCarry);

  // Weight-only computations (rare: the lowering passes weights straight in) run first.
  const prefix = new Graph(`${body.name}_weights`, body.inputs.slice(numCarry));
  prefix.ops.push(...body.ops.filter((op) => !op.inputs.some((v) => dep.has(v))));
  const prefixNeeded = new Set<Value>();
  for (const op of body.ops) {
    if (!op.inputs.some((v) => dep.has(v))) continue;
    for (const v of op.inputs) if (!dep.has(v)) prefixNeeded.add(v);
  }
  prefix.outputs = [...prefixNeeded];
  const pre: Forwarded = emitForward(b, prefix, other);
  const value = (v: Value): Value => {
    const m = pre.env.get(v) ?? known.get(v);
    if (!m) throw new Error(`inverse: value %${v.id} is not known`);
    return m;
  };

  const known = new Map<Value, Value>();
  const cot = new Map<Value, Value>();
  const pieces = new Map<Value, { start: number; piece: Value }[]>();
  const addCot = (v: Value, c: Value | undefined) => {
    if (!c) return;
    const p = cot.get(v);
    cot.set(v, p ? b.add(p, c) : c);
  };
  body.outputs.slice(0, numCarry).forEach((v, i) => {
    known.set(v, carryPost[i]!);
    if (withVjp) addCot(v, dCarryPost![i]);
  });
  const resolve = (v: Value): Value => {
    const k = known.get(v);
    if (k) return k;
    const ps = pieces.get(v);
    if (!ps) throw new Error(`inverse: no way to rebuild %${v.id}`);
    ps.sort((x, y) => x.start - y.start);
    const whole =
      ps.length === 1
        ? ps[0]!.piece
        : b.op(
            "concat_cols",
            ps.map((p) => p.piece),
          );
    known.set(v, whole);
    return whole;
  };
  const setKnown = (v: Value, x: Value) => {
    if (!known.has(v)) known.set(v, x);
  };

  const carryOps = body.ops.filter((op) => op.inputs.some((v) => dep.has(v)));
  const anchored = anchor ? anchorValues(b, body, numCarry, carryOps, anchor) : undefined;
  const anchorOf = (v: Value, rebuilt: Value): Value => {
    const a = anchored?.get(v);
    if (!a) return rebuilt;
    const exact = b.op("ge", [a.unchanged, anchor!.index]);
    return b.op("select", [exact, a.kept, rebuilt]);
  };
  for (let k = carryOps.length - 1; k >= 0; k--) {
    const op = carryOps[k]!;
    const inv = inverseOf(op)!; // carryPathError checked that every carry op has one
    if (inv.kind === "operands") {
      const rebuilt = inv.rebuild(b, op, resolve(op.outputs[0]!));
      op.inputs.forEach((x, i) => setKnown(x, rebuilt[i]!));
    } else if (inv.kind === "slice") {
      const out = resolve(op.outputs[0]!);
      const x = op.inputs[0]!;
      const { start } = inv.range(op.attrs);
      pieces.set(x, [...(pieces.get(x) ?? []), { start, piece: out }]);
    } else {
      const numVars = inv.numVars(op.attrs);
      const post = op.outputs.slice(0, numVars).map(resolve);
      const consts = op.inputs.slice(numVars).map(value);
      const dPost = withVjp ? op.outputs.slice(0, numVars).map((v) => cot.get(v)) : undefined;
      const varAnchor = anchored
        ? (j: number, rebuilt: Value) => anchorOf(op.inputs[j]!, rebuilt)
        : undefined;
      const r = reverseRevBlock(b, op, post, consts, dPost, undefined, varAnchor);
      op.inputs.slice(0, numVars).forEach((v, j) => setKnown(v, r.varsPre[j]!));
      if (withVjp) {
        op.inputs.slice(0, numVars).forEach((v, j) => addCot(v, r.dVarsPre[j]));
        op.inputs.slice(numVars).forEach((v, j) => addCot(v, r.dConsts[j]));
      }
      continue;
    }
    if (withVjp) {
      const dOut = cot.get(op.outputs[0]!);
      if (dOut) {
        // Layout VJPs read only their operands' shapes, so the body's own values serve.
        const dIns = getOp(op.opcode).vjp!(
          b,
          {
            inputs: op.inputs,
            outputs: op.outputs,
            attrs: op.attrs,
            regions: op.regions,
            source: op,
          },
          [dOut],
        );
        op.inputs.forEach((v, i) => addCot(v, dIns[i]));
      }
    }
  }
  // The rebuilt carry is the previous iteration's output, which that iteration's statements read:
  // anchored too, also where no statement of this one reads the entry value.
  const carryPre = body.inputs.slice(0, numCarry).map((v) => anchorOf(v, resolve(v)));
  const dCarryPre = body.inputs.slice(0, numCarry).map((v) => cot.get(v));
  let dOther: (Value | undefined)[] = body.inputs.slice(numCarry).map((v) => cot.get(v));
  if (withVjp && prefix.ops.length > 0) {
    // A weight the blocks read directly is both a body input and a prefix output: its cotangent
    // is already in dOther, so only values the prefix computes send theirs back through it.
    const prefixInputs = new Set(prefix.inputs);
    const viaPrefix = emitBackward(
      b,
      prefix,
      pre,
      prefix.outputs.map((v) => (prefixInputs.has(v) ? undefined : cot.get(v))),
    );
    dOther = dOther.map((d, i) => b.accumulate(d, viaPrefix[i]));
  }
  return { carryPre, dCarryPre, dOther };
}

/**
 * Undoes one rev_block from its outputs: statements in reverse, each inverted. With cotangents,
 * also applies each statement's VJP, reusing the single evaluation of its function.
 */
export function reverseRevBlock(
  b: GraphBuilder,
  op: Op,
  varsPost: Value[],
  consts: Value[],
  dVarsPost?: (Value | undefined)[],
  /** Receives each statement's recomputed function value, in statement order (diagnostics). */
  recomputed?: Value[],
  /**
   * Replaces a variable's rebuilt value at the block's entry (see "Anchoring" above): called once
   * per variable, as soon as the walk has its entry value and before any statement reads it.
   */
  anchorVar?: (variable: number, rebuilt: Value) => Value,
): { varsPre: Value[]; dVarsPre: (Value | undefined)[]; dConsts: (Value | undefined)[] } {
  const vars = [...varsPost];
  const dVars = dVarsPost ? [...dVarsPost] : [];
  const dConsts: (Value | undefined)[] = consts.map(() => undefined);
  const stmts = revStatements(op.attrs);
  // A variable's entry value is known once the walk has undone its first write (forward order);
  // a variable no statement writes has its entry value from the start.
  const firstWrite = vars.map((_, t) => {
    const k = stmts.findIndex((s) => statementUpdates(s).some((u) => u.target === t));
    return {
      stmt: k,
      update: k < 0 ? -1 : statementUpdates(stmts[k]!).findIndex((u) => u.target === t),
    };
  });
  // Only an entry value some statement reads (before the variable's first write) is worth
  // anchoring; the others leave the block without feeding any function or VJP.
  const entryRead = firstWrite.map((w, t) =>
    stmts.some((s, j) => (w.stmt < 0 || j < w.stmt) && s.reads.includes(t)),
  );
  if (anchorVar) {
    firstWrite.forEach((w, t) => {
      if (w.stmt < 0 && entryRead[t]) vars[t] = anchorVar(t, vars[t]!);
    });
  }
  for (let k = stmts.length - 1; k >= 0; k--) {
    const s = stmts[k]!;
    const updates = statementUpdates(s);
    const region = op.regions[k]!;
    const regionInputs = [...s.reads.map((r) => vars[r]!), ...consts];
    const atEntry = (t: number, j: number, pre: Value) =>
      anchorVar && firstWrite[t]!.stmt === k && firstWrite[t]!.update === j && entryRead[t]
        ? anchorVar(t, pre)
        : pre;
    // The statement reads none of its targets, so one evaluation of its region serves every
    // update's rebuild (undone last to first) and every VJP.
    const fwd = dVarsPost ? emitForward(b, region, regionInputs) : undefined;
    // Model-state values after the update values are recomputed only to be dropped: the state
    // was written from the forward pass's outputs, once.
    const gs = (fwd ? fwd.outputs : inlineGraph(b, region, regionInputs)).slice(0, updates.length);
    recomputed?.splice(0, 0, ...gs);
    const dgs: (Value | undefined)[] = gs.map(() => undefined);
    for (let j = updates.length - 1; j >= 0; j--) {
      const { target, combine } = updates[j]!;
      const post = vars[target]!;
      const g = gs[j]!;
      const rebuilt = b.op(inverseCombine[combine], [post, g]);
      rebuilt.hint = post.hint;
      // The combine's VJP reads its operands; the anchored value is the forward's own operand.
      const pre = atEntry(target, j, rebuilt);
      vars[target] = pre;
      const dPost = dVars[target];
      if (!fwd || !dPost) continue;
      const [dPre, dg] = getOp(combine).vjp!(
        b,
        { inputs: [pre, g], outputs: [post], attrs: {}, regions: [], source: op },
        [dPost],
      );
      dVars[target] = dPre;
      dgs[j] = dg;
    }
    if (!fwd || dgs.every((d) => !d)) continue;
    const grads = emitBackward(b, region, fwd, dgs);
    s.reads.forEach((r, i) => (dVars[r] = b.accumulate(dVars[r], grads[i])));
    consts.forEach((_, c) => (dConsts[c] = b.accumulate(dConsts[c], grads[s.reads.length + c])));
  }
  return { varsPre: vars, dVarsPre: dVars, dConsts };
}

function fresh(v: Value, hint?: string): Value {
  return new Value(tensorType(v.shape), hint ?? v.hint);
}

/**
 * The inverse of a loop body as a graph: inputs [carried outputs…, per-iteration inputs…,
 * invariants…], outputs the carried inputs.
 */
export function inverseBody(body: Graph, numCarry: number): Graph {
  const ins = body.inputs.map((v, i) => (i < numCarry ? fresh(body.outputs[i]!) : fresh(v)));
  const g = new Graph(`${body.name}_inverse`, ins);
  const b = new Builder(g);
  const r = walkReverse(b, body, numCarry, ins.slice(0, numCarry), ins.slice(numCarry), undefined);
  g.outputs = r.carryPre;
  return eliminateDeadCode(g);
}

/** The inverse of a standalone rev_block op: inputs [vars after…, consts…] → vars before. */
export function inverseRevBlock(op: Op): Graph {
  const ins = op.inputs.map((v) => fresh(v));
  const g = new Graph("rev_block_inverse", ins);
  const b = new Builder(g, op.loc);
  const numVars = op.attrs.numVars as number;
  g.outputs = reverseRevBlock(b, op, ins.slice(0, numVars), ins.slice(numVars)).varsPre;
  return g;
}

/**
 * The forward's loop body for an anchored backward (see "Anchoring"): the body, and per entry of
 * each carried value a count of the leading iterations after which it still equals the loop's
 * input — it stays at k while the entry changed in iteration k, and becomes k + 1 otherwise.
 *   inputs  [carry…, counts…, xs slices…, iteration index, invariants…, the loop's input…]
 *   outputs [carry…, counts…, model-state values…]
 */
export function countingBody(body: Graph, numCarry: number, numXs: number): Graph {
  const ins = body.inputs.map((v) => fresh(v));
  const carry = ins.slice(0, numCarry);
  const counts = carry.map((v) => fresh(v, `unchanged_${v.hint ?? "input"}`));
  const index = new Value(tensorType([]), "iteration");
  const kept = carry.map((v) => fresh(v, `kept_${v.hint ?? "input"}`));
  const g = new Graph(`${body.name}_counting`, [
    ...carry,
    ...counts,
    ...ins.slice(numCarry, numCarry + numXs),
    index,
    ...ins.slice(numCarry + numXs),
    ...kept,
  ]);
  const b = new Builder(g);
  const outs = inlineGraph(b, body, ins);
  const next = b.add(index, b.fill(1));
  const newCounts = counts.map((count, i) => {
    const stillEqual = b.mul(b.op("eq", [count, index]), b.op("eq", [outs[i]!, kept[i]!]));
    return b.op("select", [stillEqual, next, count]);
  });
  g.outputs = [...outs.slice(0, numCarry), ...newCounts, ...outs.slice(numCarry)];
  return g;
}

export interface RevBackwardBody {
  /**
   * inputs  [carry after…, its cotangent…, gradient accumulators of invariants…, xs slices…,
   *          (iteration index,) invariants…, (the loop's input…, its unchanged counts…)]
   * outputs [carry before…, its cotangent…, updated accumulators…, gradients of xs slices…]
   * The bracketed inputs are there when the body is anchored (see "Anchoring").
   */
  graph: Graph;
  hasConstGrad: boolean[];
  hasXsGrad: boolean[];
}

/** The body of the backward scan of a reversible loop. */
export function revBackwardBody(
  body: Graph,
  numCarry: number,
  numXs: number,
  opts: { anchored?: boolean } = {},
): RevBackwardBody {
  const carryPost = body.outputs.slice(0, numCarry).map((v) => fresh(v, v.hint));
  const dCarryPost = carryPost.map((v) => fresh(v, `d${v.hint ?? ""}`));
  const other = body.inputs.slice(numCarry).map((v) => fresh(v));
  const carryIn = body.inputs.slice(0, numCarry);
  const anchor = opts.anchored
    ? {
        index: new Value(tensorType([]), "iteration"),
        kept: carryIn.map((v) => fresh(v, `kept_${v.hint ?? "input"}`)),
        unchanged: carryIn.map((v) => fresh(v, `unchanged_${v.hint ?? "input"}`)),
      }
    : undefined;
  const scratch = new Graph("scratch", []);
  const b = new Builder(scratch);
  const r = walkReverse(b, body, numCarry, carryPost, other, dCarryPost, anchor);
  const dXs = r.dOther.slice(0, numXs);
  const consts = other.slice(numXs);
  const dConsts = withoutEdgeDataGradients(consts, r.dOther.slice(numXs));
  const hasConstGrad = dConsts.map((d) => !!d);
  const hasXsGrad = dXs.map((d) => !!d);
  const accs = consts.flatMap((c, i) =>
    hasConstGrad[i] ? [fresh(c, `acc_d${c.hint ?? ""}`)] : [],
  );
  let k = 0;
  const accOut = dConsts.flatMap((d) => (d ? [b.add(accs[k++]!, d)] : []));
  const outputs = [
    ...r.carryPre,
    ...r.dCarryPre.map((d, i) => d ?? b.zerosLike(carryPost[i]!.shape)),
    ...accOut,
    ...dXs.filter((d): d is Value => !!d),
  ];
  const graph = new Graph(`${body.name}_rev_backward`, [
    ...carryPost,
    ...dCarryPost,
    ...accs,
    ...other.slice(0, numXs),
    ...(anchor ? [anchor.index] : []),
    ...consts,
    ...(anchor ? [...anchor.kept, ...anchor.unchanged] : []),
  ]);
  graph.ops.push(...scratch.ops);
  graph.outputs = outputs;
  return { graph: eliminateDeadCode(graph), hasConstGrad, hasXsGrad };
}
