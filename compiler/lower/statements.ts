// Statements: parameters and their initialisers, `let` / `var`, assignment and updates, blocks
// with their `return`, and `repeat` (one scan over a body compiled once).
import type { Expr, Ident, LetStmt, Span, Stmt } from "../../grammar/ast.js";
import { suggest } from "../../grammar/spelling.js";
import { shapeEquals, shapeToString } from "../ir/dims.js";
import type { Dim, Value } from "../ir/types.js";
import { binary, UPDATE_COMBINE } from "./arithmetic.js";
import { tensorOf } from "./coerce.js";
import { guard, type LowerContext } from "./context.js";
import { evalDimExpr, evalTypeDims } from "./dims.js";
import { readVar, unknownDim, visibleNames } from "./frame.js";
import { assignedOuterNames } from "./names.js";
import { LoopScope, StateUpdateRefused, type InitSpec } from "./scope.js";
import { LowerError, Poisoned, VarEnv, type Frame, type LVal, type VarBinding } from "./values.js";

function poison(targets: Ident[], f: Frame, mutable: boolean): void {
  for (const t of targets) {
    if (!f.vars.assign(t.name, "poison"))
      f.vars.declare(t.name, { value: "poison", mutable, declaredAt: t.span });
  }
}

/** Lowers a statement list; returns the `return` values if the block has one. */
export function lowerBlock(cx: LowerContext, stmts: Stmt[], f: Frame): Value[] | undefined {
  let result: Value[] | undefined;
  for (const stmt of stmts) {
    if (result) {
      cx.diags.error("unreachable statement after `return`", stmt.span);
      break;
    }
    if (stmt.kind === "return") {
      let ok: Value[] | undefined;
      guard(cx, () => {
        ok = stmt.values.map((e) => tensorOf(cx.lowerExpr(e, f), e.span, "returned value"));
      });
      result = ok ?? [];
      continue;
    }
    lowerStmt(cx, stmt, f);
  }
  return result;
}

export function lowerStmt(cx: LowerContext, stmt: Stmt, f: Frame): void {
  switch (stmt.kind) {
    case "param":
      if (!guard(cx, () => lowerParam(cx, stmt, f))) poison([stmt.name], f, false);
      return;
    case "let":
      if (!guard(cx, () => lowerLet(cx, stmt, f))) poison(stmt.targets, f, stmt.mutable);
      return;
    case "assign":
      guard(cx, () =>
        lowerAssign(cx, stmt.targets, stmt.tuple, cx.lowerExpr(stmt.value, f), stmt.span, f),
      );
      return;
    case "update":
      guard(cx, () => {
        const cur = readVar(stmt.target, f);
        const rhs = cx.lowerExpr(stmt.value, f);
        const opcode = UPDATE_COMBINE[stmt.op]!;
        const next = binary(opcode, { kind: "tensor", v: cur }, rhs, stmt.span, f, stmt.op);
        lowerAssign(cx, [stmt.target], false, next, stmt.span, f);
      });
      return;
    case "repeat":
      guard(cx, () => lowerRepeat(cx, stmt, f));
      return;
    case "loss":
    case "output":
      cx.diags.error(`\`${stmt.kind}\` belongs in a model, not in a layer`, stmt.span);
      return;
    case "return":
      cx.diags.error("`return` is only allowed at the end of a layer", stmt.span);
      return;
  }
}

function lowerParam(cx: LowerContext, stmt: Extract<Stmt, { kind: "param" }>, f: Frame): void {
  if (stmt.state) return lowerStateDecl(stmt, f);
  if (f.edge) throw new LowerError("parameters cannot be declared inside an aggregate", stmt.span);
  if (f.vars.hasOwn(stmt.name.name)) {
    throw new LowerError(`\`${stmt.name.name}\` is already defined in this layer`, stmt.name.span);
  }
  const shape = evalTypeDims(stmt.type, f, (name, e) => unknownDim(name, e.span, f));
  if (stmt.type.role !== "tensor")
    throw new LowerError("a parameter is a plain tensor type", stmt.type.span);
  const init = initSpec(stmt.init);
  const weightDecay = stmt.decay && lowerDecay(cx, stmt.decay, f);
  const v = f.scope.param({
    name: f.path + stmt.name.name,
    shape,
    blockShape: shape,
    stacked: [],
    init,
    ...(weightDecay !== undefined ? { weightDecay } : {}),
    loc: stmt.span,
  });
  f.vars.declare(stmt.name.name, { value: v, mutable: false, declaredAt: stmt.span });
}

