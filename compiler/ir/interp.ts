// The float64 reference interpreter: runs any IR graph (forward, derived backward, derived
// inverse) on the CPU. It is the oracle for the WGSL kernels, the derived gradients and the derived
// inverses, so it is written for clarity, not speed.
import { evalShape, shapeToString, type DimBindings } from "./dims.js";
import type { EdgeList, EvalContext, GraphView } from "./op-def.js";
import { getOp } from "./registry.js";
import type { Tensor } from "./tensor.js";
import type { Graph, Value } from "./types.js";

/** The minimal graph description the interpreter needs (CSR by destination). */
export interface CsrGraph {
  numNodes: number;
  dstRowPtr: Uint32Array;
  srcIdx: Uint32Array;
  /** A batch of graphs: graph g owns nodes [graphPtr[g], graphPtr[g+1]) (absent: one graph). */
  graphPtr?: Uint32Array;
}

/**
 * Edge lists in the order the GPU kernels use: CSR by destination; with self loops, each node's
 * self loop comes right after its in-edges (edge id rowPtr[v] + v + j, loop at rowPtr[v+1] + v).
 */
export function graphView(g: CsrGraph): GraphView {
  const n = g.numNodes;
  const e = g.srcIdx.length;
  const base: EdgeList = {
    numNodes: n,
    numEdges: e,
    src: new Uint32Array(e),
    dst: new Uint32Array(e),
  };
  const loops: EdgeList = {
    numNodes: n,
    numEdges: e + n,
    src: new Uint32Array(e + n),
    dst: new Uint32Array(e + n),
  };
  const inDegree = new Float64Array(n);
  const outDegree = new Float64Array(n);
  let k = 0;
  for (let v = 0; v < n; v++) {
    for (let p = g.dstRowPtr[v]!; p < g.dstRowPtr[v + 1]!; p++) {
      const u = g.srcIdx[p]!;
      base.src[p] = u;
      base.dst[p] = v;
      loops.src[k] = u;
      loops.dst[k] = v;
      k++;
      inDegree[v]!++;
      outDegree[u]!++;
    }
    loops.src[k] = v;
    loops.dst[k] = v;
    k++;
  }
  return { numNodes: n, base, withLoops: loops, inDegree, outDegree, graphPtr: g.graphPtr };
}

export interface InterpretOptions {
  dims: DimBindings;
  graph?: GraphView;
  seed?: number;
  step?: number;
  record?: EvalContext["record"];
}

export function interpret(g: Graph, inputs: Tensor[], opts: InterpretOptions): Tensor[] {
  const ctx: EvalContext = {
    dims: opts.dims,
    graph: opts.graph,
    seed: opts.seed ?? 0,
    step: opts.step ?? 0,
    record: opts.record,
    runRegion: (region, regionInputs) => run(region, regionInputs),
  };
  const run = (graph: Graph, values: Tensor[]): Tensor[] => {
    if (values.length !== graph.inputs.length) {
      throw new Error(`${graph.name} takes ${graph.inputs.length} inputs, got ${values.length}`);
    }
    const env = new Map<Value, Tensor>();
    graph.inputs.forEach((v, i) => {
      const expected = evalShape(v.shape, opts.dims);
      const got = values[i]!.shape;
      if (expected.length !== got.length || expected.some((d, j) => d !== got[j])) {
        throw new Error(
          `${graph.name}: input ${i}${v.hint ? ` (${v.hint})` : ""} should be ${shapeToString(expected)}, got ${shapeToString(got)}`,
        );
      }
      env.set(v, values[i]!);
    });
    for (const op of graph.ops) {
      const args = op.inputs.map((v) => {
        const t = env.get(v);
        if (!t) throw new Error(`${op.opcode}: operand %${v.id} has no value`);
        return t;
      });
      const outs = getOp(op.opcode).evaluate(args, op.attrs, ctx, op.regions);
      op.outputs.forEach((v, i) => env.set(v, outs[i]!));
    }
    return graph.outputs.map((v) => env.get(v)!);
  };
  return run(g, inputs);
}
