// Graph-level reductions: a batch of graphs is one disjoint union whose nodes are grouped by graph,
// each graph's nodes contiguous, so graph g owns the node range [graph_ptr[g], graph_ptr[g+1]).
// Pooling reduces each range to one row ([N, d] → [G, d]); over `nodes` the one range is [0, N)
// ([N, d] → [1, d]). The transpose of a pool is `unpool`, which reads each node's graph row
// ([G, d] → [N, d]), and the transpose of unpool is a pool sum: closed under differentiation, and
// both lower to segment-wise kernels over the contiguous ranges, never to atomics.
import { dimEquals, shapeToString } from "../dims.js";
import type { EvalContext, OpDef } from "../op-def.js";
import { tensor } from "../tensor.js";
import type { Attrs, Dim, Shape } from "../types.js";

/** What a pool reduces over: each graph of the batch, or every node at once. */
export type PoolOver = "graphs" | "nodes";

/** The size name of the number of graphs in a batch. */
export const GRAPHS_DIM = "G";

const overOf = (attrs: Attrs): PoolOver => (attrs.over === "nodes" ? "nodes" : "graphs");

/** Rows of a pooled tensor: one per graph, or one for the whole node set. */
export const pooledRows = (over: PoolOver): Dim => (over === "nodes" ? 1 : GRAPHS_DIM);

/** The node ranges a pool reduces: the batch's graph offsets, or the single range [0, N). */
export function segmentOffsets(ctx: EvalContext, over: PoolOver): Uint32Array {
  const g = ctx.graph;
  if (!g) throw new Error("this program reads a graph, but none was given");
  if (over === "graphs" && g.graphPtr) return g.graphPtr;
  return Uint32Array.from([0, g.numNodes]);
}

function nodeRows(name: string, x: Shape): string | undefined {
  return x.length === 2 && dimEquals(x[0]!, "N")
    ? undefined
    : `${name} reduces node tensors [N, d], got ${shapeToString(x)}`;
}

/** Reduces each node range of x with `combine`; an empty range gives `empty`. */
function poolEval(
  x: { shape: readonly number[]; data: Float64Array },
  ptr: Uint32Array,
  combine: (acc: number, v: number) => number,
  start: number,
  empty: number,
) {
  const d = x.shape[1]!;
  const segments = ptr.length - 1;
  const out = tensor([segments, d]);
  for (let s = 0; s < segments; s++) {
    for (let c = 0; c < d; c++) {
      let acc = start;
      for (let n = ptr[s]!; n < ptr[s + 1]!; n++) acc = combine(acc, x.data[n * d + c]!);
      out.data[s * d + c] = ptr[s + 1]! > ptr[s]! ? acc : empty;
    }
  }
  return out;
}

export const poolOps: OpDef[] = [
  {
    name: "pool_sum",
    doc: "Σ of the node rows of each graph (over=graphs: [N, d] → [G, d]) or of all nodes (over=nodes: → [1, d])",
    shape: ([x], attrs) => nodeRows("pool_sum", x!) ?? [[pooledRows(overOf(attrs)), x![1]!]],
    evaluate: ([x], attrs, ctx) => [
      poolEval(x!, segmentOffsets(ctx, overOf(attrs)), (a, v) => a + v, 0, 0),
    ],
    vjp: (b, { attrs }, [d]) => [d && b.op("unpool", [d], { over: overOf(attrs) })],
    lowering: { kind: "segment", combine: "sum", over: "node_ranges" },
  },
  {
    name: "pool_max",
    doc: "channel-wise maximum of the node rows of each graph (or of all nodes); 0 for an empty graph",
    shape: ([x], attrs) => nodeRows("pool_max", x!) ?? [[pooledRows(overOf(attrs)), x![1]!]],
    evaluate: ([x], attrs, ctx) => [
      poolEval(x!, segmentOffsets(ctx, overOf(attrs)), Math.max, -Infinity, 0),
    ],
    // The subgradient goes to the nodes that attain the maximum, shared equally between ties.
    vjp: (b, { inputs: [x], outputs: [y], attrs }, [d]) => {
      if (!d) return [undefined];
      const over = overOf(attrs);
      const mask = b.op("eq", [x!, b.op("unpool", [y!], { over })]);
      const count = b.op("pool_sum", [mask], { over });
      const share = b.div(d, b.op("maximum", [count, b.fill(1)]));
      return [b.mul(mask, b.op("unpool", [share], { over }))];
    },
    lowering: { kind: "segment", combine: "max", over: "node_ranges" },
  },
  {
    name: "unpool",
    doc: "each node reads its graph's row (over=graphs: [G, d] → [N, d]) or the one row (over=nodes: [1, d] → [N, d])",
    shape: ([p], attrs) => {
      const rows = pooledRows(overOf(attrs));
      if (p!.length !== 2 || !dimEquals(p![0]!, rows)) {
        return `unpool over ${overOf(attrs)} expects [${rows}, d], got ${shapeToString(p!)}`;
      }
      return [["N", p![1]!]];
    },
    evaluate: ([p], attrs, ctx) => {
      const ptr = segmentOffsets(ctx, overOf(attrs));
      const d = p!.shape[1]!;
      const out = tensor([ctx.graph!.numNodes, d]);
      for (let s = 0; s + 1 < ptr.length; s++) {
        for (let n = ptr[s]!; n < ptr[s + 1]!; n++) {
          out.data.set(p!.data.subarray(s * d, s * d + d), n * d);
        }
      }
      return [out];
    },
    vjp: (b, { attrs }, [d]) => [d && b.op("pool_sum", [d], { over: overOf(attrs) })],
    lowering: { kind: "gather", at: "graph" },
  },
  {
    name: "graph_size",
    doc: "the number of nodes of each graph (over=graphs: → [G, 1]) or of the node set (over=nodes: → [1, 1])",
    shape: (_inputs, attrs) => [[pooledRows(overOf(attrs)), 1]],
    evaluate: (_inputs, attrs, ctx) => {
      const ptr = segmentOffsets(ctx, overOf(attrs));
      const out = tensor([ptr.length - 1, 1]);
      for (let s = 0; s + 1 < ptr.length; s++) out.data[s] = ptr[s + 1]! - ptr[s]!;
      return [out];
    },
    zeroGradient: true,
    lowering: {
      kind: "elementwise",
      emit: (c) =>
        c.attrs.over === "nodes"
          ? `f32(${c.dim("N")})`
          : `f32(${c.graphRead("graph_ptr", `${c.row} + 1u`)} - ${c.graphRead("graph_ptr", c.row)})`,
      reads: "coordinates",
    },
  },
];