/**
 * `state mu: [d] = zeros`: model state, declared like a parameter (stacked per block inside a
 * `repeat`) but never trained, so it takes no weight decay.
 */
function lowerStateDecl(stmt: Extract<Stmt, { kind: "param" }>, f: Frame): void {
  if (f.edge) throw new LowerError("a state cannot be declared inside an aggregate", stmt.span);
  if (f.vars.hasOwn(stmt.name.name)) {
    throw new LowerError(`\`${stmt.name.name}\` is already defined in this layer`, stmt.name.span);
  }
  if (stmt.decay) {
    throw new LowerError(
      `state \`${stmt.name.name}\` is not trained, so it has no weight decay`,
      stmt.decay.span,
      "a state changes only by its update (`" +
        stmt.name.name +
        " = …`); declare a trained tensor with `param`",
    );
  }
  if (stmt.type.role !== "tensor")
    throw new LowerError("a state is a plain tensor type", stmt.type.span);
  const shape = evalTypeDims(stmt.type, f, (name, e) => unknownDim(name, e.span, f));
  const path = f.path + stmt.name.name;
  const v = f.scope.state({
    name: path,
    shape,
    blockShape: shape,
    stacked: [],
    init: initSpec(stmt.init),
    loc: stmt.span,
  });
  f.vars.declare(stmt.name.name, {
    value: v,
    mutable: false,
    declaredAt: stmt.span,
    state: { path },
  });
}

/**
 * `mu = e` for a state: its one update, an output of the training step's forward pass (the
 * evaluation graph, which writes no state, only checks it). A value with extra leading 1s
 * (`mean_nodes(x)`: [1, d] for a [d] state) is reshaped.
 */
function lowerStateUpdate(
  cx: LowerContext,
  target: Ident,
  binding: VarBinding,
  next: Value,
  span: Span,
  f: Frame,
): void {
  const state = binding.state!;
  if (state.updatedAt) {
    throw new LowerError(
      `state \`${target.name}\` is updated twice (first on line ${state.updatedAt.line})`,
      target.span,
      "a state has one update per training step; compute the new value first and assign it once",
    );
  }
  if (binding.value === "poison") throw new Poisoned();
  const shape = (binding.value as Value).shape;
  const value = stateShaped(next, shape, f);
  if (!value) {
    throw new LowerError(
      `state \`${target.name}\` is ${shapeToString(shape)} but the new value is ${shapeToString(next.shape)}`,
      span,
      "a state keeps its shape; a column statistic such as mean_nodes(x) ([1, d]) fits a [d] state",
    );
  }
  if (cx.opts.training) {
    try {
      // No loss reads a new state, so nothing flows back through it: said to autodiff, so that
      // no backward (a stored loop's included) computes the update's VJP only to multiply by 0.
      const detached = f.scope.b.unary("stop_gradient", value);
      f.scope.updateState({ name: state.path, value: detached });
    } catch (e) {
      if (e instanceof StateUpdateRefused) throw new LowerError(e.message, span);
      throw e;
    }
  }
  state.updatedAt = span;
}

/** v as a tensor of `shape`: itself, or reshaped when it only has extra leading 1s. */
function stateShaped(v: Value, shape: readonly Dim[], f: Frame): Value | undefined {
  if (shapeEquals(v.shape, shape)) return v;
  const extra = v.shape.length - shape.length;
  if (extra <= 0 || !v.shape.slice(0, extra).every((d) => d === 1)) return undefined;
  if (!shapeEquals(v.shape.slice(extra), shape)) return undefined;
  return f.scope.b.op("reshape", [v], { shape: [...shape] });
}

