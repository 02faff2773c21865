// Expressions: names, arithmetic, `@`, reading a node at an edge endpoint, tuples; calls,
// aggregates, couplings and fixpoints are dispatched to their own modules.
import type { Expr, Span } from "../../grammar/ast.js";
import { suggest } from "../../grammar/spelling.js";
import { shapeToString } from "../ir/dims.js";
import { lowerAggregate } from "./aggregate.js";
import { binary, BINARY_OPCODE } from "./arithmetic.js";
import { builtinByName } from "./builtins.js";
import { lowerCall } from "./calls.js";
import { shaped, tensorOf } from "./coerce.js";
import type { LowerContext } from "./context.js";
import { refuseReadAfterUpdate, visibleNames } from "./frame.js";
import { edgeMatmul, edgeTensorOutsideAggregate } from "./edge-values.js";
import { lowerFixpoint } from "./fixpoint.js";
import { lowerGroups } from "./reversible.js";
import { LowerError, Poisoned, type Frame, type LVal } from "./values.js";

export function lowerExpr(cx: LowerContext, e: Expr, f: Frame): LVal {
  const b = f.scope.b;
  const prev = b.loc;
  b.loc = e.span;
  try {
    return lowerExprAt(cx, e, f);
  } finally {
    b.loc = prev;
  }
}

function lowerExprAt(cx: LowerContext, e: Expr, f: Frame): LVal {
  switch (e.kind) {
    case "number":
      return { kind: "number", n: e.value };
    case "name":
      return lowerName(cx, e.name, e.span, f);
    case "unary": {
      const x = lowerExpr(cx, e.operand, f);
      if (x.kind === "number") return { kind: "number", n: -x.n };
      return { kind: "tensor", v: f.scope.b.neg(tensorOf(x, e.operand.span, "operand")) };
    }
    case "binary": {
      // `a + b + … + z` is a left-deep tree as tall as the chain is long: walk its left spine in
      // a loop, so that a sum of thousands of terms does not exhaust the stack.
      const spine: Extract<Expr, { kind: "binary" }>[] = [];
      let leftmost: Expr = e;
      for (; leftmost.kind === "binary"; leftmost = leftmost.left) spine.push(leftmost);
      let l = lowerExpr(cx, leftmost, f);
      const b = f.scope.b;
      const prev = b.loc;
      try {
        for (let i = spine.length - 1; i >= 0; i--) {
          const node = spine[i]!;
          b.loc = node.span;
          const r = lowerExpr(cx, node.right, f);
          l =
            node.op === "@"
              ? matmul(l, r, node, f)
              : binary(BINARY_OPCODE[node.op], l, r, node.span, f, node.op);
        }
      } finally {
        b.loc = prev;
      }
      return l;
    }
    case "call":
      return lowerCall(cx, e, f);
    case "index":
      return lowerIndex(cx, e, f);
    case "item":
      return lowerItem(cx, e, f);
    case "tuple":
      return {
        kind: "tuple",
        items: e.items.map((x) => tensorOf(lowerExpr(cx, x, f), x.span, "tuple item", f)),
      };
    case "aggregate":
      return lowerAggregate(cx, e, f);
    case "groups":
      return lowerGroups(cx, e, f);
    case "fixpoint":
      return lowerFixpoint(cx, e, f);
  }
}

