// Small training sessions on lavapipe for tests.
import { compileFile, expectModel, type CompiledModel } from "../../compiler/compile.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import type { Dataset } from "../../runtime/data/types.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { Session } from "../../driver/session.js";
import { gpu } from "./gpu.js";
import {
  defaultOptimizer,
  type OptimizerConfig,
  type OptimizerKind,
} from "../../compiler/optimizers.js";
import { expect } from "vitest";
import { relativeError } from "../../compiler/ir/tensor.js";
import { initParameters } from "../../driver/init.js";
import { InterpreterSession } from "../../driver/interpreter-session.js";

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

/**
 * The session against the float64 interpreter from the same initial weights (seed 4): the
 * evaluation (validation loss within `tol.loss`, correct counts equal), then one step at learning
 * rate 0.5 (its loss within `tol.loss`, every parameter within `tol.params`).
 */
export async function expectStepAsInterpreter(
  s: Session,
  m: CompiledModel,
  ds: Dataset,
  optimizer: OptimizerConfig,
  tol: { loss: number; params: number },
): Promise<void> {
  const oracle = new InterpreterSession(m, { optimizer, storeActivations: false });
  await oracle.bind(ds);
  const init = initParameters(m.train.params, s.dims!, 4);
  s.setParameters(init);
  oracle.setParameters(init);
  const [e, f] = [await s.evaluate(), await oracle.evaluate()];
  expect(Math.abs(e.validLoss - f.validLoss) / f.validLoss).toBeLessThan(tol.loss);
  expect(e.counts).toEqual(f.counts);
  const [a, b] = [await s.step(0.5, 1, 9), await oracle.step(0.5, 1, 9)];
  expect(Math.abs(a - b) / Math.abs(b), "loss").toBeLessThan(tol.loss);
  const [got, want] = [await s.readState(), await oracle.readState()];
  m.train.params.forEach((p, i) => {
    expect(relativeError(got.params[i]!, want.params[i]!), p.name).toBeLessThan(tol.params);
  });
}
