// Random inputs for a compiled model on a small random graph, for oracle tests.
import { evalShape } from "../../compiler/ir/dims.js";
import type { GraphView } from "../../compiler/ir/op-def.js";
import { tensor, type Tensor } from "../../compiler/ir/tensor.js";
import type { LoweredModel } from "../../compiler/lower/lower.js";
import { graphView, type CsrGraph } from "../../compiler/ir/interp.js";
import type { Dataset } from "../../runtime/data/types.js";
import { initModelStates, initParameters } from "../../driver/init.js";
import { bindDims, dataArrays, uploadedShape } from "../../driver/session.js";
import { randomTensor, rng } from "../../compiler/gradcheck/random.js";

export { randomModelCase, type ModelCase } from "../../compiler/gradcheck/model-case.js";
import type { ModelCase } from "../../compiler/gradcheck/model-case.js";

import { compileFile, expectModel, type CompiledModel } from "../../compiler/compile.js";

/**
 * Fixpoint settings for oracle tests: tight for float64 finite differences, looser for the
 * float32 GPU (whose residual cannot go much below 1e-6 anyway).
 */
const FIXPOINT = { exact: { tol: "1e-13", iters: "300" }, gpu: { tol: "1e-6", iters: "60" } };

/** Compiles an example with the wanted overrides that it actually has as hyperparameters. */
export function compileExample(
  file: string,
  wanted: Record<string, string>,
  fixpoint: "exact" | "gpu" = "exact",
): CompiledModel {
  const hypers = expectModel(compileFile(`examples/${file}`)).train.hypers;
  const set = Object.fromEntries(
    Object.entries({ ...wanted, ...FIXPOINT[fixpoint] }).filter(([k]) => k in hypers),
  );
  return expectModel(compileFile(`examples/${file}`, { set }));
}

/**
 * A model's inputs on a dataset (features, labels, training mask as the trainer builds them) with
 * either the initial parameters of `train --seed` (zero biases, LayerNorm beta = 0: where
 * degenerate rows put activations exactly on relu's kink) or random ones.
 */
export function datasetModelCase(
  m: LoweredModel,
  ds: Dataset,
  params: "init" | { random: number },
  seed = 0,
): ModelCase & { csr: CsrGraph } {
  ds = withWhatTheModelReads(m, ds);
  const dims = bindDims(m.inputs, ds);
  const data = dataArrays(m.inputs, ds);
  const inputs = m.inputs.map((inp, i) =>
    tensor(evalShape(uploadedShape(inp), dims), Float64Array.from(data[i]!)),
  );
  const rand = typeof params === "object" ? rng(params.random) : undefined;
  const values = rand
    ? m.params.map((p) => randomTensor(evalShape(p.shape, dims), rand, { scale: 0.6 }))
    : initParameters(m.params, dims, seed).map((v, i) =>
        tensor(evalShape(m.params[i]!.shape, dims), Float64Array.from(v)),
      );
  const csr = {
    numNodes: ds.graph.numNodes,
    dstRowPtr: ds.graph.dstRowPtr,
    srcIdx: ds.graph.srcIdx,
    graphPtr: ds.graph.graphPtr,
  };
  // Model state (running statistics) at its initial values: the training forward only updates it.
  const states = initModelStates(m.states, dims).map((v, i) =>
    tensor(evalShape(m.states[i]!.shape, dims), Float64Array.from(v)),
  );
  return {
    dims,
    graph: graphView(csr),
    inputs: [...inputs, ...values, ...states],
    numData: m.inputs.length,
    csr,
  };
}

/** Whether a model's targets are per graph of a batch (labels[G, K]) rather than per node. */
export function labelsGraphs(m: LoweredModel): boolean {
  return m.inputs.some((i) => i.role === "train_mask" && i.shape[0] === "G");
}

/**
 * A node-level dataset seen as a batch of two graphs (the first half of the nodes and the rest;
 * edges between them stay, which pooling does not mind), each labelled with its first node's
 * class, both in every split: the degenerate graphs, for graph-level models.
 */
export function asGraphBatch(ds: Dataset): Dataset {
  const n = ds.graph.numNodes;
  const half = Math.floor(n / 2);
  const labels = ds.labels;
  if (labels.kind !== "single") throw new Error("asGraphBatch: single-label datasets only");
  const y = Int32Array.from([labels.y[0]!, labels.y[half]!].map((c) => Math.max(c, 0)));
  const both = Uint32Array.from([0, 1]);
  return {
    ...ds,
    graph: { ...ds.graph, graphPtr: Uint32Array.from([0, half, n]) },
    targets: "graphs",
    labels: { kind: "single", numClasses: labels.numClasses, y },
    split: { name: "both", train: both, valid: both, test: both },
  };
}

/**
 * The dataset with what the model reads and it lacks, so that every example runs on the test
 * graphs: edge features (of the declared width; every fifth edge an all-zero row, as sparse
 * ogbn-proteins scores have) and, for a multi-label model on single-label data, one-hot targets
 * of the classes as tasks.
 */
export function withWhatTheModelReads(m: LoweredModel, ds: Dataset): Dataset {
  const out: Dataset = { ...ds };
  const edge = m.inputs.find((i) => i.role === "edge_features");
  if (edge && !ds.edgeFeatures) {
    const dim = typeof edge.shape[1] === "number" ? edge.shape[1] : 4;
    const rand = rng(ds.graph.numEdges + dim);
    const values = new Float32Array(ds.graph.numEdges * dim);
    for (let k = 0; k < ds.graph.numEdges; k++)
      if (k % 5 !== 0) for (let j = 0; j < dim; j++) values[k * dim + j] = rand();
    out.edgeFeatures = { dim, values };
  }
  if (m.inputs.some((i) => i.role === "multilabels") && ds.labels.kind === "single") {
    const { numClasses, y } = ds.labels;
    const targets = new Float32Array(y.length * numClasses);
    y.forEach((c, v) => {
      if (c >= 0) targets[v * numClasses + c] = 1;
    });
    out.labels = { kind: "multi", numTasks: numClasses, y: targets };
  }
  return out;
}
