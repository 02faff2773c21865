// The builder every pass uses: a GraphBuilder (./graph-builder.ts) bound to the table of IR ops.
import { GraphBuilder, type ShapeRule } from "./graph-builder.js";
import { getOp } from "./op-table.js";

export class Builder extends GraphBuilder {
  protected shapeRule(opcode: string): ShapeRule {
    return getOp(opcode).shape;
  }
}

export { GraphBuilder, IrShapeError, newGraph } from "./graph-builder.js";
export type { Dim } from "./types.js";
