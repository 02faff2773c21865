// The two reference models of the suite, compiled from the example files at a given depth and
// width, and their static memory plan with "does it fit" decided the same way everywhere.
import { join } from "node:path";
import { compileFile, expectModel, type CompiledModel } from "../../compiler/compile.js";
import { MemoryError } from "../../runtime/gpu/memory.js";
import type { Tuning } from "../../compiler/target.js";
import { planMemory, type CategoryPlan } from "../../driver/plan.js";
import { bytes } from "../lib/format.js";
import type { ModelName } from "../types.js";
import type { OptimizerConfig } from "../../compiler/optimizers.js";

export const MODEL_FILES: Record<ModelName, string> = {
  RevGCN: "examples/revgcn.gnn",
  ResGCN: "examples/resgcn.gnn",
};

const cache = new Map<string, CompiledModel>();

export function benchModel(root: string, model: ModelName, L: number, D: number): CompiledModel {
  const key = `${model}:${L}:${D}`;
  let m = cache.get(key);
  if (!m) {
    m = expectModel(
      compileFile(join(root, MODEL_FILES[model]), { set: { L: String(L), D: String(D) } }),
    );
    // Deep models are big objects; keep only a few around.
    if (cache.size > 16) cache.clear();
    cache.set(key, m);
  }
  return m;
}

/**
 * What the real backend generates its kernels with (the tuning picks templates, the storage
 * buffer limit bounds fusion): the plan must generate the same kernels to replay the same
 * allocations.
 */
export interface KernelOptions {
  tuning?: Tuning;
  maxStorageBuffers?: number;
  immediateBytes?: number;
}

export interface Limits {
  kernels?: KernelOptions;
  /** The device's maxStorageBufferBindingSize. */
  maxBindingBytes: number;
  /** Bytes a configuration may take on this machine (a share of its RAM). */
  memoryBudgetBytes: number;
}

export type PlanVerdict =
  { fits: true; plan: CategoryPlan } | { fits: false; plan?: CategoryPlan; reason: string };

/** The static plan of one training step + evaluation, and whether it fits the limits. */
export async function planVerdict(
  model: CompiledModel,
  dims: Record<string, number>,
  optimizer: OptimizerConfig,
  limits: Limits,
  partitions = 1,
): Promise<PlanVerdict> {
  let plan: CategoryPlan;
  try {
    plan = await planMemory(model, dims, {
      optimizer,
      storeActivations: false,
      partitions,
      maxBindingBytes: limits.maxBindingBytes,
      ...limits.kernels,
    });
  } catch (err) {
    if (err instanceof MemoryError) return { fits: false, reason: `adapter limit: ${err.message}` };
    throw err;
  }
  if (plan.total > limits.memoryBudgetBytes) {
    return {
      fits: false,
      plan,
      reason: `memory: plan ${bytes(plan.total)} > budget ${bytes(limits.memoryBudgetBytes)}`,
    };
  }
  return { fits: true, plan };
}
