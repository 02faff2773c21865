// One question two input layouts ask of a graph: is `x` read only as the left operand of matmuls
// whose attributes the layout's kernels cover? The sparse input path (CSR/CSC features) and the
// row-chunked dense path each answer it with their own attribute rule.
import { getOp } from "./registry.js";
import type { Attrs, Graph, Value } from "./types.js";

/**
 * Whether every op of `g` reading `x` is a matmul with x on the left (and not also on the right)
 * whose attributes `covers` accepts, and x is not an output of `g`.
 */
export function readOnlyAsLeftMatmulOperand(
  g: Graph,
  x: Value,
  covers: (attrs: Attrs) => boolean,
): boolean {
  if (g.outputs.includes(x)) return false;
  return g.ops.every(
    (op) =>
      !op.inputs.includes(x) ||
      (getOp(op.opcode).lowering.kind === "matmul" &&
        op.inputs[0] === x &&
        op.inputs[1] !== x &&
        covers(op.attrs)),
  );
}