/** A parameter's own weight decay: a compile-time number ≥ 0 (a literal or hyperparameters). */
function lowerDecay(cx: LowerContext, e: Expr, f: Frame): number {
  const hint =
    "a weight decay is a number ≥ 0 known when the model compiles, e.g. `decay = 0.01` or a float hyperparameter";
  const v = cx.lowerExpr(e, f);
  if (v.kind !== "number")
    throw new LowerError(`a parameter's decay must be a number, not a ${v.kind}`, e.span, hint);
  if (!Number.isFinite(v.n) || v.n < 0) {
    throw new LowerError(`a parameter's decay must be ≥ 0, got ${v.n}`, e.span, hint);
  }
  return v.n;
}

function initSpec(init: Extract<Stmt, { kind: "param" }>["init"]): InitSpec {
  const args = init.args.map((a) => (a.kind === "lit_number" ? a.value : NaN));
  const one = (what: string): number => {
    if (args.length !== 1 || Number.isNaN(args[0]!)) {
      throw new LowerError(
        `\`${init.name.name}\` takes one number: ${init.name.name}(${what})`,
        init.span,
      );
    }
    return args[0]!;
  };
  const none = () => {
    if (args.length) throw new LowerError(`\`${init.name.name}\` takes no arguments`, init.span);
  };
  switch (init.name.name) {
    case "glorot":
      none();
      return { kind: "glorot" };
    case "zeros":
      none();
      return { kind: "zeros" };
    case "ones":
      none();
      return { kind: "ones" };
    case "normal":
      return { kind: "normal", std: one("std") };
    case "uniform":
      return { kind: "uniform", bound: one("bound") };
    case "constant":
      return { kind: "constant", value: one("value") };
    default: {
      const s = suggest(init.name.name, [
        "glorot",
        "zeros",
        "ones",
        "normal",
        "uniform",
        "constant",
      ]);
      throw new LowerError(
        `unknown initialiser \`${init.name.name}\``,
        init.name.span,
        s
          ? `did you mean \`${s}\`?`
          : "use glorot, zeros, ones, normal(std), uniform(bound) or constant(value)",
      );
    }
  }
}

export function lowerLet(cx: LowerContext, stmt: LetStmt, f: Frame): void {
  const val = cx.lowerExpr(stmt.value, f);
  if (!stmt.tuple && !stmt.mutable && val.kind === "tuple") {
    // `let t = split(h, 2)` names the whole tuple, whose items are read as t[0], t[1].
    declareFresh(f, stmt.targets[0]!, { value: val.items, mutable: false });
    return;
  }
  const values = destructure(stmt.targets, stmt.tuple, val, stmt.span);
  stmt.targets.forEach((t, i) => {
    declareFresh(f, t, { value: values[i]!, mutable: stmt.mutable });
  });
}

/** Declares a `let`/`var` name in the current block (`_` discards); redefinition is an error. */
function declareFresh(f: Frame, t: Ident, binding: Omit<VarBinding, "declaredAt">): void {
  if (t.name === "_") return;
  if (f.vars.hasOwn(t.name)) {
    throw new LowerError(
      `\`${t.name}\` is already defined in this block`,
      t.span,
      "choose another name, or assign with `=` to a `var`",
    );
  }
  f.vars.declare(t.name, { ...binding, declaredAt: t.span });
}

function destructure(targets: Ident[], tuple: boolean, val: LVal, span: Span): Value[] {
  if (!tuple) {
    if (val.kind === "tuple") {
      throw new LowerError(
        `this is a tuple of ${val.items.length} tensors`,
        span,
        `unpack it: let (${val.items.map((_, i) => `a${i + 1}`).join(", ")}) = …, or name it with \`let\` and read t[0] …`,
      );
    }
    return [tensorOf(val, span, "value")];
  }
  if (val.kind !== "tuple")
    throw new LowerError(`cannot unpack a single tensor into ${targets.length} names`, span);
  if (val.items.length !== targets.length) {
    throw new LowerError(
      `cannot unpack ${val.items.length} tensors into ${targets.length} names`,
      span,
    );
  }
  return val.items;
}

