// Dimensions of tensor types in the source: evaluation under hyperparameters and the dimension
// variables a layer call binds, and unification of a layer's declared argument types with the
// shapes it is called with.
import type { DimExpr, TensorTypeExpr } from "../../grammar/ast.js";
import { canonicalDim, dimEquals, dimToString, shapeToString } from "../ir/dims.js";
import type { Dim } from "../ir/types.js";
import { LowerError } from "./values.js";

/** Sizes every program shares: nodes and edges of the graph. */
export const GRAPH_SYMBOLS = new Set(["N", "E"]);

export interface DimScope {
  hypers: ReadonlyMap<string, number | boolean>;
  dims: ReadonlyMap<string, number | string>;
}

function combine(op: "+" | "-" | "*" | "/", a: Dim, b: Dim, e: DimExpr): Dim {
  if (typeof a === "number" && typeof b === "number") {
    switch (op) {
      case "+":
        return a + b;
      case "-":
        return a - b;
      case "*":
        return a * b;
      case "/":
        if (b === 0 || a % b !== 0) {
          throw new LowerError(
            `${a} / ${b} is not a whole number of channels`,
            e.span,
            "choose hyperparameters so that the division is exact (e.g. D divisible by C)",
          );
        }
        return a / b;
    }
  }
  if (op === "+") return canonicalDim(`${dimToString(a)}+${dimToString(b)}`);
  return `(${dimToString(a)}${op}${dimToString(b)})`;
}

/** Evaluates a dimension; `unknown` decides what an unbound name means (or throws). */
export function evalDimExpr(
  e: DimExpr,
  s: DimScope,
  unknown: (name: string, e: DimExpr) => Dim,
): Dim {
  switch (e.kind) {
    case "dim_int":
      return e.value;
    case "dim_name": {
      if (GRAPH_SYMBOLS.has(e.name)) return e.name;
      const h = s.hypers.get(e.name);
      if (h !== undefined) {
        if (typeof h !== "number" || !Number.isInteger(h)) {
          throw new LowerError(
            `hyperparameter \`${e.name}\` is a ${typeof h === "boolean" ? "bool" : "float"}; sizes and counts must be ints`,
            e.span,
          );
        }
        return h;
      }
      const d = s.dims.get(e.name);
      if (d !== undefined) return d;
      return unknown(e.name, e);
    }
    case "dim_bin":
      return combine(e.op, evalDimExpr(e.left, s, unknown), evalDimExpr(e.right, s, unknown), e);
  }
}

export function evalTypeDims(
  t: TensorTypeExpr,
  s: DimScope,
  unknown: (name: string, e: DimExpr) => Dim,
): Dim[] {
  const dims = t.dims.map((d) => evalDimExpr(d, s, unknown));
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    if (typeof d === "number" && d <= 0) {
      throw new LowerError(
        `dimension ${i + 1} of ${shapeToString(dims)} is ${d}; sizes must be positive`,
        t.dims[i]!.span,
      );
    }
  }
  return dims;
}

/**
 * Binds the dimension variables of a declared argument type to an actual shape, in `bound`.
 * Returns a message describing the mismatch, or undefined.
 */
export function unifyArgument(
  declared: TensorTypeExpr,
  actual: readonly Dim[],
  s: DimScope,
  bound: Map<string, number | string>,
): string | undefined {
  if (declared.dims.length !== actual.length) {
    return `expected a tensor of rank ${declared.dims.length}, got ${shapeToString(actual)}`;
  }
  // Plain names bind first; expressions are checked once every name they use is bound.
  const deferred: [DimExpr, Dim][] = [];
  for (let i = 0; i < actual.length; i++) {
    const d = declared.dims[i]!;
    const a = actual[i]!;
    if (
      d.kind === "dim_name" &&
      !GRAPH_SYMBOLS.has(d.name) &&
      !s.hypers.has(d.name) &&
      !s.dims.has(d.name)
    ) {
      const prev = bound.get(d.name);
      if (prev === undefined) bound.set(d.name, a);
      else if (!dimEquals(prev, a)) {
        return `dimension \`${d.name}\` is ${dimToString(prev)} from an earlier argument but ${dimToString(a)} here`;
      }
    } else deferred.push([d, a]);
  }
  const scope: DimScope = { hypers: s.hypers, dims: new Map([...s.dims, ...bound]) };
  for (const [d, a] of deferred) {
    const want = evalDimExpr(d, scope, (name) => {
      throw new LowerError(`unknown dimension \`${name}\``, d.span);
    });
    if (!dimEquals(want, a))
      return `expected ${describeDims(declared, scope)}, got ${shapeToString(actual)}`;
  }
  return undefined;
}

/** `[N, 64]` for a declared type, with what is known substituted. */
export function describeDims(t: TensorTypeExpr, s: DimScope): string {
  const parts = t.dims.map((d) => {
    try {
      return dimToString(evalDimExpr(d, s, (name) => name));
    } catch {
      return "?";
    }
  });
  return `[${parts.join(", ")}]`;
}
