// What `revgnn compile --emit …` and the playground's panels show besides the IR itself: the
// derived backward, the derived inverses and the kernels' manifest. One implementation for both, so
// that the page shows byte for byte what the command line prints.
import { vjpGraph } from "./autodiff/core.js";
import type { Program } from "./contract.js";
import type { CompiledModel } from "./compile.js";
import { carryPathError, inverseBody } from "./inverse/rev-backward.js";
import { isScan } from "./ir/ops/control.js";
import type { Graph } from "./ir/types.js";

function lossOnly(m: CompiledModel): Graph {
  const g = m.train.graph;
  return { ...g, outputs: [g.outputs[0]!] } as Graph;
}

/** The derived backward: loss gradients with respect to every parameter. */
export function backwardGraph(m: CompiledModel): Graph {
  const numData = m.train.inputs.length;
  return vjpGraph(
    lossOnly(m),
    m.train.params.map((_, i) => numData + i),
  );
}

/** The derived inverse of every reversible loop body of the model. */
export function inverseGraphs(m: CompiledModel): { label: string; graph: Graph }[] {
  const out: { label: string; graph: Graph }[] = [];
  const visit = (g: Graph) => {
    for (const op of g.ops) {
      if (isScan(op)) {
        const body = op.regions[0]!;
        const nc = op.attrs.numCarry as number;
        if (body.outputs.length === nc && !carryPathError(body, nc))
          out.push({ label: body.name, graph: inverseBody(body, nc) });
      }
      op.regions.forEach(visit);
    }
  };
  visit(m.train.graph);
  return out;
}

/**
 * A kernel's file: kernel names are per program (the step's `k11_sum_by_dst` and the evaluation's
 * may differ), so each program's kernels get its prefix.
 */
export const kernelFile = (program: "step" | "eval", name: string) => `${program}.${name}.wgsl`;

export function kernelManifest(m: CompiledModel, programs: { step: Program; eval: Program }) {
  const entry = (p: Program, program: "step" | "eval") =>
    p.kernels.map((k) => ({
      file: kernelFile(program, k.name),
      entryPoint: k.entryPoint,
      kind: k.kind,
      implements: k.implements,
      workgroupSize: [k.workgroupSize, 1, 1],
      // A parameter block in immediates has no binding: its size instead.
      bindings: k.bindings.map((b, i) =>
        b.kind === "immediate"
          ? { name: b.name, kind: b.kind, bytes: 4 * (b.words ?? 0) }
          : { binding: i, group: 0, name: b.name, kind: b.kind },
      ),
      // Hand-tuned templates (the adapter's matmul) bring their own parameter block and
      // dispatch shape; generated kernels follow the conventions below.
      template: !!k.custom,
      parameters: k.custom
        ? k.custom.fields.map((f) => ({ field: f }))
        : k.params.map((w) =>
            w.kind === "dim"
              ? { dim: String(w.dim) }
              : w.kind === "offset"
                ? { offsetOf: k.bindings[w.binding]!.name }
                : { [w.kind]: true },
          ),
      invocations: k.grid.formula,
      dispatch: k.custom
        ? `the template's own workgroup grid for ${k.grid.formula} (compiler/codegen/matmul.ts)`
        : `x = min(ceil((${k.grid.formula})/${k.workgroupSize}), maxComputeWorkgroupsPerDimension), y = ceil(ceil((${k.grid.formula})/${k.workgroupSize}) / x)`,
    }));
  return {
    model: m.name,
    source: m.source.file,
    hyperparameters: m.train.hypers,
    conventions: {
      parameters:
        "binding 0 is a uniform block of u32 words, in the order listed under `parameters`: symbolic sizes, element offsets of each storage binding, dropout seed and step (a kernel with `template: true` binds its block last, with the fields listed under `parameters`); a block listed with kind `immediate` is the dispatch's immediate data instead (`var<immediate>`, set with setImmediates; no binding)",
      tensors: "row-major float32; every tensor binding is read at its element offset",
      invocationIndex:
        "(workgroup_id.y * num_workgroups.x + workgroup_id.x) * workgroup_size + local_invocation_index",
    },
    trainingStep: entry(programs.step, "step"),
    evaluation: entry(programs.eval, "eval"),
  };
}
