// Lion, added through the optimizer registry alone: three training steps on the float64
// interpreter against the update computed by hand from the derived gradients, and on the GPU a
// `revgnn train --optimizer lion` run whose checkpoint keeps Lion's state and resumes from it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { interpret } from "../../compiler/ir/interp.js";
import { tensor, type Tensor } from "../../compiler/ir/tensor.js";
import { defaultOptimizer, optimizerNamed } from "../../compiler/optimizers.js";
import { buildTrainingStep } from "../../compiler/training.js";
import { loadSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { noStack, runCli } from "../helpers/cli.js";
import { randomModelCase } from "../helpers/model.js";

const model = expectModel(
  compileSource(
    `model Tiny(x: [N, F], y: labels[N, K]; D: int = 4) {
  param W: [F, D] = glorot
  param b: [D] = zeros
  param W_out: [D, K] = glorot
  let h = relu(aggregate mean over edges (u -> v) { x[u] } @ W + b)
  loss cross_entropy(h @ W_out, y)
}
`,
    "tiny.gnn",
  ),
).train;

describe("Lion", () => {
  it("defaults: lr 1e-4, β1 0.9, β2 0.99; one state m", () => {
    const lion = optimizerNamed("lion");
    expect([lion.defaults.lr, lion.defaults.beta1, lion.defaults.beta2]).toEqual([1e-4, 0.9, 0.99]);
    expect(lion.states).toEqual(["m"]);
  });

  it("three interpreter steps = the update by hand (float64)", () => {
    const opt = { ...defaultOptimizer("lion", 0.1), beta1: 0.8, beta2: 0.95 };
    const lr = 0.05;
    const step = buildTrainingStep(model, model.graph, opt, {}).graph;
    const c = randomModelCase(model, 3);
    const run = { dims: c.dims, graph: c.graph };
    const data = c.inputs.slice(0, c.numData);
    // Lion's own state starts at 0; the hand-computed copies start where the step's do.
    let params = c.inputs.slice(c.numData);
    let moments = params.map((p) => tensor(p.shape, new Float64Array(p.data.length)));
    let byHand = {
      params: params.map((p) => Float64Array.from(p.data)),
      m: moments.map((m) => Float64Array.from(m.data)),
    };
    const lossOnly = { ...model.graph, outputs: [model.graph.outputs[0]!] } as typeof model.graph;
    const wrt = params.map((_, i) => c.numData + i);
    const grads = vjpGraph(lossOnly, wrt);
    for (let t = 1; t <= 3; t++) {
      const out = interpret(step, [...data, ...params, ...moments, tensor([], [lr])], run);
      // The gradient at the hand-computed weights, then Lion: c = β1·m + (1−β1)·g,
      // p ← p − lr·(sign(c) + λ·p), m ← β2·m + (1−β2)·g.
      const g = interpret(
        grads,
        [...data, ...byHand.params.map((p, i) => tensor(params[i]!.shape, p)), tensor([], [1])],
        run,
      ).slice(1);
      byHand = {
        params: byHand.params.map((p, i) =>
          p.map((w, k) => {
            const ck = opt.beta1 * byHand.m[i]![k]! + (1 - opt.beta1) * g[i]!.data[k]!;
            return w - lr * (Math.sign(ck) + opt.weightDecay * w);
          }),
        ),
        m: byHand.m.map((m, i) =>
          m.map((mk, k) => opt.beta2 * mk + (1 - opt.beta2) * g[i]!.data[k]!),
        ),
      };
      params = out.slice(1, 1 + params.length);
      moments = out.slice(1 + params.length);
      const gap = (a: Tensor[], b: Float64Array[]) =>
        Math.max(...a.map((x, i) => Math.max(...x.data.map((v, k) => Math.abs(v - b[i]![k]!)))));
      expect(gap(params, byHand.params), `weights after step ${t}`).toBeLessThan(1e-12);
      expect(gap(moments, byHand.m), `m after step ${t}`).toBeLessThan(1e-12);
    }
    // The update moved every weight by lr per step at most (plus decay): Lion's signed step.
    expect(
      byHand.params.some((p, i) => p.some((w, k) => w !== c.inputs[c.numData + i]!.data[k])),
    ).toBe(true);
  });

  it("revgnn train --optimizer lion on the GPU: 2 epochs, checkpoint with Lion's state, resume", () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-lion-"));
    const save = join(dir, "lion.safetensors");
    const args = [
      "train",
      "examples/revgcn.gnn",
      "--data",
      "synthetic:40:160:6:3",
      "--set",
      "L=2",
      "--set",
      "D=8",
      "--optimizer",
      "lion",
      "--quiet",
    ];
    const first = runCli([...args, "--epochs", "2", "--save", save]);
    noStack(first.err);
    expect(first.code, first.err).toBe(0);
    const ck = loadSafetensors(save);
    expect(JSON.parse(ck.metadata.optimizer!).kind).toBe("lion");
    const states = [...ck.tensors.keys()].filter((k) => k.startsWith("optimizer."));
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((k) => k.startsWith("optimizer.m."))).toBe(true);
    // After two steps m = (1 − β2)(β2·g1 + g2): not all zero.
    expect(
      states.some((k) =>
        Array.from(ck.tensors.get(k)!.data as ArrayLike<number>).some((v) => v !== 0),
      ),
    ).toBe(true);
    const resumed = runCli([...args, "--epochs", "3", "--resume", save]);
    noStack(resumed.err);
    expect(resumed.code, resumed.err).toBe(0);
    // Resuming with another optimizer is refused: the state would not fit it.
    const other = runCli([
      ...args.filter((a) => a !== "lion" && a !== "--optimizer"),
      "--epochs",
      "3",
      "--resume",
      save,
    ]);
    expect(other.code).toBe(1);
    expect(other.err).toContain("saved with optimizer lion, resuming with adam");
  }, 600_000);
});
