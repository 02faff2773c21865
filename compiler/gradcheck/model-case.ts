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
  const graph = randomGraphView(sizes.N, sizes.E, rand);
  const dims: Record<string, number> = { ...sizes, E: graph.base.numEdges, T: sizes.K };
  const inputs: Tensor[] = [];
  for (const inp of m.inputs) {
    if (inp.role === "labels") {
      inputs.push(
        tensor(
          [dims.N!, 1],
          Array.from({ length: dims.N! }, () => Math.floor(rand() * dims.K!)),
        ),
      );
    } else if (inp.role === "train_mask") {
      inputs.push(
        tensor(
          [dims.N!, 1],
          Array.from({ length: dims.N! }, (_, i) => (i % 3 === 2 ? 0 : 1)),
        ),
      );
    } else if (inp.role === "multilabels") {
      inputs.push(
        tensor(
          evalShape(inp.shape, dims),
          Array.from({ length: dims.N! * dims.K! }, () => (rand() < 0.4 ? 1 : 0)),
        ),
      );
    } else {
      inputs.push(randomTensor(evalShape(inp.shape, dims), rand));
    }
  }
  for (const p of m.params)
    inputs.push(randomTensor(evalShape(p.shape, dims), rand, { scale: 0.6 }));
  return { dims, graph, inputs, numData: m.inputs.length };
}
