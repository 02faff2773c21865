// Glue between templates and the runtime: compile a template through the pipeline cache and
// record a dispatch of it with the grid and parameter block the template computes.
import type { CompiledKernel, PipelineCache } from "../runtime/gpu/pipelines.js";
import type { CommandStream } from "../runtime/gpu/stream.js";
import type { SplitKPlan, MatmulDims } from "../compiler/codegen/templates/matmul.js";
import type { SlabSumDims } from "../compiler/codegen/templates/reduce.js";
import type { KernelTemplate } from "../compiler/codegen/templates/template.js";

export interface Launchable<D> {
  template: KernelTemplate<D>;
  kernel: CompiledKernel;
}

export async function compile<D>(
  cache: PipelineCache,
  template: KernelTemplate<D>,
): Promise<Launchable<D>> {
  return { template, kernel: await cache.get(template) };
}

/** Records one dispatch of `l` over `buffers` (the template's storage bindings, in order). */
export function launch<D>(
  stream: CommandStream,
  l: Launchable<D>,
  buffers: readonly GPUBuffer[],
  dims: D,
): void {
  const [x, y, z] = l.template.dispatch(dims);
  stream.dispatch(l.kernel, buffers, l.template.params(dims), x, y, z);
}

export interface CompiledSplitK {
  plan: SplitKPlan;
  partial: Launchable<MatmulDims>;
  reduce: Launchable<SlabSumDims>;
}

export async function compileSplitK(
  cache: PipelineCache,
  plan: SplitKPlan,
): Promise<CompiledSplitK> {
  const [partial, reduce] = await Promise.all([
    compile(cache, plan.partial),
    compile(cache, plan.reduce),
  ]);
  return { plan, partial, reduce };
}

/**
 * Records a split-K matmul: partial slabs into `workspace` (at least plan.workspaceFloats(dims)
 * floats), then the ordered slab sum into C. `extra` are the epilogue's buffers.
 */
export function launchSplitK(
  stream: CommandStream,
  s: CompiledSplitK,
  a: GPUBuffer,
  b: GPUBuffer,
  c: GPUBuffer,
  workspace: GPUBuffer,
  dims: MatmulDims,
  extra: readonly GPUBuffer[] = [],
): void {
  launch(stream, s.partial, [a, b, workspace], s.plan.partialDims(dims));
  launch(stream, s.reduce, [workspace, c, ...extra], s.plan.reduceDims(dims));
}
