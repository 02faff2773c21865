// Control ops: each carries regions. Their VJPs need to change what the forward pass keeps, so
// their code lives with the autodiff transform (compiler/autodiff/control.ts) and is registered
// here as `regionVjp`; their lowerings are the scheduler's (runtime loops over one compiled body).
//
//  scan       `repeat L`: one body, L iterations, a carried state, per-iteration inputs stacked
//             along a leading axis of size L (xs: weights, iteration numbers), loop-invariant
//             inputs (consts: tied weights), per-iteration outputs stacked (ys).
//  rev_block  a block of invertible update statements `x_j ⊕= g(reads)`, ⊕ ∈ {+, −, ×, ÷};
//             each statement's g is a region of the variables it reads and the block's consts.
//             A compound statement (`then`) applies several updates whose values one region
//             computes together — a reversible body's `let` shared by them is evaluated once.
//             A region may also return model-state values (`states`), after the update values:
//             outputs of the block after its variables, outside the inverse and the gradient.
//  fixpoint   z* = f(z*, consts) by plain (Picard) or Anderson-accelerated iteration.
import { andersonWeightsFromGram } from "../../contract.js";
import { fixpointVjp, revBlockVjp, scanVjp } from "../../autodiff/control.js";
import { dimEquals, shapeEquals, shapeToString } from "../dims.js";
import type { EvalContext, OpDef } from "../op-def.js";
import { tensor, type Tensor } from "../tensor.js";
import type { Graph, Shape } from "../types.js";
import {
  combine64,
  fixpointAttrs,
  revStatements,
  scanAttrs,
  statementStates,
  statementUpdates,
  type FixpointAttrs,
} from "./control-attrs.js";

export * from "./control-attrs.js";

function sliceLeading(t: Tensor, i: number): Tensor {
  const inner = t.shape.slice(1);
  const size = inner.reduce((a, b) => a * b, 1);
  return { shape: inner, data: t.data.slice(i * size, (i + 1) * size) };
}

