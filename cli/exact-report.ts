// What `train --exact` and `check --exact` say about the grid before anything else: its range
// against the largest state at the weights the command starts from, and how much the grid changes
// the model's output against float — one line, plus a warning line when either is a problem.
import { compileFile, expectModel, type CompiledModel } from "../compiler/compile.js";
import type { Dataset } from "../runtime/data/types.js";
import type { GpuContext } from "../runtime/gpu/device.js";
import { GpuBackend } from "../runtime/exec/backend.js";
import { measureExact, summarizeExact, type ExactSummary } from "../driver/exact.js";
import { evalShape, type DimBindings } from "../compiler/ir/dims.js";
import type { OptimizerConfig } from "../compiler/optimizers.js";
import { loadCheckpoint } from "../driver/checkpoint.js";
import { initParameters } from "../driver/init.js";

export async function exactReport(
  file: string,
  o: { set: Record<string, string>; model?: string; seed: number },
  exact: CompiledModel,
  ds: Dataset,
  ctx: GpuContext,
  bits: number,
  params: Float32Array[],
  /** "the initial weights", "the weights of ck.safetensors" */
  where: string,
): Promise<ExactSummary> {
  const float = expectModel(compileFile(file, { set: o.set, model: o.model }));
  // A backend of its own: the measurement's buffers stay out of the run's memory accounting.
  const m = await measureExact(new GpuBackend(ctx), float, exact, ds, params, o.seed);
  const s = summarizeExact(m, bits);
  if (m.loops.length === 0) return s;
  console.error(
    `exact mode: 2^-${bits} grid, range ±${s.range}; at ${where} the state reaches ${s.largestState.toPrecision(4)}, ` +
      `and the grid changes the model's output by ${s.outputChange.toExponential(2)} (relative, against float)`,
  );
  for (const w of s.warnings) console.error(`${s.exceeded ? "error" : "warning"}: ${w}`);
  return s;
}

/** The summary as the JSON reports carry it. */
export function exactJson(s: ExactSummary) {
  return {
    bits: s.bits,
    range: s.range,
    largest_state: s.largestState,
    output_relative_change: s.outputChange,
    loss_float: s.lossFloat,
    loss_exact: s.lossExact,
    range_exceeded: s.exceeded,
    warnings: s.warnings,
  };
}

/** The weights a run starts from: the checkpoint it resumes (validated), or the initial ones. */
export function startingParams(
  model: CompiledModel,
  dims: DimBindings,
  o: { seed: number; resume?: string },
  optimizer: OptimizerConfig,
): { params: Float32Array[]; where: string } {
  if (!o.resume)
    return {
      params: initParameters(model.train.params, dims, o.seed),
      where: "the initial weights",
    };
  const shapes = model.train.params.map((p) => evalShape(p.shape, dims));
  const ck = loadCheckpoint(o.resume, model, shapes, optimizer);
  return { params: ck.params, where: `the weights of ${o.resume}` };
}
