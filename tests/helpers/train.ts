// Small training sessions on lavapipe for tests.
import { compileFile, expectModel, type CompiledModel } from "../../compiler/compile.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import type { Dataset } from "../../runtime/data/types.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { Session } from "../../driver/session.js";
import { gpu } from "./gpu.js";
import { defaultOptimizer, type OptimizerKind } from "../../compiler/optimizers.js";

export function model(file: string, set: Record<string, string>): CompiledModel {
  return expectModel(compileFile(file, { set }));
}

let small: Dataset | undefined;
/** A synthetic graph small enough for deep models on a CPU driver: 300 nodes, 1,200 edges. */
export function smallGraph(): Dataset {
  small ??= syntheticDataset(300, 600, 12, 4, 7);
  return small;
}

export async function session(
  m: CompiledModel,
  ds: Dataset,
  opt: OptimizerKind = "adam",
  store = false,
  wd = 0,
) {
  const backend = new GpuBackend(await gpu());
  const s = new Session(backend, m, {
    optimizer: defaultOptimizer(opt, wd),
    storeActivations: store,
  });
  await s.bind(ds);
  return { backend, session: s };
}
