// The sparse input path (compiler/codegen/sparse-input.ts, driver/sparse-features.ts): features
// under 4 % non-zero are bound as one packed CSR + CSC buffer, the input matmuls and W_in's
// gradient read it, and training gives the interpreter's numbers; a model that reads x other
// than through those products (dropout on x) keeps x dense; the memory plan still measures.
import { describe, expect, it } from "vitest";
import { relativeError } from "../../compiler/ir/tensor.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { initParameters } from "../../driver/init.js";
import { planMemory } from "../../driver/plan.js";
import { bindDims, Session } from "../../driver/session.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { sparseFeatureLayout } from "../../compiler/codegen/sparse-input.js";
import { FEATURE_NONZEROS, packSparseFeatures, wantsSparse } from "../../driver/sparse-features.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import type { Dataset } from "../../runtime/data/types.js";
import { MEMORY_CATEGORIES } from "../../runtime/gpu/memory.js";
import { gpu } from "../helpers/gpu.js";
import { expectStepAsInterpreter, model, session } from "../helpers/train.js";

const adam = defaultOptimizer("adam", 5e-4);

/** A synthetic graph whose 13 features are about 3 % non-zero (bag-of-words-like). */
function sparseGraph(): Dataset {
  const ds = syntheticDataset(300, 600, 13, 4, 7);
  const features = ds.features.map((v, i) => ((i * 2654435761) % 97 < 3 ? v : 0));
  return { ...ds, features };
}

describe("packing", () => {
  it("one buffer holds x by rows (CSR) and by columns (CSC)", () => {
    // x = [[0, 2, 0, 0], [1, 0, 0, 3], [0, 0, 0, 0]]
    const x = Float32Array.from([0, 2, 0, 0, 1, 0, 0, 3, 0, 0, 0, 0]);
    const packed = packSparseFeatures(x, 3, 4);
    const words = new Uint32Array(packed.buffer);
    const L = sparseFeatureLayout(3, 4, 3);
    expect(words.length).toBe(L.words);
    expect([...words.subarray(L.rowPtr, L.rowPtr + 4)]).toEqual([0, 1, 3, 3]);
    expect([...words.subarray(L.col, L.col + 3)]).toEqual([1, 0, 3]);
    expect([...packed.subarray(L.val, L.val + 3)]).toEqual([2, 1, 3]);
    expect([...words.subarray(L.colPtr, L.colPtr + 5)]).toEqual([0, 1, 2, 2, 3]);
    expect([...words.subarray(L.row, L.row + 3)]).toEqual([1, 0, 1]);
    expect([...packed.subarray(L.valT, L.valT + 3)]).toEqual([1, 2, 3]);
  });

  it("sparse below 4 % non-zeros", () => {
    expect(wantsSparse({ N: 100, F: 10, [FEATURE_NONZEROS]: 39 }, "F")).toBe(true);
    expect(wantsSparse({ N: 100, F: 10, [FEATURE_NONZEROS]: 40 }, "F")).toBe(false);
    expect(wantsSparse({ N: 100, F: 10 }, "F")).toBe(false);
  });
});

