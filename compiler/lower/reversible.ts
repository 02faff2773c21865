// Reversible blocks: a reversible layer and the grouped coupling (`reversible groups C f(…) (h)`)
// both become one rev_block op, one region per statement (see reversible-body.ts for how a layer's
// updates are grouped and reversible-broadcast.ts for how an update is widened to its variable).
import type { GroupsExpr, LayerDecl, Span } from "../../grammar/ast.js";
import { suggest } from "../../grammar/spelling.js";
import { shapeToString } from "../ir/dims.js";
import type { Combine } from "../ir/ops/control.js";
import type { Value } from "../ir/types.js";
import { UPDATE_COMBINE } from "./arithmetic.js";
import { shaped, tensorOf } from "./coerce.js";
import type { LowerContext } from "./context.js";
import { evalDimExpr } from "./dims.js";
import { checkEdgeTensorsReadOnly, lowerTensorArgument } from "./edge-values.js";
import { unknownDim } from "./frame.js";
import { broadcastUpdate } from "./reversible-broadcast.js";
import { planReversibleBody } from "./reversible-body.js";
import { culprit, provablyNonzero, whyMaybeZero, type SignEnv } from "./reversible-check.js";
import { RegionScope } from "./scope.js";
import { LowerError, VarEnv, type Frame, type LVal } from "./values.js";

/**
 * Emits a rev_block: one region per statement, of the variables it reads and whatever it
 * captures (weights, conditioning inputs, the iteration number); every region receives the
 * union of the captures. A statement with several updates is a compound one (shared `let`s).
 */
function emitRevBlock(
  cx: LowerContext,
  f: Frame,
  vars: Value[],
  stmts: {
    reads: number[];
    updates: { target: number; combine: Combine; span: Span }[];
    lower: (scope: RegionScope, reads: Value[]) => Value[];
    span: Span;
  }[],
  span: Span,
): Value[] {
  const regions: RegionScope[] = [];
  const outputs: Value[][] = [];
  const exact = cx.opts.exact;
  if (exact) {
    // On the grid already after the first block: the rounding is the identity there.
    vars = vars.map((v) => f.scope.b.unary("quantize", v, { bits: exact.bits }));
  }
  const current = [...vars];
  stmts.forEach((s, k) => {
    const region = new RegionScope(f.scope, `stmt${k + 1}`, s.span);
    const reads = s.reads.map((r, i) => region.arg(current[r]!.shape, `x${r + 1}_${i}`));
    const gs = s.lower(region, reads).map((g, i) => {
      const u = s.updates[i]!;
      if (exact) {
        if (u.combine !== "add" && u.combine !== "sub") {
          // Why not: x·γ of a value on the 2^-bits grid is off the grid, and rounding it back
          // drops bits that x' / γ cannot restore. An exact scheme (MomentumNet's, after
          // Maclaurin et al.) keeps those bits in a per-block integer buffer; there is none here.
          throw new LowerError(
            `\`${u.combine === "mul" ? "*=" : "/="}\` cannot be exact: a value on the 2^-${exact.bits} grid times a factor leaves the grid, and rounding it back loses bits the inverse cannot restore`,
            u.span,
            "exact multiplication would need a buffer of the lost bits per block, which revgnn does not keep; train without --exact and bound the drift with --checkpoint-every k",
          );
        }
      }
      const full = broadcastUpdate(region, g, current[u.target]!.shape, u.span);
      return exact ? region.b.unary("quantize", full, { bits: exact.bits }) : full;
    });
    regions.push(region);
    outputs.push(gs);
  });
  const consts: Value[] = [];
  for (const r of regions) for (const o of r.capturedOuter) if (!consts.includes(o)) consts.push(o);
  // A statement's region returns its new model-state values (running statistics) after its
  // update values; the block passes them on after its variables.
  const graphs = regions.map((r, k) =>
    r.finish([...outputs[k]!, ...r.newStates.map((u) => u.value)], consts),
  );
  const outs = shaped(span, () =>
    f.scope.b.emit(
      "rev_block",
      [...vars, ...consts],
      {
        numVars: vars.length,
        stmts: stmts.map(({ reads, updates: [first, ...rest] }, k) => ({
          target: first!.target,
          combine: first!.combine,
          reads,
          ...(rest.length
            ? { then: rest.map(({ target, combine }) => ({ target, combine })) }
            : {}),
          ...(regions[k]!.newStates.length ? { states: regions[k]!.newStates.length } : {}),
        })) as never,
      },
      graphs,
    ),
  );
  const newStates = regions.flatMap((r) => r.newStates);
  newStates.forEach((u, i) => f.scope.updateState({ name: u.name, value: outs[vars.length + i]! }));
  return outs.slice(0, vars.length);
}

/**
 * A reversible layer: its updated arguments are the block's variables, the others conditioning
 * inputs captured like weights; each group of updates (see reversible-body.ts) is one statement
 * whose region computes the group's temporaries once and then every update's value.
 */
