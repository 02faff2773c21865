// `param W: … = glorot, decay = λ`: the parameter's own weight decay. One SGD step on the float64
// interpreter with and without the option (the run's decay 0): only W's update differs, by
// exactly −lr·λ·W (L2 in the gradient); every other parameter moves as before.
import { describe, expect, it } from "vitest";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { interpret } from "../../compiler/ir/interp.js";
import { tensor } from "../../compiler/ir/tensor.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { buildTrainingStep, paramDecay } from "../../compiler/training.js";
import { randomModelCase } from "../helpers/model.js";

const source = (
  decay: string,
) => `model Tiny(x: [N, F], y: labels[N, K]; D: int = 4, wd: float = 0.25) {
  param W: [F, D] = glorot${decay}
  param b: [D] = zeros
  param W_out: [D, K] = glorot
  let h = relu(aggregate mean over edges (u -> v) { x[u] } @ W + b)
  loss cross_entropy(h @ W_out, y)
}
`;
const compile = (decay: string, set: Record<string, string> = {}) =>
  expectModel(compileSource(source(decay), "tiny.gnn", { set })).train;

describe("per-parameter weight decay", () => {
  it("is recorded on the parameter: a literal or a hyperparameter (--set changes it)", () => {
    const decays = (m: ReturnType<typeof compile>) => m.params.map((p) => p.weightDecay);
    expect(decays(compile(", decay = 0.5"))).toEqual([0.5, undefined, undefined]);
    expect(decays(compile(", decay = wd * 2"))).toEqual([0.5, undefined, undefined]);
    expect(decays(compile(", decay = wd", { wd: "0.125" }))).toEqual([0.125, undefined, undefined]);
    // The run's decay applies to the others; the parameter's own wins over it.
    const opt = defaultOptimizer("adam", 5e-4);
    expect(compile(", decay = 0.5").params.map((p) => paramDecay(opt, p))).toEqual([
      0.5, 5e-4, 5e-4,
    ]);
  });

  it("one SGD step: only W's update changes, by −lr·λ·W", () => {
    const lambda = 0.5;
    const lr = 0.1;
    const plain = compile("");
    const decayed = compile(`, decay = ${lambda}`);
    const c = randomModelCase(plain, 5);
    const run = { dims: c.dims, graph: c.graph };
    const step = (m: typeof plain) =>
      interpret(
        buildTrainingStep(m, m.graph, defaultOptimizer("sgd", 0), {}).graph,
        [...c.inputs, tensor([], [lr])],
        run,
      );
    const [lossA, ...paramsA] = step(plain);
    const [lossB, ...paramsB] = step(decayed);
    expect(lossB!.data[0]).toBe(lossA!.data[0]);
    const W = c.inputs[c.numData]!;
    paramsB[0]!.data.forEach((w, k) =>
      expect(w).toBeCloseTo(paramsA[0]!.data[k]! - lr * lambda * W.data[k]!, 12),
    );
    expect(Math.max(...W.data.map(Math.abs))).toBeGreaterThan(0);
    expect([...paramsB[1]!.data]).toEqual([...paramsA[1]!.data]);
    expect([...paramsB[2]!.data]).toEqual([...paramsA[2]!.data]);
  });
});