describe("training on sparse features", () => {
  // D = 8: every invocation of the sparse kernel has a partial run of 16 columns; D = 36: two
  // full runs and a partial one per row.
  it.each(["8", "36"])(
    "RevGCN at D = %s: the loss, an evaluation and one SGD step of every parameter (x·W_in and xᵀ·G) = the interpreter",
    async (D) => {
      const m = model("examples/revgcn.gnn", { L: "2", D });
      const ds = sparseGraph();
      const { session: s } = await session(m, ds, "sgd", false, 5e-4);
      expect(s.sparseFeatures).toBe(true);
      // x·W_in and xᵀ·G share one kernel text: one pipeline.
      expect(s.stepProgram.kernels.filter((k) => k.kind === "matmul_sparse_input")).toHaveLength(1);
      // The evaluation program (its own x·W_in kernel) at the initial weights, then every
      // parameter moved by the learning rate times its gradient (W_in's is xᵀ·G from the CSC).
      // Most rows of x are empty, so LayerNorm sees rows that are exactly zero; on a tree without
      // the reversible backward's restore of entries the blocks left unchanged, the biases feeding
      // those layer norms were seen ~140 % off here.
      const sgd = defaultOptimizer("sgd", 5e-4);
      await expectStepAsInterpreter(s, m, ds, sgd, { loss: 1e-4, params: 1e-4 });
    },
  );

  it("RevGCN: three Adam steps with sparse features = with dense features (float32 both)", async () => {
    // Adam moves every weight with a non-zero gradient by about lr, so float32 rounding in tiny
    // gradients shows in the loss after a few steps (1.7e-4 from the float64 interpreter here, on
    // either path): the two device paths are compared with each other instead.
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const ds = sparseGraph();
    const make = async (denseFeatures: boolean) => {
      const s = new Session(new GpuBackend(await gpu()), m, {
        optimizer: adam,
        storeActivations: false,
        denseFeatures,
      });
      await s.bind(ds);
      return s;
    };
    const [sparse, dense] = [await make(false), await make(true)];
    expect([sparse.sparseFeatures, dense.sparseFeatures]).toEqual([true, false]);
    const init = initParameters(m.train.params, sparse.dims!, 4);
    sparse.setParameters(init);
    dense.setParameters(init);
    for (let t = 1; t <= 3; t++) {
      const [a, b] = [await sparse.step(0.01, t, 9), await dense.step(0.01, t, 9)];
      expect(Math.abs(a - b) / Math.abs(b), `loss at step ${t}`).toBeLessThan(1e-6);
    }
    const [got, want] = [await sparse.readState(), await dense.readState()];
    got.params.forEach((p, i) =>
      expect(relativeError(p, want.params[i]!), m.train.params[i]!.name).toBeLessThan(1e-5),
    );
  });

  it("RevGCNII (dropout on x) keeps x dense and trains", async () => {
    const m = model("examples/revgcnii.gnn", { L: "2", D: "8" });
    const { session: s } = await session(m, sparseGraph());
    expect(s.sparseFeatures).toBe(false);
    s.setParameters(initParameters(m.train.params, s.dims!, 4));
    expect(Number.isFinite(await s.step(0.01, 1, 9))).toBe(true);
  });

  it("the memory plan equals the measured peak, category by category", async () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const ds = sparseGraph();
    const { backend, session: s } = await session(m, ds, "adam", false, 0);
    s.setParameters(initParameters(m.train.params, s.dims!, 3));
    backend.memory.resetPeak();
    await s.step(0.01, 1, 3);
    // The plan's sequence: a step, an evaluation with a read-back of the state, a step.
    await s.evaluate();
    await s.readState();
    await s.step(0.01, 2, 3);
    const snap = backend.memory.snapshot();
    const plan = await planMemory(m, bindDims(m.train.inputs, ds), {
      optimizer: defaultOptimizer("adam", 0),
      storeActivations: false,
      tuning: (await gpu()).tuning,
      maxStorageBuffers: (await gpu()).limits.maxStorageBuffersPerShaderStage,
    });
    for (const c of MEMORY_CATEGORIES) expect(snap.peak[c], c).toBe(plan[c]);
  });

  it("features over the binding limit as N×F floats fit it sparse (64 KiB limit, dry run)", async () => {
    // 300 × 200 features, ~2 % non-zero: 234 KiB dense, ~21 KiB packed.
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const wide = syntheticDataset(300, 600, 200, 4, 7);
    const ds = {
      ...wide,
      features: wide.features.map((v, i) => ((i * 2654435761) % 97 < 2 ? v : 0)),
    };
    const dims = bindDims(m.train.inputs, ds);
    const o = {
      optimizer: defaultOptimizer("adam", 0),
      storeActivations: false,
      tuning: (await gpu()).tuning,
      maxBindingBytes: 64 * 1024,
    };
    const plan = await planMemory(m, dims, o);
    expect(plan.graph).toBeLessThan(64 * 1024);
    await expect(planMemory(m, dims, { ...o, denseFeatures: true })).rejects.toThrow(
      /maxStorageBufferBindingSize/,
    );
  });
});
