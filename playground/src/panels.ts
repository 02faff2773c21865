// Everything the page's panels show for one program, computed with the compiler's own functions:
// the located diagnostics, the typed IR, the derived backward and inverses, the kernels with their
// manifest (what `revgnn compile --emit ir|backward|inverse|wgsl` prints or writes), and the static
// memory plan of `revgnn plan`. No GPU is needed for any of it.
import { compileSource, type CompiledModel } from "../../compiler/compile.js";
import { formatDiagnostics, type Diagnostic } from "../../grammar/diagnostics.js";
import { backwardGraph, inverseGraphs, kernelFile, kernelManifest } from "../../compiler/emit.js";
import { printGraph } from "../../compiler/ir/print.js";
import { compileProgram, type PipelineOptions } from "../../compiler/pipeline.js";
import { nominalTarget } from "../../compiler/target.js";
import { planDims, planMemory, type CategoryPlan } from "../../driver/plan.js";
import { defaultOptimizer, defaultWeightDecay } from "../../compiler/optimizers.js";

export interface PanelRequest {
  source: string;
  /** The name diagnostics carry, e.g. "revgcn.gnn". */
  file: string;
  /** Hyperparameter overrides, as `--set K=V`. */
  set: Record<string, string>;
  /** Whose kernel tuning: lavapipe/SwiftShader's ("cpu", the CLI's default) or a GPU's. */
  target: "cpu" | "gpu";
}

export interface Kernel {
  file: string;
  code: string;
}

export type PanelResult =
  | {
      ok: true;
      model: CompiledModel;
      ir: string;
      backward: string;
      inverse: string;
      kernels: Kernel[];
      manifest: string;
      /** Front end and lowering (compileSource), then training/evaluation programs. */
      ms: { compile: number; kernels: number };
    }
  | { ok: false; diagnostics: Diagnostic[]; text: string; ms: { compile: number } };

/** `revgnn train`'s defaults (Adam, its weight decay, no stored activations). */
export function trainingPipelineOptions(target: "cpu" | "gpu"): PipelineOptions {
  return {
    optimizer: defaultOptimizer("adam", defaultWeightDecay("adam")),
    storeActivations: false,
    perOp: false,
    target: nominalTarget(target),
  };
}

export function inverseText(m: CompiledModel): string {
  const invs = inverseGraphs(m);
  if (!invs.length) return `${m.name} has no reversible loop\n`;
  return invs.map((i) => `// inverse of ${i.label}\n${printGraph(i.graph)}`).join("\n");
}

export function computePanels(req: PanelRequest): PanelResult {
  const t0 = performance.now();
  const r = compileSource(req.source, req.file, { set: req.set });
  const t1 = performance.now();
  if (!r.model) {
    return {
      ok: false,
      diagnostics: r.diagnostics,
      text: formatDiagnostics(r.diagnostics, r.sources),
      ms: { compile: t1 - t0 },
    };
  }
  const m = r.model;
  const programs = compileProgram(m, trainingPipelineOptions(req.target));
  const kernels: Kernel[] = [];
  for (const program of ["step", "eval"] as const)
    for (const k of programs[program].kernels)
      kernels.push({ file: kernelFile(program, k.name), code: k.code });
  const t2 = performance.now();
  return {
    ok: true,
    model: m,
    ir: printGraph(m.train.graph),
    backward: printGraph(backwardGraph(m)),
    inverse: inverseText(m),
    kernels,
    manifest: JSON.stringify(kernelManifest(m, programs), null, 2) + "\n",
    ms: { compile: t1 - t0, kernels: t2 - t1 },
  };
}

export interface PlanSizes {
  nodes: number;
  edges: number;
  features: number;
  classes: number;
}

/** `revgnn plan`'s numbers for the data sizes N, E, F, K (the model's L comes from `set`). */
export function memoryPlan(
  model: CompiledModel,
  sizes: PlanSizes,
  target: "cpu" | "gpu",
): Promise<CategoryPlan> {
  const o = trainingPipelineOptions(target);
  return planMemory(model, planDims(model, sizes), {
    optimizer: o.optimizer,
    storeActivations: false,
    tuning: o.target?.tuning,
    maxStorageBuffers: o.target?.maxStorageBuffers,
  });
}
