// Structural checks every transform's output must pass: SSA (each value defined once, used after
// its definition, in its own region — regions are closed), op results agree with the op's shape
// rule, and region arities agree with the op. Errors here are compiler bugs, not user errors.
import { shapeEquals, shapeToString } from "./dims.js";
import { getOp } from "./registry.js";
import type { Graph, Value } from "./types.js";

export class IrVerifyError extends Error {
  constructor(message: string) {
    super(`IR verification failed: ${message}`);
    this.name = "IrVerifyError";
  }
}

export function verifyGraph(g: Graph, path = g.name): void {
  const defined = new Set<Value>(g.inputs);
  if (new Set(g.inputs).size !== g.inputs.length)
    throw new IrVerifyError(`${path}: duplicate inputs`);
  g.ops.forEach((op, k) => {
    const where = `${path}/#${k} ${op.opcode}`;
    for (const v of op.inputs) {
      if (!defined.has(v)) {
        throw new IrVerifyError(
          `${where}: reads value %${v.id} that is not defined before it in this region`,
        );
      }
    }
    const def = getOp(op.opcode);
    const expected = def.shape(
      op.inputs.map((v) => v.shape),
      op.attrs,
      op.regions,
    );
    if (typeof expected === "string") throw new IrVerifyError(`${where}: ${expected}`);
    if (expected.length !== op.outputs.length) {
      throw new IrVerifyError(
        `${where}: ${op.outputs.length} results, shape rule gives ${expected.length}`,
      );
    }
    op.outputs.forEach((v, i) => {
      if (!shapeEquals(v.shape, expected[i]!)) {
        throw new IrVerifyError(
          `${where}: result ${i} is ${shapeToString(v.shape)}, shape rule gives ${shapeToString(expected[i]!)}`,
        );
      }
      if (defined.has(v)) throw new IrVerifyError(`${where}: value %${v.id} defined twice`);
      defined.add(v);
    });
    op.regions.forEach((r, i) => verifyGraph(r, `${where}.region${i}`));
  });
  for (const v of g.outputs) {
    if (!defined.has(v))
      throw new IrVerifyError(`${path}: returns value %${v.id} not defined in it`);
  }
}
