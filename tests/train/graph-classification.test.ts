// Graph classification end to end on lavapipe: examples/revgin-graphs.gnn (a reversible GIN whose
// node states are pooled per graph) on the synthetic trees-vs-rings batch —
//  - the WGSL training step and evaluation give the float64 interpreter's losses;
//  - a short training run classifies held-out graphs well above chance (50 %);
//  - the blocks' activation memory does not grow with depth (it stays reversible).
import { describe, expect, it } from "vitest";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { initParameters } from "../../driver/init.js";
import { InterpreterSession } from "../../driver/interpreter-session.js";
import { syntheticGraphs } from "../../runtime/data/synthetic-graphs.js";
import { model, session } from "../helpers/train.js";

const FILE = "examples/revgin-graphs.gnn";

describe("RevGIN on a batch of graphs", () => {
  it("one training step and an evaluation on the GPU give the interpreter's losses", async () => {
    const ds = syntheticGraphs(24, 3);
    const m = model(FILE, { L: "2", D: "8" });
    const { backend, session: gpuSession } = await session(m, ds);
    const cpu = new InterpreterSession(m, {
      optimizer: defaultOptimizer("adam", 0),
      storeActivations: false,
    });
    await cpu.bind(ds);
    const init = initParameters(m.train.params, gpuSession.dims!, 5);
    gpuSession.setParameters(init);
    cpu.setParameters(init);
    const [g1, c1] = [await gpuSession.step(0.01, 1, 9), await cpu.step(0.01, 1, 9)];
    expect(Math.abs(g1 - c1) / Math.abs(c1)).toBeLessThan(1e-4);
    const [ge, ce] = [await gpuSession.evaluate(), await cpu.evaluate()];
    expect(Math.abs(ge.loss - ce.loss) / Math.abs(ce.loss)).toBeLessThan(1e-4);
    expect(Math.abs(ge.validLoss - ce.validLoss) / Math.abs(ce.validLoss)).toBeLessThan(1e-4);
    expect(ge.counts).toEqual(ce.counts);
    gpuSession.release();
    backend.stream.destroy();
    backend.memory.trim();
  });

  it("a short training run classifies held-out graphs above chance", async () => {
    const ds = syntheticGraphs(120, 1);
    const m = model(FILE, { L: "3", D: "16" });
    const { backend, session: s } = await session(m, ds);
    s.setParameters(initParameters(m.train.params, s.dims!, 1));
    let first = NaN;
    let last = NaN;
    for (let t = 1; t <= 60; t++) {
      last = await s.step(0.01, t, 1);
      if (t === 1) first = last;
    }
    const { counts } = await s.evaluate();
    const [train, , test] = counts!;
    const accuracy = { train: train / ds.split.train.length, test: test / ds.split.test.length };
    console.log(`loss ${first.toFixed(4)} → ${last.toFixed(4)}; accuracy`, accuracy);
    expect(last).toBeLessThan(first);
    expect(accuracy.train).toBeGreaterThan(0.75);
    expect(accuracy.test).toBeGreaterThan(0.7);
    s.release();
    backend.stream.destroy();
    backend.memory.trim();
  }, 600_000);

  it("the activation peak of L = 16 is that of L = 2 (reversible blocks)", async () => {
    const ds = syntheticGraphs(40, 2);
    const peak = async (L: number) => {
      const m = model(FILE, { L: String(L), D: "16" });
      const { backend, session: s } = await session(m, ds);
      s.setParameters(initParameters(m.train.params, s.dims!, 3));
      backend.memory.resetPeak();
      await s.step(0.01, 1, 3);
      await s.evaluate();
      const activations = backend.memory.snapshot().peak.activations;
      s.release();
      backend.stream.destroy();
      backend.memory.trim();
      return activations;
    };
    const [shallow, deep] = [await peak(2), await peak(16)];
    expect(shallow).toBeGreaterThan(0);
    expect(Math.abs(deep - shallow) / shallow).toBeLessThan(0.02);
  }, 600_000);
});
