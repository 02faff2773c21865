// batch_norm on the device (lavapipe) against the float64 interpreter: a few training steps of a
// reversible model with batch_norm in its group functions leave the same parameters and running
// statistics; evaluation normalises with the running statistics (its loss differs from the
// batch-statistics forward at the same weights) and agrees with the interpreter's; checkpoints
// keep the running statistics and `resume` restores them; a loop segmented by --checkpoint-every
// writes the same statistics.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { evalShape } from "../../compiler/ir/dims.js";
import { graphView, interpret } from "../../compiler/ir/interp.js";
import { tensor } from "../../compiler/ir/tensor.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { loadCheckpoint, saveCheckpoint } from "../../driver/checkpoint.js";
import { initParameters } from "../../driver/init.js";
import { InterpreterSession } from "../../driver/interpreter-session.js";
import { bindDims, dataArrays, Session } from "../../driver/session.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { gpu } from "../helpers/gpu.js";
import { BN_SOURCE } from "../helpers/batch-norm.js";

const m = expectModel(compileSource(BN_SOURCE, "bn.gnn", { set: { L: "2", D: "8" } }));
const ds = syntheticDataset(60, 200, 6, 3, 5);
const dims = bindDims(m.train.inputs, ds);
const optimizer = defaultOptimizer("adam", 0);
const STEPS = 3;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** A device session with `opts` and the interpreter, both trained STEPS Adam steps from one start. */
async function trainBoth(opts: { checkpointEvery?: number } = {}) {
  const params = initParameters(m.train.params, dims, 2);
  const device = new Session(new GpuBackend(await gpu()), m, {
    optimizer,
    storeActivations: false,
    ...opts,
  });
  const oracle = new InterpreterSession(m, { optimizer, storeActivations: false });
  for (const s of [device, oracle]) {
    await s.bind(ds);
    s.setParameters(params);
    for (let t = 1; t <= STEPS; t++) await s.step(0.01, t, 7);
  }
  return { device, oracle, d: await device.readState(), o: await oracle.readState() };
}

describe("batch_norm on the device", () => {
  it("trains, evaluates with running statistics and checkpoints them as the interpreter does", async () => {
    const { device, oracle, d, o } = await trainBoth();
    d.modelStates.forEach((a, k) => expect(maxAbsDiff(a, o.modelStates[k]!)).toBeLessThan(1e-4));
    d.params.forEach((a, k) => expect(maxAbsDiff(a, o.params[k]!)).toBeLessThan(1e-4));
    // Three steps moved the running statistics away from their start (0 and 1).
    expect(Math.max(...o.modelStates[0]!.map(Math.abs))).toBeGreaterThan(1e-3);

    const [de, oe] = [await device.evaluate(), await oracle.evaluate()];
    expect(Math.abs(de.loss - oe.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(oe.loss)));
    // The training-mode forward (batch statistics, no dropout here) at the same weights.
    const inputs = [...dataArrays(m.train.inputs, ds), ...o.params, ...o.modelStates].map((a, i) =>
      tensor(evalShape(m.train.graph.inputs[i]!.shape, dims), a),
    );
    const batchLoss = interpret(m.train.graph, inputs, {
      dims,
      graph: graphView(ds.graph),
      seed: 0,
      step: 0,
    })[0]!.data[0]!;
    expect(Math.abs(oe.loss - batchLoss)).toBeGreaterThan(1e-3);

    // A checkpoint keeps the running statistics; loading it restores them on the device.
    const path = join(mkdtempSync(join(tmpdir(), "revgnn-bn-")), "bn.safetensors");
    const shapes = device.paramShapes();
    await saveCheckpoint(
      path,
      m,
      optimizer,
      { ...d, epoch: 1, step: STEPS, log: [], seed: 0, data: ds.source },
      shapes,
    );
    const ck = loadCheckpoint(path, m, shapes, optimizer);
    ck.modelStates!.forEach((a, k) => expect(maxAbsDiff(a, d.modelStates[k]!)).toBe(0));
    device.setParameters(ck.params, ck.states, ck.modelStates);
    expect((await device.evaluate()).loss).toBe(de.loss);
  }, 900_000);

  it("--checkpoint-every 1: the segmented loop writes the same running statistics", async () => {
    const { d, o } = await trainBoth({ checkpointEvery: 1 });
    d.modelStates.forEach((a, k) => expect(maxAbsDiff(a, o.modelStates[k]!)).toBeLessThan(1e-4));
  }, 900_000);
});