export function callReversibleLayer(
  cx: LowerContext,
  layer: LayerDecl,
  args: Value[],
  f: Frame,
  span: Span,
): LVal {
  const plan = planReversibleBody(layer);
  checkEdgeTensorsReadOnly(layer, plan.variables, args);
  const argNames = layer.args.map((a) => a.name.name);
  // Parameters are declared in the enclosing scope; the statements capture them.
  for (const stmt of layer.body) if (stmt.kind === "param") cx.lowerStmt(stmt, f);
  const varOf = (argIndex: number) => plan.variables.indexOf(argIndex);
  const env: SignEnv = (n) => {
    const h = f.hypers.get(n);
    return typeof h === "number" ? h : plan.letValues.get(n);
  };
  const stmts = plan.groups.map((g) => ({
    reads: g.reads.map(varOf),
    updates: g.updates.map((u) => {
      if ((u.op === "*=" || u.op === "/=") && !provablyNonzero(u.value, env)) {
        const weak = culprit(u.value, env);
        throw new LowerError(
          `\`${u.target.name} ${u.op} …\` is not invertible here: the factor could be zero (${whyMaybeZero(weak, env, "this")})`,
          weak.span,
          "give the hyperparameter a nonzero value",
        );
      }
      return {
        target: varOf(argNames.indexOf(u.target.name)),
        combine: UPDATE_COMBINE[u.op]!,
        span: u.span,
      };
    }),
    span: g.updates[0]!.span,
    lower: (scope: RegionScope, readValues: Value[]) => {
      const vars = new VarEnv(f.vars);
      argNames.forEach((n, i) => {
        const r = g.reads.indexOf(i);
        const value = plan.conditions.includes(i)
          ? args[i]!
          : r >= 0
            ? readValues[r]!
            : ("poison" as const);
        vars.declare(n, { value, mutable: false });
      });
      const inner: Frame = { ...f, scope, vars };
      for (const l of g.lets) cx.lowerLet(l, inner);
      return g.updates.map((u) =>
        tensorOf(cx.lowerExpr(u.value, inner), u.value.span, "update", inner),
      );
    },
  }));
  const out = emitRevBlock(
    cx,
    f,
    plan.variables.map((i) => args[i]!),
    stmts,
    span,
  );
  return out.length === 1 ? { kind: "tensor", v: out[0]! } : { kind: "tuple", items: out };
}

/** `reversible groups C f(…) (h)`: the paper's grouped additive coupling. */
export function lowerGroups(cx: LowerContext, e: GroupsExpr, f: Frame): LVal {
  if (f.edge)
    throw new LowerError("a reversible coupling cannot appear inside an aggregate", e.span);
  const layer = cx.layers.get(e.layer.name);
  if (!layer) {
    const s = suggest(e.layer.name, [...cx.layers.keys()]);
    throw new LowerError(
      `unknown layer \`${e.layer.name}\``,
      e.layer.span,
      s ? `did you mean \`${s}\`?` : undefined,
    );
  }
  if (layer.args.length !== 1 + e.conditions.length || layer.reversible) {
    throw new LowerError(
      e.conditions.length === 0
        ? `a group function takes one tensor and returns one of the same shape; \`${layer.name.name}\` does not`
        : `a group function takes its group's tensor and the ${e.conditions.length} further input${e.conditions.length === 1 ? "" : "s"} given here, and returns one of the group's shape; \`${layer.name.name}\` takes ${layer.args.length} tensor${layer.args.length === 1 ? "" : "s"}`,
      e.layer.span,
    );
  }
  // Further inputs (edge features) are read unchanged by every group: conditioning inputs.
  const conditions = e.conditions.map((c) =>
    tensorOf(lowerTensorArgument(cx, c, f), c.span, "input", f),
  );
  const C = evalDimExpr(e.groups, f, (name, d) => unknownDim(name, d.span, f));
  if (typeof C !== "number" || C < 2) {
    throw new LowerError(
      `a reversible coupling needs at least 2 groups, got ${String(C)}`,
      e.groups.span,
      "with C = 1 there is nothing to couple",
    );
  }
  const h = tensorOf(cx.lowerExpr(e.input, f), e.input.span, "input", f);
  const width = h.shape[1];
  if (h.shape.length !== 2 || typeof width !== "number" || width % C !== 0) {
    throw new LowerError(
      `cannot split ${shapeToString(h.shape)} into ${C} equal channel groups`,
      e.input.span,
      "the channel count must be divisible by the number of groups",
    );
  }
  const d = width / C;
  const parts = Array.from({ length: C }, (_, i) =>
    f.scope.b.op("slice_cols", [h], { start: i * d, len: d }),
  );
  // x_1 += f_1(x_2 + … + x_C);  x_i += f_i(x_{i−1}) for i = 2..C (x_{i−1} already updated).
  const stmts = Array.from({ length: C }, (_, i) => ({
    updates: [{ target: i, combine: "add" as Combine, span: e.span }],
    reads: i === 0 ? Array.from({ length: C - 1 }, (_, k) => k + 1) : [i - 1],
    span: e.span,
    lower: (scope: RegionScope, reads: Value[]) => {
      const inner: Frame = { ...f, scope };
      let input = reads[0]!;
      for (let k = 1; k < reads.length; k++) input = scope.b.add(input, reads[k]!);
      const r = cx.callLayer(layer, e.hyperArgs, e, inner, `group${i + 1}`, [input, ...conditions]);
      return [tensorOf(r, e.span, "group function result", inner)];
    },
  }));
  const out = emitRevBlock(cx, f, parts, stmts, e.span);
  return { kind: "tensor", v: f.scope.b.op("concat_cols", out) };
}