function lowerName(cx: LowerContext, name: string, span: Span, f: Frame): LVal {
  if (f.edge && (name === f.edge.src || name === f.edge.dst)) {
    throw new LowerError(
      `\`${name}\` names an edge endpoint, not a tensor`,
      span,
      `read a node tensor at it: x[${name}]`,
    );
  }
  const binding = f.vars.lookup(name);
  if (binding) {
    if (binding.value === "poison") throw new Poisoned();
    refuseReadAfterUpdate(binding, name, span);
    if (Array.isArray(binding.value))
      return { kind: "tuple", items: binding.value.map((v) => f.scope.import(v)) };
    const v = f.scope.import(binding.value);
    if (f.edge && v.shape.length === 2 && v.shape[0] === "N") {
      throw new LowerError(
        `node tensor \`${name}\` must be read at an edge endpoint inside an aggregate`,
        span,
        `write ${name}[${f.edge.src}] (source) or ${name}[${f.edge.dst}] (destination)`,
      );
    }
    if (f.edge && v.shape.length >= 1 && v.shape[0] === "E" && f.edge.selfLoops) {
      throw new LowerError(
        `edge tensor \`${name}\` has no value on the self loops`,
        span,
        "drop `with self_loops`, or add the loop term outside the aggregate",
      );
    }
    if (!f.edge && v.shape.length >= 1 && v.shape[0] === "E") {
      throw edgeTensorOutsideAggregate(name, span);
    }
    return { kind: "tensor", v };
  }
  const h = f.hypers.get(name);
  if (h !== undefined) {
    if (typeof h === "boolean")
      throw new LowerError(`\`${name}\` is a bool; arithmetic needs numbers`, span);
    return { kind: "number", n: h };
  }
  // A size name bound by an argument's type (`d` in x: [N, d]) is a number, e.g. for
  // `mlp(z, hidden = d)`; N and E are known only when the graph is, so they stay symbolic.
  const size = name === "N" || name === "E" ? name : f.dims.get(name);
  if (typeof size === "number") return { kind: "number", n: size };
  if (size !== undefined) {
    throw new LowerError(
      size === name
        ? `\`${name}\` is a size of the graph, known only when the graph is`
        : `\`${name}\` is the size ${size}, known only when the graph is`,
      span,
      "only sizes fixed by the model's hyperparameters can be used as values",
    );
  }
  if (cx.layers.has(name) || builtinByName.has(name)) {
    throw new LowerError(`\`${name}\` is a function; call it: ${name}(…)`, span);
  }
  const s = suggest(name, visibleNames(f));
  throw new LowerError(
    `\`${name}\` is not defined`,
    span,
    s ? `did you mean \`${s}\`?` : undefined,
  );
}

function matmul(l: LVal, r: LVal, e: Extract<Expr, { kind: "binary" }>, f: Frame): LVal {
  const a = tensorOf(l, e.left.span, "left operand of @");
  const c = tensorOf(r, e.right.span, "right operand of @");
  if (f.edge) return edgeMatmul(f, a, c, e);
  return {
    kind: "tensor",
    v: shaped(
      e.span,
      () => f.scope.b.op("matmul", [a, c], { transA: false, transB: false }),
      (m) => (m.startsWith("inner") ? `\`@\`: ${m}` : m),
    ),
  };
}

/** `t[i]`: item i of a tuple, counted from 0; a located error for anything else. */
function lowerItem(cx: LowerContext, e: Extract<Expr, { kind: "item" }>, f: Frame): LVal {
  const t = lowerExpr(cx, e.target, f);
  const i = e.index.value;
  if (t.kind !== "tuple") {
    throw new LowerError(
      t.kind === "tensor"
        ? `\`[${e.index.text}]\` picks an item of a tuple, but this is a tensor ${shapeToString(t.v.shape)}`
        : `\`[${e.index.text}]\` picks an item of a tuple, but this is a number`,
      e.index.span,
      "a tuple comes from split(x, C) or a layer returning several tensors; slice channels with split",
    );
  }
  if (!Number.isInteger(i) || i < 0 || i >= t.items.length) {
    throw new LowerError(
      `index ${e.index.text} is out of range for a tuple of ${t.items.length} tensors`,
      e.index.span,
      `items are numbered 0 to ${t.items.length - 1}`,
    );
  }
  return { kind: "tensor", v: t.items[i]! };
}

function lowerIndex(cx: LowerContext, e: Extract<Expr, { kind: "index" }>, f: Frame): LVal {
  if (!f.edge) {
    throw new LowerError(
      "`x[u]` reads a node at an edge endpoint; it is only meaningful inside an aggregate",
      e.span,
    );
  }
  const side =
    e.index.name === f.edge.src ? "src" : e.index.name === f.edge.dst ? "dst" : undefined;
  if (!side) {
    throw new LowerError(
      `\`${e.index.name}\` is not an endpoint of this aggregate's edges (${f.edge.src} -> ${f.edge.dst})`,
      e.index.span,
    );
  }
  const nodeFrame: Frame = { ...f, edge: undefined };
  const x = tensorOf(lowerExpr(cx, e.target, nodeFrame), e.target.span, "indexed value");
  return {
    kind: "tensor",
    v: shaped(e.span, () => f.scope.b.op("gather", [x], { side, loops: f.edge!.selfLoops })),
  };
}
