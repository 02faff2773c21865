// Message passing: `aggregate … over edges (u -> v)` becomes gathers at the endpoints, the
// message, and the registry's segment reduction (aggregations.ts).
import type { AggregateExpr, Span } from "../../grammar/ast.js";
import { shapeToString } from "../ir/dims.js";
import type { Value } from "../ir/types.js";
import { aggregationNamed } from "./aggregations.js";
import { tensorOf } from "./coerce.js";
import type { LowerContext } from "./context.js";
import { LowerError, VarEnv, type Frame, type LVal } from "./values.js";

export function lowerAggregate(cx: LowerContext, e: AggregateExpr, f: Frame): LVal {
  if (f.edge) throw new LowerError("aggregates cannot be nested", e.span);
  if (e.src.name === e.dst.name) {
    throw new LowerError(
      "the two endpoints need different names",
      e.dst.span,
      "write `over edges (u -> v)`",
    );
  }
  const loops = e.selfLoops;
  const ef: Frame = {
    ...f,
    vars: new VarEnv(f.vars),
    edge: { src: e.src.name, dst: e.dst.name, selfLoops: loops },
  };
  for (const l of e.lets) cx.lowerLet(l, ef);
  const b = f.scope.b;
  const msg = tensorOf(cx.lowerExpr(e.message, ef), e.message.span, "message", ef);
  const edgeDim = loops ? "E+N" : "E";
  const asEdge = (v: Value, span: Span, what: string): Value => {
    if (v.shape.length === 2 && v.shape[0] === edgeDim) return v;
    if (v.shape.length <= 1 || (v.shape.length === 2 && v.shape[0] === 1)) {
      throw new LowerError(
        `the ${what} does not read any edge (${shapeToString(v.shape)})`,
        span,
        `use ${e.src.name}[…] or ${e.dst.name}[…] in it`,
      );
    }
    throw new LowerError(
      `the ${what} must be one row per edge, got ${shapeToString(v.shape)}`,
      span,
    );
  };
  const m = asEdge(msg, e.message.span, "message");
  // The parser accepts only the registry's names, with an argument exactly where one is due.
  const aggregation = aggregationNamed(e.reducer.name)!;
  const arg = e.reducer.arg;
  const segment = (opcode: string) => (x: Value) => b.op(opcode, [x], { by: "dst", loops });
  return {
    kind: "tensor",
    v: aggregation.lower({
      b,
      message: m,
      arg: arg && asEdge(tensorOf(cx.lowerExpr(arg, ef), arg.span, "score", ef), arg.span, "score"),
      sum: segment("segment_sum"),
      max: segment("segment_max"),
      atDestination: (x) => b.op("gather", [x], { side: "dst", loops }),
      inDegree: () => b.op("degree", [], { by: "dst", loops }),
      argumentError: (message, hint) => {
        throw new LowerError(message, arg?.span ?? e.reducer.span, hint);
      },
    }),
  };
}
