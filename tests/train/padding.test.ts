// The feature width padded to a multiple of 4 on the device (compiler/padding.ts): the compiler
// proves it neutral or leaves F alone, the session lays x and the parameters out padded and reads
// them back cropped, and training on the padded layout gives the interpreter's numbers with the
// padding rows of W_in and its optimizer state still zero.
import { describe, expect, it } from "vitest";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { relativeError } from "../../compiler/ir/tensor.js";
import { defaultOptimizer, optimizers } from "../../compiler/optimizers.js";
import { featurePadding, paddedDims, updateKeepsZeros } from "../../compiler/padding.js";
import { compileProgram } from "../../compiler/pipeline.js";
import { nominalTarget } from "../../compiler/target.js";
import { initParameters } from "../../driver/init.js";
import { InterpreterSession } from "../../driver/interpreter-session.js";
import { cropArray, padArray } from "../../driver/padded-arrays.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import { model, session } from "../helpers/train.js";

const adam = defaultOptimizer("adam", 5e-4);

describe("which feature widths are padded", () => {
  it("RevGCN (x only in x @ W_in): F, to a multiple of 4", () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    expect([...featurePadding(m, adam)]).toEqual([["F", 4]]);
  });

  it("not with dropout on x: its mask is keyed by the element index row·F + col", () => {
    const m = model("examples/revgcnii.gnn", { L: "2", D: "8" });
    expect(featurePadding(m, adam).size).toBe(0);
  });

  it("not when x is read elementwise (relu(x) has F columns the padding would add to)", () => {
    const m = expectModel(
      compileSource(
        `model M(x: [N, F], y: labels[N, K]) {
  param W: [F, K] = glorot
  loss cross_entropy(relu(x) @ W, y)
}
`,
        "m.gnn",
      ),
    );
    expect(featurePadding(m, adam).size).toBe(0);
  });

  it("not for an optimizer that moves a zero weight: Adam with ε = 0 divides 0 by 0", () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    expect(updateKeepsZeros({ ...adam, eps: 0 })).toBe(false);
    expect(featurePadding(m, { ...adam, eps: 0 }).size).toBe(0);
    for (const o of optimizers)
      expect(updateKeepsZeros(defaultOptimizer(o.kind, 0.1)), o.kind).toBe(true);
  });

  it("the input matmuls (forward and W_in's gradient) take the vec4 templates", () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const step = compileProgram(m, {
      optimizer: adam,
      storeActivations: false,
      target: nominalTarget("cpu"),
    }).step;
    const input = step.kernels.filter((k) => k.grid.formula.startsWith("[N, F]"));
    expect(input.map((k) => k.code.match(/template: (\S+)/)?.[1]).sort()).toEqual([
      "matmul_nn_subgroup",
      "matmul_tn_subgroup",
    ]);
    for (const k of input) expect(k.code, k.name).toContain("array<vec4f>");
  });

  it("padded sizes round only the padded dims up", () => {
    expect(paddedDims({ N: 7, F: 1433, K: 7 }, new Map([["F", 4]]))).toEqual({
      N: 7,
      F: 1436,
      K: 7,
    });
    // No features at all: still one vec4 wide (WebGPU refuses empty bindings).
    expect(paddedDims({ N: 7, F: 0 }, new Map([["F", 4]]))).toEqual({ N: 7, F: 4 });
  });

  it("padArray puts a tensor in the corner of zeros; cropArray takes it back", () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const padded = padArray(a, [2, 3], [3, 4]);
    expect([...padded]).toEqual([1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0]);
    expect([...cropArray(padded, [2, 3], [3, 4])]).toEqual([...a]);
    const stacked = Float32Array.from([1, 2, 3, 4]);
    expect([...padArray(stacked, [2, 1, 2], [2, 2, 2])]).toEqual([1, 2, 0, 0, 3, 4, 0, 0]);
  });
});

describe("training with F = 13 padded to 16", () => {
  it("three Adam steps on the GPU = the interpreter; W_in's padding rows and state stay zero", async () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const ds = syntheticDataset(300, 600, 13, 4, 7);
    const { backend, session: gpu } = await session(m, ds, "adam", false, 5e-4);
    expect(gpu.padding.get("F")).toBe(4);
    const oracle = new InterpreterSession(m, { optimizer: adam, storeActivations: false });
    await oracle.bind(ds);
    const init = initParameters(m.train.params, gpu.dims!, 4);
    gpu.setParameters(init);
    oracle.setParameters(init);
    for (let t = 1; t <= 3; t++) {
      const [a, b] = [await gpu.step(0.01, t, 9), await oracle.step(0.01, t, 9)];
      expect(Math.abs(a - b) / Math.abs(b), `loss at step ${t}`).toBeLessThan(1e-4);
    }
    const [got, want] = [await gpu.readState(), await oracle.readState()];
    got.params.forEach((p, i) => {
      expect(p.length, m.train.params[i]!.name).toBe(want.params[i]!.length);
      expect(relativeError(p, want.params[i]!), m.train.params[i]!.name).toBeLessThan(1e-4);
    });
    // The device buffers themselves: rows 13..15 of W_in [16, 8], and of its Adam m and v.
    const w = m.train.params.findIndex((p) => p.name === "W_in");
    const np = m.train.params.length;
    for (const view of [gpu.params[w]!, gpu.states[w]!, gpu.states[np + w]!]) {
      const raw = await backend.read(view.buf.handle, view.elements, view.offset * 4);
      expect(raw.length).toBe(16 * 8);
      expect([...raw.subarray(13 * 8)].every((x) => x === 0)).toBe(true);
      expect([...raw.subarray(0, 13 * 8)].some((x) => x !== 0)).toBe(true);
    }
  });
});
