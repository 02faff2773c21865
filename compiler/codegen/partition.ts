// Partition: a value gets a buffer ("is materialised") when it is a block input or output, the
// result of an op that is not elementwise (matmul, reductions, segment reductions, loops), an
// operand of a matmul or a loop, or an elementwise value that several kernels would otherwise
// recompute at some cost. Everything else is inlined into the kernels that read it. Edge values
// ([E, d]) are never materialised: they are recomputed inside the graph kernels that reduce them.
import { shapeToString } from "../ir/dims.js";
import { getOp } from "../ir/registry.js";
import type { Graph, Op, Value } from "../ir/types.js";
import { isEdgeDim } from "./context.js";

/**
 * The longest chain of elementwise ops fused into one expression: a longer one (a 1,500-term sum)
 * gets a buffer every MAX_FUSED_DEPTH ops, which bounds the emitter's recursion and the size of
 * a kernel's expression.
 */
const MAX_FUSED_DEPTH = 64;

/** Above this many inlined ops, a value read by several ops gets a buffer. */
const MAX_SHARED_INLINE_COST = 4;

export interface Partition {
  /** The op that computes each value. */
  producer: Map<Value, Op>;
  /** The ops that read each value, in program order. */
  uses: Map<Value, Op[]>;
  /** Values with a buffer. */
  materialised: Set<Value>;
}

/** Which values of a block get buffers; `perOp` gives every op's result one (exact mode). */
export function partition(g: Graph, perOp: boolean): Partition {
  const producer = new Map<Value, Op>();
  const uses = new Map<Value, Op[]>();
  for (const op of g.ops) {
    for (const v of op.outputs) producer.set(v, op);
    // Appended in place: a value read thousands of times (a long sum) stays linear.
    for (const v of op.inputs) {
      const list = uses.get(v);
      if (list) list.push(op);
      else uses.set(v, [op]);
    }
  }
  const inputs = new Set(g.inputs);
  const outputs = new Set(g.outputs);
  const inlineCost = new Map<Value, number>();
  const costOf = (v: Value): number => {
    if (inputs.has(v)) return 0;
    const hit = inlineCost.get(v);
    if (hit !== undefined) return hit;
    const op = producer.get(v)!;
    const kind = getOp(op.opcode).lowering.kind;
    const c =
      kind === "elementwise" || kind === "gather"
        ? 1 + op.inputs.reduce((a, x) => a + (materialised.has(x) ? 0 : costOf(x)), 0)
        : 0;
    inlineCost.set(v, c);
    return c;
  };
  const materialised = new Set<Value>(g.inputs);
  // How many inlined ops deep a value's expression is (0 once it has a buffer).
  const fusedDepth = new Map<Value, number>();
  const depthOf = (x: Value) => (materialised.has(x) ? 0 : (fusedDepth.get(x) ?? 0));
  for (const op of g.ops) {
    const kind = getOp(op.opcode).lowering.kind;
    for (const v of op.outputs) {
      const us = uses.get(v) ?? [];
      const edge = v.shape.length >= 1 && isEdgeDim(v.shape[0]);
      const depth = 1 + Math.max(0, ...op.inputs.map(depthOf));
      fusedDepth.set(v, depth);
      if (kind !== "elementwise" && kind !== "gather") {
        materialised.add(v);
        continue;
      }
      const forced =
        outputs.has(v) ||
        us.some((u) => ["matmul", "control", "view"].includes(getOp(u.opcode).lowering.kind));
      if (forced) {
        if (edge)
          throw new Error(
            `codegen: edge value ${shapeToString(v.shape)} would need a buffer (${op.opcode})`,
          );
        materialised.add(v);
        continue;
      }
      if (edge || op.inputs.length === 0) continue; // recomputed where read
      if (
        perOp ||
        (us.length > 1 && costOf(v) > MAX_SHARED_INLINE_COST) ||
        depth > MAX_FUSED_DEPTH
      ) {
        // A shared broadcast keeps its smaller operand instead ([N, 1] rather than [N, d]): a
        // read of either costs the same, and the operand's buffer is d times smaller to write.
        const x = op.inputs[0]!;
        const narrow =
          !perOp &&
          !!getOp(op.opcode).repeatsOperand &&
          !materialised.has(x) &&
          !(x.shape.length >= 1 && isEdgeDim(x.shape[0])) &&
          ["elementwise", "gather"].includes(getOp(producer.get(x)!.opcode).lowering.kind);
        materialised.add(narrow ? x : v);
      }
    }
  }
  return { producer, uses, materialised };
}
