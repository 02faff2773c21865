// Turning lowered values into what a use needs: a tensor, a compile-time number, or an IR builder
// result whose shape error is reported at the source that caused it.
import type { Expr, Span } from "../../grammar/ast.js";
import { IrShapeError } from "../ir/builder.js";
import type { Value } from "../ir/types.js";
import type { LowerContext } from "./context.js";
import { LowerError, type Frame, type LVal } from "./values.js";

export function tensorOf(val: LVal, span: Span, what: string, f?: Frame): Value {
  if (val.kind === "tensor") return val.v;
  if (val.kind === "number" && f) return f.scope.b.fill(val.n);
  if (val.kind === "tuple")
    throw new LowerError(
      `the ${what} is a tuple of ${val.items.length} tensors; a tensor is needed here`,
      span,
      `pick one item with [0] … [${val.items.length - 1}], or unpack it: let (a, b, …) = …`,
    );
  throw new LowerError(`the ${what} is a number; a tensor is needed here`, span);
}

/** Runs an IR builder call, reporting a shape error at `span`. */
export function shaped<T>(span: Span, fn: () => T, context?: (msg: string) => string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IrShapeError)
      throw new LowerError(context ? context(err.message) : err.message, span);
    throw err;
  }
}

export function asNumber(v: number | boolean, span: Span): number {
  if (typeof v !== "number") throw new LowerError("expected a number, got a bool", span);
  return v;
}

export function constNumber(cx: LowerContext, e: Expr, f: Frame, what: string): number | boolean {
  if (e.kind === "name") {
    const h = f.hypers.get(e.name);
    if (h !== undefined) return h;
  }
  const v = cx.lowerExpr(e, f);
  if (v.kind !== "number")
    throw new LowerError(`${what} must be a number known at compile time`, e.span);
  return v.n;
}
