// The aggregations of `aggregate R over edges (u -> v) { … }`: one entry per R, with its argument,
// its lowering to the segment ops of ir/ops/graph.ts and its line in the language reference.
// Read by the parser (which names are valid, which take an argument, the hint listing them), by
// the lowering (lower.ts calls `lower`) and by the docs test (grammar/README.md's table of R must
// be this list). Adding an aggregation is adding an entry here, a row to that table and a test.
//
// Only types and ir/dims.ts (itself type-only) are imported, so that the parser can read this
// list without pulling in the IR.
import type { Builder } from "../ir/builder.js";
import { shapeEquals, shapeToString } from "../ir/dims.js";
import type { Value } from "../ir/types.js";

/** What an entry lowers with: the builder and the per-destination reductions of edge tensors. */
export interface AggregationContext {
  b: Builder;
  /** The message: one row per edge ([E, d], or [E+N, d] with self loops). */
  message: Value;
  /** The lowered argument, one row per edge (only for entries with an `argument`). */
  arg?: Value;
  /** Σ over each destination node's in-edges ([N, d]; 0 for a node without in-edges). */
  sum(x: Value): Value;
  /** Channel-wise maximum over each destination's in-edges (0 for a node without in-edges). */
  max(x: Value): Value;
  /** Each edge's row of a per-node tensor, read at the edge's destination ([N, d] → [E, d]). */
  atDestination(x: Value): Value;
  /** Each node's in-degree as [N, 1] (its self loop counted when there is one). */
  inDegree(): Value;
  /** Reports an error located at the argument (message, hint); does not return. */
  argumentError(message: string, hint?: string): never;
}

export interface Aggregation {
  name: string;
  /** The argument's name in `name(arg)` (softmax's score); absent when it takes none. */
  argument?: string;
  /** What the aggregate evaluates to: the row of the language reference's table. */
  doc: string;
  lower(c: AggregationContext): Value;
}

export const aggregations: readonly Aggregation[] = [
  {
    name: "sum",
    doc: "Σ of messages (0 for a node without in-edges)",
    lower: (c) => c.sum(c.message),
  },
  {
    name: "mean",
    doc: "Σ / in-degree (self loop counted with `with self_loops`; 0 without edges)",
    lower: ({ b, ...c }) => {
      const degree = b.op("maximum", [c.inDegree(), b.fill(1)]);
      return b.div(c.sum(c.message), degree);
    },
  },
  {
    name: "max",
    doc: "channel-wise maximum (0 without edges)",
    lower: (c) => c.max(c.message),
  },
  {
    name: "min",
    doc: "channel-wise minimum (0 without edges)",
    // −max(−x): segment_max already has its kernel and its VJP (to the edge holding the extremum).
    lower: ({ b, ...c }) => b.neg(c.max(b.neg(c.message))),
  },
  {
    name: "softmax",
    argument: "score",
    doc: "Σ α·message with α = softmax of `score` over each node's in-edges; the score is one number per edge (`[E, 1]`, GAT), one per head (`[E, H]`: the message's channels split into H heads of D/H, each weighted by its own column) or one per channel (GENConv)",
    lower: ({ b, message, arg, ...c }) => {
      const s = arg!;
      const times = channelsPerHead(s, message);
      if (times === undefined) {
        return c.argumentError(
          `the score is ${shapeToString(s.shape)}, but the message's ${message.shape[1]} channels do not split into ${s.shape[1]} heads`,
          `a score has one column per head, and the heads divide the message's channels: [${s.shape[0]}, 1], [${s.shape[0]}, H] with H dividing ${message.shape[1]}, or ${shapeToString(message.shape)}`,
        );
      }
      // α = exp(s − max) / Σ exp(s − max) over each node's in-edges; the max only stabilises.
      const mx = b.unary("stop_gradient", c.max(s));
      const ex = b.unary("exp", b.sub(s, c.atDestination(mx)));
      const alpha = b.div(ex, c.atDestination(c.sum(ex)));
      // One weight per head spread over the head's channels inside the fused kernel, so the
      // [E, D] weights are never stored (one head or one per channel broadcast as they are).
      const weights =
        times === 1 || s.shape[1] === 1 ? alpha : b.op("repeat_cols", [alpha], { times });
      return c.sum(b.mul(weights, message));
    },
  },
];

/**
 * The channels of `message` each column of `score` weighs: its whole width for one column, D/H
 * for H heads, 1 for a score per channel; undefined when the columns do not split the channels.
 */
function channelsPerHead(score: Value, message: Value): number | undefined {
  if (shapeEquals(score.shape, message.shape)) return 1;
  const heads = score.shape[1];
  const width = message.shape[1];
  if (heads === 1) return typeof width === "number" ? width : 1;
  if (typeof heads !== "number" || typeof width !== "number" || width % heads !== 0)
    return undefined;
  return width / heads;
}

/** The aggregation called `name`, if there is one. */
export function aggregationNamed(name: string): Aggregation | undefined {
  return aggregations.find((a) => a.name === name);
}

/** How an aggregation is written after `aggregate`: `sum`, `softmax(score)`. */
export function aggregationSyntax(a: Aggregation): string {
  return a.argument ? `${a.name}(${a.argument})` : a.name;
}

/**
 * "sum, mean, max or softmax(score)": the valid choices (or those `which` keeps), for messages;
 * `quote` goes around each.
 */
export function aggregationChoices(
  quote = "",
  which: (a: Aggregation) => boolean = () => true,
): string {
  const names = aggregations.filter(which).map((a) => `${quote}${aggregationSyntax(a)}${quote}`);
  return names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}
