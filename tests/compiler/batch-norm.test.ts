// Model state and batch_norm on the float64 interpreter: the running statistics are outputs of the
// training step's forward pass, so a reversible loop's backward — which recomputes every block's
// batch_norm from the rebuilt input — does not move them again, with or without checkpoints or
// stored activations; the batch statistics are the true ones (checked by hand for the first
// block); training-mode gradients match finite differences.
import { describe, expect, it } from "vitest";
import { compileSource, expectModel, type CompiledModel } from "../../compiler/compile.js";
import { interpret, graphView } from "../../compiler/ir/interp.js";
import { tensor } from "../../compiler/ir/tensor.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { InterpreterSession } from "../../driver/interpreter-session.js";
import { initParameters } from "../../driver/init.js";
import { bindDims, dataArrays } from "../../driver/session.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import { evalShape } from "../../compiler/ir/dims.js";
import { scanAttrs } from "../../compiler/ir/ops/control.js";
import { compileGraphs } from "../../compiler/pipeline.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { randomModelCase } from "../helpers/model.js";
import { BN_SOURCE } from "../helpers/batch-norm.js";

const MOMENTUM = 0.1;
const ds = syntheticDataset(40, 120, 5, 3, 11);

function compileBn(set: Record<string, string> = {}): CompiledModel {
  return expectModel(compileSource(BN_SOURCE, "bn.gnn", { set }));
}

/** How the step's backward gets each block's activations: the three schedules a run can use. */
type Schedule = { checkpointEvery?: number; storeActivations?: boolean };
const SCHEDULES: Schedule[] = [{}, { checkpointEvery: 1 }, { storeActivations: true }];

async function interpreterSession(m: CompiledModel, schedule: Schedule = {}) {
  const s = new InterpreterSession(m, {
    optimizer: defaultOptimizer("sgd", 0),
    storeActivations: false,
    ...schedule,
  });
  await s.bind(ds);
  return s;
}

/** Random running statistics (variances positive), for starting a step away from zeros/ones. */
function randomStates(m: CompiledModel, dims: Record<string, number>, seed: number) {
  return initParameters(
    m.train.states.map((s) => ({ ...s, init: { kind: "uniform", bound: 1 } as const })),
    dims,
    seed,
  ).map((a) => a.map((x) => x + 1.5));
}