function regionSignatureError(
  region: Graph,
  expected: readonly Shape[],
  what: string,
): string | undefined {
  if (region.inputs.length !== expected.length) {
    return `${what}: region takes ${region.inputs.length} inputs, op passes ${expected.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    if (!shapeEquals(region.inputs[i]!.shape, expected[i]!)) {
      return `${what}: region input ${i} is ${shapeToString(region.inputs[i]!.shape)}, op passes ${shapeToString(expected[i]!)}`;
    }
  }
  return undefined;
}

const scanOp: OpDef = {
  name: "scan",
  doc: "loop of `count` iterations over one body: carried state, stacked per-iteration inputs and outputs",
  shape: (inputs, attrs, [body]) => {
    const { count, numCarry, numXs } = scanAttrs(attrs);
    const carry = inputs.slice(0, numCarry);
    const xs = inputs.slice(numCarry, numCarry + numXs);
    const consts = inputs.slice(numCarry + numXs);
    for (const x of xs) {
      if (x.length === 0 || !dimEquals(x[0]!, count)) {
        return `scan: a stacked input must have a leading dimension of ${count}, got ${shapeToString(x)}`;
      }
    }
    const err = regionSignatureError(
      body!,
      [...carry, ...xs.map((x) => x.slice(1)), ...consts],
      "scan body",
    );
    if (err) return err;
    const outs = body!.outputs.map((v) => v.shape);
    for (let i = 0; i < numCarry; i++) {
      if (!shapeEquals(outs[i]!, carry[i]!)) {
        return `scan: the body turns a carried ${shapeToString(carry[i]!)} into ${shapeToString(outs[i]!)}`;
      }
    }
    return [...outs.slice(0, numCarry), ...outs.slice(numCarry).map((s) => [count, ...s])];
  },
  evaluate: (inputs, attrs, ctx, [body]) => {
    const { count, numCarry, numXs, reverse } = scanAttrs(attrs);
    let carry = inputs.slice(0, numCarry);
    const xs = inputs.slice(numCarry, numCarry + numXs);
    const consts = inputs.slice(numCarry + numXs);
    const ys: Tensor[][] = [];
    for (let k = 0; k < count; k++) {
      const i = reverse ? count - 1 - k : k;
      const out = ctx.runRegion(body!, [...carry, ...xs.map((x) => sliceLeading(x, i)), ...consts]);
      carry = out.slice(0, numCarry);
      ys[i] = out.slice(numCarry);
    }
    const numYs = body!.outputs.length - numCarry;
    const stacked: Tensor[] = [];
    for (let j = 0; j < numYs; j++) {
      const inner = count > 0 ? ys[0]![j]!.shape : [];
      const size = inner.reduce((a, b) => a * b, 1);
      const t = tensor([count, ...inner]);
      for (let i = 0; i < count; i++) t.data.set(ys[i]![j]!.data, i * size);
      stacked.push(t);
    }
    return [...carry, ...stacked];
  },
  regionVjp: scanVjp,
  lowering: { kind: "control" },
};

const revBlockOp: OpDef = {
  name: "rev_block",
  doc: "a block of invertible updates x_j ⊕= g(reads), ⊕ ∈ {+=, −=, ×=, ÷=}; inverse derived by reversal",
  shape: (inputs, attrs, regions) => {
    const numVars = attrs.numVars as number;
    const vars = inputs.slice(0, numVars);
    const consts = inputs.slice(numVars);
    const stmts = revStatements(attrs);
    if (stmts.length !== regions.length) return "rev_block: one region per statement";
    const states: Shape[] = [];
    for (let k = 0; k < stmts.length; k++) {
      const s = stmts[k]!;
      const updates = statementUpdates(s);
      if (updates.some((u) => s.reads.includes(u.target)))
        return `rev_block: statement ${k} reads the variable it updates`;
      const err = regionSignatureError(
        regions[k]!,
        [...s.reads.map((r) => vars[r]!), ...consts],
        `rev_block statement ${k}`,
      );
      if (err) return err;
      const numStates = statementStates(s);
      if (regions[k]!.outputs.length !== updates.length + numStates)
        return `rev_block: statement ${k} has ${updates.length} updates and ${numStates} states but its region ${regions[k]!.outputs.length} outputs`;
      states.push(...regions[k]!.outputs.slice(updates.length).map((v) => v.shape));
      for (const [i, u] of updates.entries()) {
        const g = regions[k]!.outputs[i]!.shape;
        const t = vars[u.target]!;
        if (!shapeEquals(g, t)) {
          return `rev_block: statement ${k} updates a ${shapeToString(t)} variable with a ${shapeToString(g)} value`;
        }
      }
    }
    return [...vars, ...states];
  },
  evaluate: (inputs, attrs, ctx, regions) => {
    const numVars = attrs.numVars as number;
    const vars = inputs.slice(0, numVars);
    const consts = inputs.slice(numVars);
    const states: Tensor[] = [];
    revStatements(attrs).forEach((s, k) => {
      const gs = ctx.runRegion(regions[k]!, [...s.reads.map((r) => vars[r]!), ...consts]);
      states.push(...gs.slice(statementUpdates(s).length));
      statementUpdates(s).forEach((u, j) => {
        const x = vars[u.target]!;
        const g = gs[j]!;
        const out = tensor(x.shape);
        for (let i = 0; i < out.data.length; i++)
          out.data[i] = combine64(u.combine, x.data[i]!, g.data[i]!);
        vars[u.target] = out;
      });
    });
    return [...vars, ...states];
  },
  regionVjp: revBlockVjp,
  inverse: { kind: "block", numVars: (attrs) => attrs.numVars as number },
  lowering: { kind: "control" },
};

function norm(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s);
}

/** Anderson mixing weights of a residual history (normal equations with a small ridge). */
export function andersonWeights(residuals: Float64Array[]): number[] {
  return andersonWeightsFromGram(gramMatrix(residuals));
}

function gramMatrix(residuals: Float64Array[]): number[][] {
  const m = residuals.length;
  const G = Array.from({ length: m }, (_, i) =>
    Array.from({ length: m }, (_, j) => {
      let s = 0;
      const a = residuals[i]!;
      const b = residuals[j]!;
      for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
      return s;
    }),
  );
  return G;
}

/** Iterates z ← f(z) until ‖f(z) − z‖ ≤ tol·max(‖f(z)‖, 1) or maxIter; returns z and stats. */
export function solveFixpoint(
  f: (z: Tensor) => Tensor,
  init: Tensor,
  opts: FixpointAttrs,
): { z: Tensor; iterations: number; residual: number } {
  let z = init;
  const history: { fz: Float64Array; r: Float64Array }[] = [];
  let residual = Infinity;
  let it = 0;
  while (it < opts.maxIter) {
    const fz = f(z);
    it++;
    const r = new Float64Array(fz.data.length);
    for (let i = 0; i < r.length; i++) r[i] = fz.data[i]! - z.data[i]!;
    residual = norm(r) / Math.max(norm(fz.data), 1);
    if (residual <= opts.tol) {
      z = fz;
      break;
    }
    if (opts.solver === "anderson") {
      history.push({ fz: fz.data, r });
      if (history.length > opts.memory) history.shift();
      const alpha = andersonWeights(history.map((h) => h.r));
      const next = new Float64Array(fz.data.length);
      history.forEach((h, i) => {
        for (let k = 0; k < next.length; k++) next[k]! += alpha[i]! * h.fz[k]!;
      });
      z = { shape: fz.shape, data: next };
    } else {
      z = fz;
    }
  }
  return { z, iterations: it, residual };
}

const fixpointOp: OpDef = {
  name: "fixpoint",
  doc: "z* = f(z*, consts) from an initial z, by Picard or Anderson iteration to a tolerance",
  shape: (inputs, _attrs, [f]) => {
    const err = regionSignatureError(f!, inputs, "fixpoint cell");
    if (err) return err;
    if (f!.outputs.length !== 1 || !shapeEquals(f!.outputs[0]!.shape, inputs[0]!)) {
      return `fixpoint: the cell must return the iterate's shape ${shapeToString(inputs[0]!)}`;
    }
    return [inputs[0]!];
  },
  evaluate: (inputs, attrs, ctx: EvalContext, [f]) => {
    const opts = fixpointAttrs(attrs);
    const consts = inputs.slice(1);
    const result = solveFixpoint((z) => ctx.runRegion(f!, [z, ...consts])[0]!, inputs[0]!, opts);
    ctx.record?.(opts.tag, { iterations: result.iterations, residual: result.residual });
    return [result.z];
  },
  regionVjp: fixpointVjp,
  lowering: { kind: "control" },
};

const iotaOp: OpDef = {
  name: "iota",
  doc: "0, 1, …, count−1 (the iteration numbers a scan body sees)",
  shape: (_inputs, attrs) => [[attrs.count as number]],
  evaluate: (_inputs, attrs) => {
    const n = attrs.count as number;
    return [
      tensor(
        [n],
        Array.from({ length: n }, (_, i) => i),
      ),
    ];
  },
  zeroGradient: true,
  bookkeeping: true,
  lowering: { kind: "elementwise", emit: (c) => `f32(${c.index})`, reads: "linear-index" },
};

export const controlOps: OpDef[] = [scanOp, revBlockOp, fixpointOp, iotaOp];
