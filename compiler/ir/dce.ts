// Dead-code elimination: drops ops none of whose results are used. The IR has no side effects, so
// this is safe everywhere; VJP rules rely on it to discard cotangents nobody asked for (dX of the
// input features, for instance).
import type { Graph, Op, Value } from "./types.js";

export function eliminateDeadCode(g: Graph): Graph {
  const live = new Set<Value>(g.outputs);
  const kept: Op[] = [];
  for (let i = g.ops.length - 1; i >= 0; i--) {
    const op = g.ops[i]!;
    if (!op.outputs.some((v) => live.has(v))) continue;
    kept.push(op);
    for (const v of op.inputs) live.add(v);
  }
  kept.reverse();
  g.ops.length = 0;
  g.ops.push(...kept);
  for (const op of kept) for (const r of op.regions) eliminateDeadCode(r);
  return g;
}
