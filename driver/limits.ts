// Sizes checked before anything is allocated: every parameter (with its optimizer state and
// gradient, which have its shape) and every data input must fit one buffer on the device. A run
// of `--set L=1e9` or a graph of 1e8 nodes is refused at once, naming the tensor, its size, the
// limit and what would make it fit — not after compiling kernels, and not as a RangeError from a
// host array of 32 billion floats.
import type { CompiledModel } from "../compiler/compile.js";
import { dimToString, evalShape, shapeToString } from "../compiler/ir/dims.js";
import type { Dim, Shape } from "../compiler/ir/types.js";
import { CompileError, type Diagnostic } from "../grammar/diagnostics.js";
import { parseSyntheticSpec } from "../runtime/data/synthetic.js";
import {
  PROTEINS_EDGE_FEATURES,
  PROTEINS_TASKS,
  isProteinsSpec,
  parseProteinsSpec,
} from "../runtime/data/synthetic-proteins.js";
import type { Dataset } from "../runtime/data/types.js";
import {
  adviceFor,
  BufferLimitError,
  limitExceeded,
  type MemoryCategory,
  type PoolLimits,
} from "../runtime/gpu/memory.js";
import { bindDims, uploadedShape } from "./session.js";
import { FEATURE_NONZEROS, sparseFeatureWords, wantsSparse } from "./sparse-features.js";
import { readByRowRanges } from "../compiler/codegen/row-ranges.js";

function check(
  label: string,
  shape: Shape,
  dims: Record<string, number>,
  limits: PoolLimits,
  category: MemoryCategory,
  advice: string | undefined,
): void {
  const sizes = evalShape(shape, dims);
  // A float product: exact enough to compare with a limit, and no overflow past 2^53.
  const bytes = sizes.reduce((a, b) => a * b, 4);
  const over = limitExceeded(bytes, "storage", limits);
  if (!over) return;
  const symbolic = shape.some((d) => typeof d !== "number");
  const text = symbolic
    ? `${shapeToString(shape)} = [${sizes.join(", ")}]`
    : `[${sizes.join(", ")}]`;
  throw new BufferLimitError(label, bytes, over.limit, over.limitBytes, category, advice, text);
}

/**
 * Throws a BufferLimitError for the first parameter or data input of `model` at sizes `dims`
 * (N, E, F, K, …) that would not fit one buffer under `limits`.
 */
export function checkTensorSizes(
  model: CompiledModel,
  dims: Record<string, number>,
  limits: PoolLimits,
): void {
  const hypers = Object.entries(model.train.hypers);
  for (const p of model.train.params) {
    const stacked = p.shape.length > p.blockShape.length;
    let advice = adviceFor("parameters");
    if (stacked) {
      // A repeat's weights are stacked into one tensor: its leading size is the block count.
      const count = evalShape([p.shape[0]!], dims)[0]!;
      const hyper = hypers.find(([, v]) => v === count)?.[0];
      advice =
        `it holds the weights of ${count} blocks in one buffer: use fewer blocks` +
        (hyper ? ` (--set ${hyper}=…)` : "") +
        " or narrower ones (--set D=…)";
    }
    check(p.name, p.shape, dims, limits, "parameters", advice);
  }
  for (const inp of model.train.inputs) {
    const f = inp.shape[1];
    if (inp.role === "features" && typeof f === "string" && wantsSparse(dims, f)) {
      // Mostly-zero features are bound as one packed sparse buffer (sparse-features.ts), not
      // N×F floats. (A model that reads x densely anyway is refused by the plan's dry run.)
      const words = sparseFeatureWords(dims.N!, dims[f]!, dims[FEATURE_NONZEROS]!);
      check(`${inp.name} (sparse)`, [words], dims, limits, "graph", adviceFor("graph"));
      continue;
    }
    if (inp.role === "features" && splitByRows(model, model.train.inputs.indexOf(inp))) {
      // Dense features over the binding limit are held in chunks of rows (feature-chunks.ts):
      // a row must fit; the session sizes the chunks for the kernels that read them.
      check(`${inp.name} (one row)`, [1, f!], dims, limits, "graph", adviceFor("graph"));
      continue;
    }
    const advice =
      inp.role === "features"
        ? `the model reads ${inp.name} other than by matmuls with it on the left (dropout, or an ` +
          `elementwise use), so it cannot be held in chunks of rows; ${adviceFor("graph")}`
        : adviceFor("graph");
    // Labels are uploaded as one class id per row, whatever the declared [N, K].
    check(inp.name, uploadedShape(inp), dims, limits, "graph", advice);
  }
}

/** Whether every graph of the model reads its input `index` only where row chunks serve. */
function splitByRows(model: CompiledModel, index: number): boolean {
  return [model.train.graph, model.eval.graph].every((g) => readByRowRanges(g, g.inputs[index]!));
}

/**
 * A synthetic graph is sized by its spec alone: refuse one whose tensors (features, labels, the
 * edge list) cannot fit the device before generating it — 1e8 nodes and 1e9 edges would exhaust
 * the host's memory long before a buffer limit was met.
 */
export function checkSyntheticFits(model: CompiledModel, source: string, limits: PoolLimits): void {
  const dims = syntheticDims(model, source);
  checkTensorSizes(model, dims, limits);
  // The CSR edge list: one u32 per directed edge (the spec counts undirected ones).
  check("csr_src", ["E"], dims, limits, "graph", adviceFor("graph"));
}

/** The sizes (N, E, F, K, …) a synthetic spec binds for this model, without generating it. */
export function syntheticDims(model: CompiledModel, source: string): Record<string, number> {
  return bindDims(model.train.inputs, syntheticShapes(source));
}

/** A dataset with a synthetic spec's sizes and no contents, for sizing the model's tensors. */
function syntheticShapes(source: string): Dataset {
  if (isProteinsSpec(source)) {
    const s = parseProteinsSpec(source);
    return {
      graph: { numNodes: s.numNodes, numEdges: 2 * s.numEdges },
      numFeatures: PROTEINS_EDGE_FEATURES,
      labels: { kind: "multi", numTasks: PROTEINS_TASKS, y: new Float32Array(0) },
      edgeFeatures: { dim: PROTEINS_EDGE_FEATURES, values: new Float32Array(0) },
    } as unknown as Dataset;
  }
  const s = parseSyntheticSpec(source);
  return {
    graph: { numNodes: s.numNodes, numEdges: 2 * s.numEdges },
    numFeatures: s.numFeatures,
    labels: { kind: "single", numClasses: s.numClasses, y: new Int32Array(0) },
  } as unknown as Dataset;
}

/**
 * Mini-batch training (`--partitions`) runs the model on one part of the graph at a time, where
 * `N` and `E` are the part's sizes: a parameter shaped by them (one row per node, say) would be a
 * different tensor in every part and not the model's. Refused, located at the declaration.
 */
export function refusePerNodeParameters(model: CompiledModel, partitions: number): void {
  if (partitions <= 1) return;
  const graphSized = (d: Dim) => /\b[NE]\b/.test(dimToString(d));
  const diagnostics: Diagnostic[] = model.train.params
    .filter((p) => p.blockShape.some(graphSized))
    .map((p) => ({
      severity: "error",
      message: `parameter \`${p.name}\` is shaped by the graph's size (${shapeToString(p.blockShape)}): with --partitions ${partitions} each part would see a different tensor`,
      span: p.loc,
      hint: "train full-batch (leave out --partitions), or give the parameter a shape that does not depend on N or E",
    }));
  if (diagnostics.length > 0)
    throw new CompileError(diagnostics, new Map([[model.source.file, model.source.text]]));
}
