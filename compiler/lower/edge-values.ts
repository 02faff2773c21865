// Edge tensors ([E, d], e.g. ogbn-proteins' 8 edge features) outside and inside aggregates. They
// are read-only data: outside an aggregate one can only be passed on, by name, as a layer's tensor
// argument (so it reaches layers and reversible blocks, where it is a conditioning input like the
// graph, and is captured through `repeat`); inside an aggregate body it is read plainly, and
// `e @ We` multiplies each edge's row by a weight: a per-row product fused into the graph kernel
// (ir/ops/rowwise.ts), never an [E, D] tensor in memory.
import type { Expr, LayerDecl, Span, UpdateStmt } from "../../grammar/ast.js";
import { shapeToString } from "../ir/dims.js";
import { MAX_ROW_CONTRACTION, rowMatmul } from "../ir/ops/rowwise.js";
import type { Value } from "../ir/types.js";
import { isEdgeValue } from "../autodiff/edge-data.js";
import { shaped } from "./coerce.js";
import type { LowerContext } from "./context.js";
import { LowerError, Poisoned, type Frame, type LVal } from "./values.js";

/**
 * A layer call's tensor argument: an edge tensor named directly is passed on as it is (anywhere
 * else outside an aggregate, naming one is an error); any other expression lowers as usual.
 */
export function lowerTensorArgument(cx: LowerContext, e: Expr, f: Frame): LVal {
  if (e.kind === "name" && !f.edge) {
    const binding = f.vars.lookup(e.name);
    if (binding && !Array.isArray(binding.value)) {
      if (binding.value === "poison") throw new Poisoned();
      const v = f.scope.import(binding.value);
      if (isEdgeValue(v)) return { kind: "tensor", v };
    }
  }
  return cx.lowerExpr(e, f);
}

/** The error for an edge tensor named outside an aggregate, other than as a layer's argument. */
export function edgeTensorOutsideAggregate(name: string, span: Span): LowerError {
  return new LowerError(
    `edge tensor \`${name}\` can only be used inside an aggregate`,
    span,
    `read it in an aggregate body (aggregate … over edges (u -> v) { … ${name} … }), or pass it to a layer as an argument: f(h, ${name})`,
  );
}

/**
 * `m @ W` inside an aggregate body: m one row per edge with a known width of at most
 * MAX_ROW_CONTRACTION channels, W a weight matrix (not a node or edge tensor).
 */
export function edgeMatmul(
  f: Frame,
  a: Value,
  w: Value,
  e: Extract<Expr, { kind: "binary" }>,
): LVal {
  if (!isEdgeValue(a)) {
    throw new LowerError(
      `\`@\` in an aggregate body multiplies an edge value by a weight; the left operand is ${shapeToString(a.shape)}`,
      e.left.span,
      "write the per-edge value on the left: e @ W or x[u] @ W",
    );
  }
  if (w.shape.length !== 2 || isEdgeValue(w) || w.shape[0] === "N") {
    throw new LowerError(
      `the right operand of \`@\` on edge values must be a weight matrix [k, n], got ${shapeToString(w.shape)}`,
      e.right.span,
    );
  }
  const k = a.shape[1];
  if (typeof k !== "number") {
    throw new LowerError(
      `\`@\` on edge values needs the edge value's width known when compiling, got ${shapeToString(a.shape)}`,
      e.left.span,
      "declare the edge tensor's width as a number, e.g. e: [E, 8]",
    );
  }
  if (k > MAX_ROW_CONTRACTION) {
    throw new LowerError(
      `\`@\` on edge values sums at most ${MAX_ROW_CONTRACTION} products per element; this one has ${k}`,
      e.left.span,
      "multiply node features before reading them at an endpoint: (x @ W)[u]",
    );
  }
  return {
    kind: "tensor",
    v: shaped(
      e.span,
      () => rowMatmul(f.scope.b, a, w, false),
      (m) => (m.startsWith("inner") ? `\`@\`: ${m}` : m),
    ),
  };
}

/**
 * Refuses an update of an edge tensor in a reversible layer: edge tensors are read-only inputs of a
 * block, like the graph, never part of its reversible state.
 */
export function checkEdgeTensorsReadOnly(
  layer: LayerDecl,
  variables: number[],
  args: Value[],
): void {
  for (const i of variables) {
    if (!isEdgeValue(args[i]!)) continue;
    const name = layer.args[i]!.name.name;
    const update = layer.body.find(
      (s): s is UpdateStmt => s.kind === "update" && s.target.name === name,
    )!;
    throw new LowerError(
      `edge tensor \`${name}\` is read-only: a reversible block updates node tensors only`,
      update.target.span,
      `a block reads edge features as a conditioning input; keep \`${name}\` as an argument no update writes`,
    );
  }
}
