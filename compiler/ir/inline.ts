// Copies a graph's ops into another graph with its inputs bound to given values.
import type { GraphBuilder } from "./graph-builder.js";
import type { Graph, Value } from "./types.js";

export function inlineGraph(b: GraphBuilder, g: Graph, inputs: Value[]): Value[] {
  const env = new Map<Value, Value>();
  g.inputs.forEach((v, i) => env.set(v, inputs[i]!));
  for (const op of g.ops) {
    const outs = b.emit(
      op.opcode,
      op.inputs.map((v) => env.get(v)!),
      op.attrs,
      op.regions,
    );
    op.outputs.forEach((v, i) => {
      outs[i]!.hint ??= v.hint;
      env.set(v, outs[i]!);
    });
  }
  return g.outputs.map((v) => env.get(v)!);
}
