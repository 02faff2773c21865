// An update's value may be smaller than the variable it updates and broadcast over it, as in any
// elementwise expression: a scalar (`v *= 0.9`, `v *= gamma`), a channel vector `[d]` or `[1, d]`
// (`v *= sigmoid(g)` with `param g: [d]`), a per-row column `[M, 1]`. The rev_block's statements
// combine equal shapes, so the broadcast happens inside the statement's function, where the
// derived VJP sums the cotangent back to the small shape.
import type { Span } from "../../grammar/ast.js";
import { dimEquals, shapeEquals, shapeToString } from "../ir/dims.js";
import type { Shape, Value } from "../ir/types.js";
import type { RegionScope } from "./scope.js";
import { LowerError } from "./values.js";

/** Whether a value of shape `small` broadcasts over `target` by the language's rules. */
export function broadcastsOver(small: Shape, target: Shape): boolean {
  if (small.length === 0 || small.every((d) => d === 1)) return true;
  if (target.length !== 2) return false;
  const [m, n] = target;
  if (small.length === 1) return dimEquals(small[0]!, n!);
  if (small.length !== 2) return false;
  return (
    (small[0] === 1 && dimEquals(small[1]!, n!)) || (small[1] === 1 && dimEquals(small[0]!, m!))
  );
}

/** g as a value of the target's shape, or a located error when it does not broadcast. */
export function broadcastUpdate(region: RegionScope, g: Value, target: Shape, span: Span): Value {
  if (shapeEquals(g.shape, target)) return g;
  if (!broadcastsOver(g.shape, target)) {
    throw new LowerError(
      `the update's right side is ${shapeToString(g.shape)} but it updates a ${shapeToString(target)} variable`,
      span,
      "the value must have the variable's shape, or broadcast over it: a scalar, a channel vector [d], or a column [M, 1]",
    );
  }
  const zero = region.b.fill(0, target);
  return region.b.add(zero, g);
}
