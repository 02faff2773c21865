// Edge tensors ([E, d]) are read-only data: the language computes edge values only inside an
// aggregate body, and those never leave the region that reduces them (the code generator refuses
// to store one). So an edge-shaped input of a loop body or a reversible statement is the graph's
// edge features, captured, and needs no gradient. Computing one anyway would carry an [E, d]
// gradient accumulator through the backward loop: the very tensor the fused kernels avoid.
import { edgeDim } from "../ir/dims.js";
import type { Value } from "../ir/types.js";

/** Whether v is edge-shaped ([E, …] or [E+N, …]). */
export function isEdgeValue(v: Value): boolean {
  const rows = v.shape[0];
  return v.shape.length >= 1 && (rows === edgeDim(false) || rows === edgeDim(true));
}

/** Gradients of a region's inputs with those of edge data (see above) dropped. */
export function withoutEdgeDataGradients(
  inputs: readonly Value[],
  grads: (Value | undefined)[],
): (Value | undefined)[] {
  return grads.map((g, i) => (isEdgeValue(inputs[i]!) ? undefined : g));
}
