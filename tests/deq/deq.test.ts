// Deep equilibrium models: implicit differentiation of fixpoints against finite differences and
// against backprop through many unrolled iterations (float64 interpreter), the GPU against the
// interpreter, and a DEQ step's memory flat in max_iter.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { interpret, graphView } from "../../compiler/ir/interp.js";
import { relativeError, tensor } from "../../compiler/ir/tensor.js";
import { readFileSync } from "node:fs";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { randomModelCase } from "../helpers/model.js";
import { randomCsr, rng } from "../../compiler/gradcheck/random.js";
import { gpu, runOnGpu } from "../helpers/gpu.js";
import { planMemory } from "../../driver/plan.js";
import { model, session } from "../helpers/train.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import { initParameters } from "../../driver/init.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

const deqSource = readFileSync("examples/deq-gcn.gnn", "utf8");
const tinyGraph = syntheticDataset(40, 100, 5, 3, 2);

/** The same cell applied a fixed number of times (backprop through every iteration). */
const unrolledSource = `
model Unrolled(x: [N, F], y: labels[N, K]; D: int = 64, p: float = 0.5, iters: int = 40) {
  param W_in: [F, D] = glorot
  param b_in: [D] = zeros
  param W_out: [D, K] = glorot
  param b_out: [K] = zeros
  let u = x @ W_in + b_in
  var z = zeros_like(u)
  repeat iters shared as cell {
    z = gcn_conv(relu(layer_norm(z))) + u
  }
  let logits = preact(z, p) @ W_out + b_out
  loss cross_entropy(logits, y)
}`;

const lossOnly = <G extends { outputs: unknown[] }>(g: G): G =>
  ({ ...g, outputs: [g.outputs[0]] }) as G;

describe("deep equilibrium GCN", () => {
  const set = { D: "6", p: "0", tol: "1e-13", iters: "300" };

  it("implicit gradients match finite differences (float64)", () => {
    const m = expectModel(compileSource(deqSource, "deq-gcn.gnn", { set })).train;
    const c = randomModelCase(m, 21, { N: 9, E: 24, F: 5, K: 3 });
    const wrt = m.params.map((_, i) => c.numData + i);
    const r = gradcheck(lossOnly(m.graph), c.inputs, wrt, { dims: c.dims, graph: c.graph });
    expect(r.maxRelError).toBeLessThan(1e-6);
  });

  it("implicit gradients match backprop through 300 unrolled iterations", () => {
    const deq = expectModel(compileSource(deqSource, "deq-gcn.gnn", { set })).train;
    const unrolled = expectModel(
      compileSource(unrolledSource, "unrolled.gnn", { set: { D: "6", p: "0", iters: "300" } }),
    ).train;
    expect(unrolled.params.map((p) => p.shape)).toEqual(deq.params.map((p) => p.shape));
    const c = randomModelCase(deq, 22, { N: 9, E: 24, F: 5, K: 3 });
    const opts = { dims: c.dims, graph: c.graph };
    const wrt = deq.params.map((_, i) => c.numData + i);
    const a = interpret(vjpGraph(lossOnly(deq.graph), wrt), [...c.inputs, tensor([], [1])], opts);
    const b = interpret(
      vjpGraph(lossOnly(unrolled.graph), wrt),
      [...c.inputs, tensor([], [1])],
      opts,
    );
    expect(Math.abs(a[0]!.data[0]! - b[0]!.data[0]!)).toBeLessThan(1e-10);
    a.slice(1).forEach((g, i) =>
      expect(relativeError(g.data, b[i + 1]!.data), deq.params[i]!.name).toBeLessThan(1e-8),
    );
  });

  it("the GPU solves the forward and adjoint fixpoints like the interpreter (1e-4)", async () => {
    const m = expectModel(
      compileSource(deqSource, "deq-gcn.gnn", {
        set: { D: "8", p: "0", tol: "1e-6", iters: "60" },
      }),
    ).train;
    const csr = randomCsr(23, 60, rng(4));
    const c = randomModelCase(m, 23, { N: 23, E: 60, F: 6, K: 4 });
    const dims = { ...c.dims, N: 23, E: csr.srcIdx.length };
    const wrt = m.params.map((_, i) => c.numData + i);
    const vg = vjpGraph(lossOnly(m.graph), wrt);
    const ins = [...c.inputs, tensor([], [1])];
    const ref = interpret(vg, ins, { dims, graph: graphView(csr) });
    const out = await runOnGpu(vg, ins, dims, csr);
    ref.forEach((r, i) =>
      expect(
        relativeError(out.outputs[i]!, r.data),
        i === 0 ? "loss" : m.params[i - 1]!.name,
      ).toBeLessThan(1e-4),
    );
  });

  it("memory of a DEQ step does not depend on max_iter, and the plan predicts it", async () => {
    const peaks: number[] = [];
    const planned: number[] = [];
    const iterations: number[] = [];
    for (const iters of ["8", "24"]) {
      // tol = 0: every iteration runs.
      const m = model("examples/deq-gcn.gnn", { D: "8", tol: "0", iters });
      const { backend, session: s } = await session(m, tinyGraph);
      s.setParameters(initParameters(m.train.params, s.dims!, 2));
      backend.memory.resetPeak();
      await s.step(0.01, 1, 2);
      peaks.push(backend.memory.snapshot().peak.activations);
      // The plan computes nothing, so it iterates until the Anderson history is full.
      const plan = await planMemory(m, s.dims!, {
        optimizer: defaultOptimizer("adam", 5e-4),
        storeActivations: false,
        tuning: (await gpu()).tuning,
        maxStorageBuffers: (await gpu()).limits.maxStorageBuffersPerShaderStage,
      });
      planned.push(plan.activations);
      iterations.push(
        Math.max(
          ...(
            s as unknown as { bound: { step: { fixpointStats: { iterations: number }[] } } }
          ).bound.step.fixpointStats.map((f) => f.iterations),
        ),
      );
      s.unbind();
    }
    expect(iterations).toEqual([8, 24]);
    expect(peaks[1]).toBe(peaks[0]);
    peaks.forEach((p, i) => expect(Math.abs(p - planned[i]!)).toBeLessThanOrEqual(0.1 * p));
  });
});
