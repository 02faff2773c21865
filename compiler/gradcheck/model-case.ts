// Random inputs for a compiled model on a small random graph: features, labels, a training mask
// and parameters away from zero (relu's and abs's kinks), for `revgnn gradcheck` and the oracle
// tests.
import { evalShape } from "../ir/dims.js";
import type { GraphView } from "../ir/op-def.js";
import { tensor, type Tensor } from "../ir/tensor.js";
import type { LoweredModel } from "../lower/lower.js";
import { randomGraphView, randomTensor, rng } from "./random.js";

export interface ModelCase {
  dims: Record<string, number>;
  graph: GraphView;
  /** [data inputs…, params…] in graph input order */
  inputs: Tensor[];
  numData: number;
}

export function randomModelCase(
  m: LoweredModel,
  seed: number,
  sizes = { N: 9, E: 24, F: 5, K: 3 },
): ModelCase {
  const rand = rng(seed);
  // The nodes are also a batch of graphs (the second one empty), for graph-level models.
  const graphPtr = Uint32Array.from([0, Math.floor(sizes.N / 2), Math.floor(sizes.N / 2), sizes.N]);
  const graph = { ...randomGraphView(sizes.N, sizes.E, rand), graphPtr };
  const dims: Record<string, number> = {
    ...sizes,
    E: graph.base.numEdges,
    T: sizes.K,
    G: graphPtr.length - 1,
  };
  const inputs: Tensor[] = [];
  // Targets and the mask cover nodes or graphs: the rows the model declares.
  const rowsOf = (inp: (typeof m.inputs)[number]) => evalShape([inp.shape[0]!], dims)[0]!;
  for (const inp of m.inputs) {
    if (inp.role === "labels") {
      const rows = rowsOf(inp);
      inputs.push(
        tensor(
          [rows, 1],
          Array.from({ length: rows }, () => Math.floor(rand() * dims.K!)),
        ),
      );
    } else if (inp.role === "train_mask") {
      const rows = rowsOf(inp);
      inputs.push(
        tensor(
          [rows, 1],
          Array.from({ length: rows }, (_, i) => (i % 3 === 2 && rows > 2 ? 0 : 1)),
        ),
      );
    } else if (inp.role === "multilabels") {
      const shape = evalShape(inp.shape, dims);
      inputs.push(
        tensor(
          shape,
          Array.from({ length: shape[0]! * shape[1]! }, () => (rand() < 0.4 ? 1 : 0)),
        ),
      );
    } else {
      inputs.push(randomTensor(evalShape(inp.shape, dims), rand));
    }
  }
  for (const p of m.params)
    inputs.push(randomTensor(evalShape(p.shape, dims), rand, { scale: 0.6 }));
  // Model state at its initial value (the training step's forward reads it only to update it).
  for (const s of m.states) {
    const t = tensor(evalShape(s.shape, dims));
    t.data.fill(s.init.kind === "ones" ? 1 : s.init.kind === "constant" ? s.init.value : 0);
    inputs.push(t);
  }
  return { dims, graph, inputs, numData: m.inputs.length };
}