function lowerAssign(
  cx: LowerContext,
  targets: Ident[],
  tuple: boolean,
  val: LVal,
  span: Span,
  f: Frame,
): void {
  const values = destructure(targets, tuple, val, span);
  targets.forEach((t, i) => {
    const binding = f.vars.lookup(t.name);
    if (!binding) {
      const s = suggest(t.name, visibleNames(f));
      throw new LowerError(
        `\`${t.name}\` is not defined`,
        t.span,
        s ? `did you mean \`${s}\`?` : `declare it first: var ${t.name} = …`,
      );
    }
    if (binding.state) return lowerStateUpdate(cx, t, binding, values[i]!, span, f);
    if (!binding.mutable) {
      throw new LowerError(
        `cannot assign to \`${t.name}\`: it is not a variable`,
        t.span,
        `declare it with \`var ${t.name} = …\` to update it`,
      );
    }
    const next = values[i]!;
    if (
      binding.value !== "poison" &&
      !Array.isArray(binding.value) &&
      !shapeEquals(binding.value.shape, next.shape)
    ) {
      throw new LowerError(
        `\`${t.name}\` is ${shapeToString(binding.value.shape)} but the new value is ${shapeToString(next.shape)}`,
        span,
        "a variable keeps its shape",
      );
    }
    f.vars.assign(t.name, next);
  });
}

function lowerRepeat(cx: LowerContext, stmt: Extract<Stmt, { kind: "repeat" }>, f: Frame): void {
  if (f.edge) throw new LowerError("`repeat` cannot appear inside an aggregate", stmt.span);
  const count = evalDimExpr(stmt.count, f, (name, e) => unknownDim(name, e.span, f));
  if (typeof count !== "number" || count < 1) {
    throw new LowerError(
      `a repeat count must be a positive whole number, got ${String(count)}`,
      stmt.count.span,
    );
  }
  const label = stmt.label?.name ?? `repeat${++cx.repeatCounter}`;
  cx.repeats.push({ label, count, shared: stmt.shared, loc: stmt.span });
  const loop = new LoopScope(f.scope, label, count, stmt.shared, stmt.span);
  const body = new VarEnv(f.vars);
  const carried = assignedOuterNames(stmt.body, (name) => f.vars.lookup(name) !== undefined);
  const carriedValues: Value[] = [];
  for (const name of carried) {
    const binding = f.vars.lookup(name)!;
    if (binding.state) {
      throw new LowerError(
        `state \`${name}\` is updated inside a repeat that does not declare it`,
        stmt.span,
        "every block would write the one running value; declare the state inside the repeat's body (or in the layer it calls) for one per block",
      );
    }
    if (!binding.mutable) {
      throw new LowerError(
        `\`${name}\` is updated inside the repeat but is not a variable`,
        stmt.span,
        `declare it with \`var ${name} = …\``,
      );
    }
    if (binding.value === "poison") throw new Poisoned();
    if (Array.isArray(binding.value))
      throw new LowerError(`\`${name}\` is a tuple; a loop carries tensors`, stmt.span);
    const local = loop.carry(f.scope.import(binding.value), name, cx.opts.exact?.bits);
    carriedValues.push(binding.value);
    body.declare(name, { value: local, mutable: true, declaredAt: binding.declaredAt });
  }
  const inner: Frame = {
    ...f,
    scope: loop,
    vars: body,
    path: `${f.path}${label}.`,
    instanceNames: new Map(),
  };
  lowerBlock(cx, stmt.body, inner);
  const finals = carried.map((name) => {
    const b = body.lookup(name)!;
    if (b.value === "poison") throw new Poisoned();
    return b.value as Value;
  });
  const outs = loop.finish(finals.map((v) => loop.import(v)));
  carried.forEach((name, i) => f.vars.assign(name, outs[i]!));
}
