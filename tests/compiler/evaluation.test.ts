// The evaluation graph predicts one class per node, the first maximum of its logits (numpy's and
// PyTorch's argmax), on the float64 interpreter: tied logits are not all "right" at once.
import { describe, expect, it } from "vitest";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { interpret } from "../../compiler/ir/interp.js";
import { tensor, type Tensor } from "../../compiler/ir/tensor.js";
import { evaluationGraph } from "../../compiler/training.js";
import { randomModelCase } from "../helpers/model.js";

const model = expectModel(compileFile("examples/revgcn.gnn", { set: { L: "1", D: "4" } }));

/** Correct counts [train, valid, test] of the evaluation graph at these labels and heads. */
function counts(labels: number[], head: "zero" | "random"): number[] {
  const m = model.eval;
  const c = randomModelCase(m, 3, { N: 9, E: 20, F: 5, K: 3 });
  const inputs: Tensor[] = [...c.inputs];
  const y = m.inputs.findIndex((i) => i.role === "labels");
  inputs[y] = tensor([9, 1], labels);
  if (head === "zero") {
    // W_out = 0 and b_out = 0: every node's logits are all equal (a model that says nothing).
    for (const name of ["W_out", "b_out"]) {
      const i = c.numData + m.params.findIndex((p) => p.name === name);
      inputs[i] = tensor(inputs[i]!.shape, new Float64Array(inputs[i]!.data.length));
    }
  }
  const all = tensor([9, 1], Array(9).fill(1));
  const ev = evaluationGraph(m);
  expect(ev.outputs).toBe("counts");
  const trainMask = m.inputs.findIndex((i) => i.role === "train_mask");
  inputs[trainMask] = all;
  const out = interpret(ev.graph, [...inputs, all, all], {
    dims: c.dims,
    graph: c.graph,
    seed: 0,
    step: 0,
  });
  return out.slice(2).map((t) => t.data[0]!);
}

describe("evaluation graph", () => {
  it("tied logits predict the first class only", () => {
    // Labels 0, 1, 2 and one unlabelled node: with all logits equal only class 0 is predicted.
    const labels = [0, 1, 2, 0, 1, 2, 0, 2, -1];
    expect(counts(labels, "zero")).toEqual([3, 3, 3]);
  });

  it("an unlabelled node (−1) is never counted right", () => {
    expect(counts(Array(9).fill(-1), "random")).toEqual([0, 0, 0]);
    expect(counts(Array(9).fill(-1), "zero")).toEqual([0, 0, 0]);
  });

  it("predicts exactly one class per node", () => {
    // Every node labelled k, for each k in turn: the counts add up to the nine nodes.
    const total = [0, 1, 2].map((k) => counts(Array(9).fill(k), "random")[0]!);
    expect(total.reduce((a, b) => a + b, 0)).toBe(9);
  });
});
