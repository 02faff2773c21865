// Elementwise arithmetic on lowered values: numbers fold at compile time, tensors become IR ops.
import type { Span } from "../../grammar/ast.js";
import { shapeToString } from "../ir/dims.js";
import { combine64, type Combine } from "../ir/ops/control.js";
import { shaped, tensorOf } from "./coerce.js";
import type { Frame, LVal } from "./values.js";

export const BINARY_OPCODE = { "+": "add", "-": "sub", "*": "mul", "/": "div" } as const;
export const UPDATE_COMBINE: Record<string, Combine> = {
  "+=": "add",
  "-=": "sub",
  "*=": "mul",
  "/=": "div",
};

export function binary(
  opcode: Combine,
  l: LVal,
  r: LVal,
  span: Span,
  f: Frame,
  symbol: string,
): LVal {
  if (l.kind === "number" && r.kind === "number") {
    return { kind: "number", n: combine64(opcode, l.n, r.n) };
  }
  const a = tensorOf(l, span, "left operand", f);
  const c = tensorOf(r, span, "right operand", f);
  return {
    kind: "tensor",
    v: shaped(
      span,
      () => f.scope.b.op(opcode, [a, c]),
      () =>
        `\`${symbol}\` needs operands of the same shape (or one that broadcasts): ${shapeToString(a.shape)} and ${shapeToString(c.shape)}`,
    ),
  };
}
