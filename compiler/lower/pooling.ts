// Graph-level built-ins: pooling the nodes of each graph of a batch into one row per graph
// (`pool_sum`, `pool_mean`, `pool_max`: [N, d] → [G, d]), reducing over all nodes (`sum_nodes`,
// `mean_nodes`, `max_nodes`: [N, d] → [1, d]) and reading each node's graph row back (`unpool`:
// [G, d] → [N, d], e.g. a virtual node). They lower to the ops of ../ir/ops/pool.ts.
import type { Span } from "../../grammar/ast.js";
import type { Builder } from "../ir/builder.js";
import { dimEquals, shapeToString } from "../ir/dims.js";
import { GRAPHS_DIM, type PoolOver } from "../ir/ops/pool.js";
import type { Value } from "../ir/types.js";
import type { Builtin } from "./builtin-types.js";
import { LowerError } from "./values.js";

type PoolKind = "sum" | "mean" | "max";

function requireNodeRows(x: Value, fn: string, span: Span): void {
  if (x.shape.length !== 2 || !dimEquals(x.shape[0]!, "N")) {
    throw new LowerError(
      `${fn} pools node tensors [N, d], got ${shapeToString(x.shape)}`,
      span,
      "pool a node tensor (after the layers, before the head)",
    );
  }
}

/** The pooled rows of x: a sum, a mean (an empty graph gives 0) or a channel-wise maximum. */
export function pool(b: Builder, x: Value, kind: PoolKind, over: PoolOver): Value {
  if (kind === "max") return b.op("pool_max", [x], { over });
  const sum = b.op("pool_sum", [x], { over });
  if (kind === "sum") return sum;
  const size = b.op("graph_size", [], { over });
  return b.div(sum, b.op("maximum", [size, b.fill(1)]));
}

function poolBuiltin(kind: PoolKind, over: PoolOver): Builtin {
  const name = over === "graphs" ? `pool_${kind}` : `${kind}_nodes`;
  const what = { sum: "sum", mean: "mean", max: "channel-wise maximum" }[kind];
  return {
    name,
    signature: `${name}(x)`,
    doc:
      over === "graphs"
        ? `${what} of the node rows of each graph of the batch: [N, d] → [G, d]${kind === "sum" ? "" : " (0 for an empty graph)"}`
        : `${what} over all nodes: [N, d] → [1, d]`,
    tensors: [1, 1],
    options: [],
    lower: (c) => {
      requireNodeRows(c.tensor(0), name, c.span);
      return { kind: "tensor", v: pool(c.b, c.tensor(0), kind, over) };
    },
  };
}

export const poolBuiltins: Builtin[] = [
  ...(["sum", "mean", "max"] as const).map((k) => poolBuiltin(k, "graphs")),
  ...(["sum", "mean", "max"] as const).map((k) => poolBuiltin(k, "nodes")),
  {
    name: "unpool",
    signature: "unpool(p)",
    doc: "each node reads the row of its graph: [G, d] → [N, d] (a virtual node's broadcast)",
    tensors: [1, 1],
    options: [],
    lower: (c) => {
      const p = c.tensor(0);
      if (p.shape.length !== 2 || !dimEquals(p.shape[0]!, GRAPHS_DIM)) {
        throw new LowerError(
          `unpool reads one row per graph [G, d], got ${shapeToString(p.shape)}`,
          c.span,
        );
      }
      return { kind: "tensor", v: c.b.op("unpool", [p], { over: "graphs" }) };
    },
  },
];
