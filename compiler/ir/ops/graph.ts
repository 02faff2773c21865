// Message passing as primitives closed under differentiation (as in DGL's sparse autograd):
// gather reads node rows at edge endpoints, segment reductions sum or max edge rows into nodes.
// The VJP of a gather by source is a segment sum by source — the reversed graph (CSC) — so no
// atomics are ever needed. The code generator fuses gather → edge expression → segment reduction
// into one CSR/CSC kernel, so edge tensors [E, d] are never materialised.
import { dimEquals, edgeDim, shapeToString } from "../dims.js";
import type { EdgeList, EvalContext, OpDef } from "../op-def.js";
import { tensor } from "../tensor.js";
import type { Attrs } from "../types.js";

type Side = "src" | "dst";

function edges(ctx: EvalContext, attrs: Attrs): EdgeList {
  if (!ctx.graph) throw new Error("this program reads a graph, but none was given");
  return attrs.loops ? ctx.graph.withLoops : ctx.graph.base;
}

const endpoint = (list: EdgeList, side: Side) => (side === "src" ? list.src : list.dst);

export const graphOps: OpDef[] = [
  {
    name: "gather",
    doc: "x[u] or x[v]: node rows read at each edge's source or destination: [N, d] → [E, d]",
    shape: ([x], attrs) => {
      if (x!.length !== 2 || !dimEquals(x![0]!, "N")) {
        return `only node tensors [N, d] can be read at an edge endpoint, got ${shapeToString(x!)}`;
      }
      return [[edgeDim(!!attrs.loops), x![1]!]];
    },
    evaluate: ([x], attrs, ctx) => {
      const list = edges(ctx, attrs);
      const d = x!.shape[1]!;
      const idx = endpoint(list, attrs.side as Side);
      const out = tensor([list.numEdges, d]);
      for (let e = 0; e < list.numEdges; e++) {
        out.data.set(x!.data.subarray(idx[e]! * d, idx[e]! * d + d), e * d);
      }
      return [out];
    },
    vjp: (b, { attrs }, [d]) => [
      d && b.op("segment_sum", [d], { by: attrs.side as Side, loops: !!attrs.loops }),
    ],
    lowering: { kind: "gather" },
  },
  {
    name: "segment_sum",
    doc: "Σ of edge rows into their destination (by=dst, CSR) or source (by=src, CSC): [E, d] → [N, d]",
    shape: ([m], attrs) => {
      if (m!.length !== 2 || !dimEquals(m![0]!, edgeDim(!!attrs.loops))) {
        return `segment_sum expects edge rows [${edgeDim(!!attrs.loops)}, d], got ${shapeToString(m!)}`;
      }
      return [["N", m![1]!]];
    },
    evaluate: ([m], attrs, ctx) => {
      const list = edges(ctx, attrs);
      const d = m!.shape[1]!;
      const idx = endpoint(list, attrs.by as Side);
      const out = tensor([ctx.graph!.numNodes, d]);
      for (let e = 0; e < list.numEdges; e++) {
        const o = idx[e]! * d;
        for (let c = 0; c < d; c++) out.data[o + c]! += m!.data[e * d + c]!;
      }
      return [out];
    },
    vjp: (b, { attrs }, [d]) => [
      d && b.op("gather", [d], { side: attrs.by as Side, loops: !!attrs.loops }),
    ],
    lowering: { kind: "segment", combine: "sum" },
  },
  {
    name: "segment_max",
    doc: "max of edge rows into their destination or source; 0 for a node without edges",
    shape: ([m], attrs) => {
      if (m!.length !== 2 || !dimEquals(m![0]!, edgeDim(!!attrs.loops))) {
        return `segment_max expects edge rows [${edgeDim(!!attrs.loops)}, d], got ${shapeToString(m!)}`;
      }
      return [["N", m![1]!]];
    },
    evaluate: ([m], attrs, ctx) => {
      const list = edges(ctx, attrs);
      const d = m!.shape[1]!;
      const idx = endpoint(list, attrs.by as Side);
      const n = ctx.graph!.numNodes;
      const out = tensor([n, d]);
      out.data.fill(-Infinity);
      for (let e = 0; e < list.numEdges; e++) {
        const o = idx[e]! * d;
        for (let c = 0; c < d; c++)
          out.data[o + c] = Math.max(out.data[o + c]!, m!.data[e * d + c]!);
      }
      for (let i = 0; i < out.data.length; i++) if (out.data[i] === -Infinity) out.data[i] = 0;
      return [out];
    },
    // The subgradient goes to the maximal edges, shared equally between ties.
    vjp: (b, { inputs: [m], outputs: [y], attrs }, [d]) => {
      if (!d) return [undefined];
      const side = attrs.by as Side;
      const loops = !!attrs.loops;
      const mask = b.op("eq", [m!, b.op("gather", [y!], { side, loops })]);
      const count = b.op("segment_sum", [mask], { by: side, loops });
      const share = b.div(d, b.op("maximum", [count, b.fill(1)]));
      return [b.mul(mask, b.op("gather", [share], { side, loops }))];
    },
    lowering: { kind: "segment", combine: "max" },
  },
  {
    name: "degree",
    doc: "in-degree (by=dst) or out-degree (by=src) of every node, +1 with self loops: → [N, 1]",
    shape: () => [["N", 1]],
    evaluate: (_inputs, attrs, ctx) => {
      const g = ctx.graph;
      if (!g) throw new Error("this program reads a graph, but none was given");
      const deg = attrs.by === "src" ? g.outDegree : g.inDegree;
      const out = tensor([g.numNodes, 1]);
      for (let i = 0; i < g.numNodes; i++) out.data[i] = deg[i]! + (attrs.loops ? 1 : 0);
      return [out];
    },
    zeroGradient: true,
    lowering: {
      kind: "elementwise",
      emit: (c) => {
        const read = c.graphRead(c.attrs.by === "src" ? "out_degree" : "in_degree", c.row);
        return c.attrs.loops ? `(${read} + 1.0)` : read;
      },
      reads: "coordinates",
    },
  },
];
