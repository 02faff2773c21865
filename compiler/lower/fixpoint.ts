// Deep equilibrium: `fixpoint z = init { … }` becomes one fixpoint op over a cell region, with its
// solver options read at compile time.
import type { FixpointExpr } from "../../grammar/ast.js";
import { shapeEquals, shapeToString } from "../ir/dims.js";
import { asNumber, constNumber, tensorOf } from "./coerce.js";
import type { LowerContext } from "./context.js";
import { instanceName } from "./frame.js";
import { RegionScope } from "./scope.js";
import { LowerError, VarEnv, type Frame, type LVal } from "./values.js";

export function lowerFixpoint(cx: LowerContext, e: FixpointExpr, f: Frame): LVal {
  if (f.edge) throw new LowerError("a fixpoint cannot appear inside an aggregate", e.span);
  const init = tensorOf(cx.lowerExpr(e.init, f), e.init.span, "initial value", f);
  const options = { tol: 1e-4, max_iter: 50, solver: "anderson", memory: 5 };
  for (const o of e.options) {
    const key = o.name?.name;
    if (key === "solver") {
      if (o.value.kind !== "name" || !["anderson", "picard"].includes(o.value.name)) {
        throw new LowerError("solver is `anderson` or `picard`", o.value.span);
      }
      options.solver = o.value.name;
    } else if (key === "tol" || key === "max_iter" || key === "memory") {
      options[key] = asNumber(constNumber(cx, o.value, f, key), o.value.span);
    } else {
      throw new LowerError(
        `unknown fixpoint option \`${key ?? "?"}\``,
        o.span,
        "options are tol, max_iter, solver, memory",
      );
    }
  }
  if (!(options.max_iter >= 1) || !Number.isInteger(options.max_iter)) {
    throw new LowerError("max_iter must be a positive whole number", e.span);
  }
  const region = new RegionScope(f.scope, "cell", e.span, {
    refused:
      "a state cannot be updated inside a fixpoint: its body runs until convergence, so no one batch's statistics are the update",
  });
  const z = region.arg(init.shape, e.variable.name);
  const vars = new VarEnv(f.vars);
  vars.declare(e.variable.name, { value: z, mutable: false, declaredAt: e.variable.span });
  const inner: Frame = {
    ...f,
    scope: region,
    vars,
    path: `${f.path}${instanceName(f, "fixpoint")}.`,
  };
  for (const l of e.lets) cx.lowerLet(l, inner);
  const next = tensorOf(cx.lowerExpr(e.body, inner), e.body.span, "fixpoint body", inner);
  if (!shapeEquals(next.shape, init.shape)) {
    throw new LowerError(
      `the fixpoint body returns ${shapeToString(next.shape)} but iterates a ${shapeToString(init.shape)} value`,
      e.body.span,
    );
  }
  const consts = region.capturedOuter;
  const graph = region.finish([next], consts);
  const [out] = f.scope.b.emit(
    "fixpoint",
    [init, ...consts],
    {
      tol: options.tol,
      maxIter: options.max_iter,
      solver: options.solver,
      memory: options.memory,
      tag: `fixpoint@${e.span.line}`,
    },
    [graph],
  );
  return { kind: "tensor", v: out! };
}
