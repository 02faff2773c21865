// What the PyTorch twins (bench/torch/revgnn_torch.py) read: the graph as loaded by revgnn (after
// symmetrisation, self-loop removal and duplicate merging, so both sides see the same edges), its
// features, labels and training nodes as raw little-endian arrays, and a model's parameter values
// with their specs. Shared by the timing section and the gradient cross-check.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CompiledModel } from "../../compiler/compile.js";
import { evalShape, type DimBindings } from "../../compiler/ir/dims.js";
import type { Dataset } from "../../runtime/data/types.js";

export interface GraphMeta {
  nodes: number;
  edges: number;
  features: number;
  classes: number;
}

/** Writes the graph (CSR by destination), features, labels and training nodes as raw files. */
export function exportGraph(dir: string, ds: Dataset): GraphMeta {
  if (ds.labels.kind !== "single") throw new Error("torch export: needs single-label data");
  writeFileSync(join(dir, "rowptr.bin"), ds.graph.dstRowPtr);
  writeFileSync(join(dir, "srcidx.bin"), ds.graph.srcIdx);
  writeFileSync(join(dir, "features.bin"), ds.features);
  writeFileSync(join(dir, "labels.bin"), ds.labels.y);
  writeFileSync(join(dir, "train.bin"), ds.split.train);
  const meta = {
    nodes: ds.graph.numNodes,
    edges: ds.graph.numEdges,
    features: ds.numFeatures,
    classes: ds.labels.numClasses,
  };
  writeFileSync(join(dir, "graph.json"), JSON.stringify(meta));
  return meta;
}

export interface ParamExportSpec {
  name: string;
  shape: number[];
  /** One tensor per block ([L, ...]): the python side splits it. */
  stacked: boolean;
}

/** Shapes of a model's parameters under the data's sizes, in the order of its parameter list. */
export function paramSpecs(model: CompiledModel, dims: DimBindings): ParamExportSpec[] {
  return model.train.params.map((p) => ({
    name: p.name,
    shape: evalShape(p.shape, dims),
    stacked: p.stacked.length > 0,
  }));
}

/** The parameter values back to back as float32, in spec order (what load_params reads). */
export function writeParams(file: string, values: readonly Float32Array[]): void {
  writeFileSync(
    file,
    Buffer.concat(values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength))),
  );
}

/** The twin's hyperparameters, read from the compiled model (the defaults of the example). */
export function twinHypers(model: CompiledModel): { p: number; C: number } {
  return { p: Number(model.train.hypers.p ?? 0.5), C: Number(model.train.hypers.C ?? 2) };
}