describe("batch_norm's running statistics", () => {
  const m = compileBn();
  const dims = bindDims(m.train.inputs, ds);
  const params = initParameters(m.train.params, dims, 3);

  it("declares one running mean and variance per group and block, not trained", () => {
    expect(m.train.states.map((s) => s.name)).toEqual([
      "blocks.group1.batch_norm.running_mean",
      "blocks.group1.batch_norm.running_var",
      "blocks.group2.batch_norm.running_mean",
      "blocks.group2.batch_norm.running_var",
    ]);
    expect(m.train.states.every((s) => s.stacked[0] === 3 && s.shape.join() === "3,3")).toBe(true);
    expect(m.train.params.some((p) => p.name.includes("running"))).toBe(false);
  });

  it("the step's new states come out of the forward loop, not the backward's recompute", () => {
    const { stepGraph } = compileGraphs(m, {
      optimizer: defaultOptimizer("sgd", 0),
      storeActivations: false,
      target: {},
    });
    const g = stepGraph.graph;
    const producer = new Map(g.ops.flatMap((op) => op.outputs.map((v) => [v, op] as const)));
    const newStates = g.outputs.slice(g.outputs.length - stepGraph.numModelStates);
    expect(newStates.length).toBe(4);
    for (const v of newStates) {
      const op = producer.get(v)!;
      expect(op.opcode).toBe("scan");
      expect(scanAttrs(op.attrs).reverse).toBe(false);
    }
    // And there is a backward loop that recomputes the blocks (batch_norm included).
    expect(g.ops.some((op) => op.opcode === "scan" && scanAttrs(op.attrs).reverse)).toBe(true);
  });

  it("one step moves them exactly one momentum step, as the forward pass alone computes them", async () => {
    // Rebuilt from outputs, rebuilt between checkpoints, stored: the same single update.
    for (const schedule of SCHEDULES) {
      const s = await interpreterSession(m, schedule);
      const start = randomStates(m, dims, 9);
      s.setParameters(params, undefined, start);
      await s.step(0.05, 1, 4);
      const after = (await s.readState()).modelStates;
      // The forward graph alone (no backward, no recomputation) gives the same new states.
      const data = dataArrays(m.train.inputs, ds);
      const inputs = [...data, ...params, ...start].map((a, i) =>
        tensor(evalShape(m.train.graph.inputs[i]!.shape, dims), a),
      );
      const fwd = interpret(m.train.graph, inputs, {
        dims,
        graph: graphView(ds.graph),
        seed: 4,
        step: 1,
      });
      const forwardStates = fwd.slice(2);
      after.forEach((a, k) => {
        const f = forwardStates[k]!.data;
        for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(f[i]!, 5);
      });
      // Linear in the old state with slope 1 − momentum: a second update in the backward's
      // recomputation would make it (1 − momentum)².
      const s2 = await interpreterSession(m, schedule);
      const other = randomStates(m, dims, 17);
      s2.setParameters(params, undefined, other);
      await s2.step(0.05, 1, 4);
      const after2 = (await s2.readState()).modelStates;
      after.forEach((a, k) => {
        for (let i = 0; i < a.length; i++) {
          const slope = (a[i]! - after2[k]![i]!) / (start[k]![i]! - other[k]![i]!);
          expect(slope).toBeCloseTo(1 - MOMENTUM, 4); // float32 states: 1e-5 relative
        }
      });
    }
  });

  it("the first block's batch statistics are the column mean and unbiased variance of its input", async () => {
    const s = await interpreterSession(m);
    s.setParameters(params);
    await s.step(0.05, 1, 4);
    const after = (await s.readState()).modelStates;
    // Block 1, group 1 normalises x2, the second half of h = x W_in (the coupling's f1(x2)).
    const [N, F, D] = [dims.N!, ds.numFeatures, 6];
    const W = params[m.train.params.findIndex((p) => p.name === "W_in")]!;
    const cols = D / 2;
    const x2 = Array.from({ length: N }, (_, v) =>
      Array.from({ length: cols }, (_, c) => {
        let t = 0;
        for (let f = 0; f < F; f++) t += ds.features[v * F + f]! * W[f * D + cols + c]!;
        return t;
      }),
    );
    for (let c = 0; c < cols; c++) {
      const col = x2.map((r) => r[c]!);
      const mean = col.reduce((a, b) => a + b, 0) / N;
      const unbiased = col.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1);
      // running_mean starts at 0, running_var at 1; block 1 is row 0 of the stacked state.
      expect(after[0]![c]).toBeCloseTo(MOMENTUM * mean, 5);
      expect(after[1]![c]).toBeCloseTo((1 - MOMENTUM) * 1 + MOMENTUM * unbiased, 5);
    }
  });

  it("training-mode gradients are the true batch-norm gradients (finite differences), reversible = stored", () => {
    // Dropout on: the hash masks are the same in every evaluation of the loss.
    const mp = compileBn({ L: "2", p: "0.2" }).train;
    const c = randomModelCase(mp, 5);
    const opts = { dims: c.dims, graph: c.graph, seed: 3, step: 2 };
    const lossOnly = { ...mp.graph, outputs: [mp.graph.outputs[0]!] } as typeof mp.graph;
    const wrt = mp.params.map((_, i) => c.numData + i);
    for (const scanPolicy of ["auto", "store"] as const)
      expect(gradcheck(lossOnly, c.inputs, wrt, opts, { scanPolicy }).maxRelError).toBeLessThan(
        1e-6,
      );
  });
});
