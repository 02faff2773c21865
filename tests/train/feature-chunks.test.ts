// Dense node features larger than one storage binding (driver/feature-chunks.ts,
// compiler/codegen/row-ranges.ts): x is held in row chunks, one buffer each, and its two matmuls
// run chunk by chunk — x·W_in by output rows, W_in's gradient xᵀ·G by split-K slabs. Forced on
// Cora by a small chunk budget: training is bitwise the unsplit run's (each output row and each
// split-K slab is computed by the same kernel from the same numbers, and the slabs are summed in
// the same order) and the interpreter's to float32 rounding; the memory accounting counts the
// chunks, and the plan predicts them; a model reading x otherwise is refused, naming the kernel.
import { describe, expect, it } from "vitest";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { defaultOptimizer, type OptimizerConfig } from "../../compiler/optimizers.js";
import { initParameters } from "../../driver/init.js";
import { planMemory } from "../../driver/plan.js";
import { bindDims, dataArrays, Session } from "../../driver/session.js";
import { checkTensorSizes } from "../../driver/limits.js";
import { featureChunks, kernelsReadingInput } from "../../driver/feature-chunks.js";
import { compileGraph, compileProgram, gradientGraph } from "../../compiler/pipeline.js";
import { runOnce } from "../../driver/run-once.js";
import { nominalTarget } from "../../compiler/target.js";
import { loadDataset } from "../../runtime/data/load.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import type { Dataset } from "../../runtime/data/types.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { BufferLimitError, MEMORY_CATEGORIES } from "../../runtime/gpu/memory.js";
import { gpu } from "../helpers/gpu.js";
import { expectStepAsInterpreter, model } from "../helpers/train.js";

const sgd = defaultOptimizer("sgd", 5e-4);
const adam = defaultOptimizer("adam", 5e-4);
/** Split-K chunks of 512 rows (lavapipe's tuning has 2048, more than Cora's x could show). */
const SPLIT_K_ROWS = 512;
/** Cora's padded row: 1436 floats. A budget of 1100 rows gives chunks of 1024 (two split-K
 *  chunks): 1024 + 1024 + 660 rows. */
const ROW_BYTES = 1436 * 4;
const CHUNK_BUDGET = 1100 * ROW_BYTES;

/**
 * The lavapipe context with split-K chunks of SPLIT_K_ROWS rows; or with the GPU tuning (the
 * tiled matmul templates, split-K chunks of 512 rows); or without a tuning (the portable
 * generated kernels: split-K chunks of 1024 rows).
 */
async function context(kernels: Kernels = "cpu"): Promise<GpuContext> {
  const ctx = await gpu();
  const tuning = {
    cpu: { ...ctx.tuning, splitKRows: SPLIT_K_ROWS },
    gpu: nominalTarget("gpu").tuning,
    portable: undefined,
  }[kernels];
  return Object.create(ctx, { tuning: { value: tuning } }) as GpuContext;
}

type Kernels = "cpu" | "gpu" | "portable";

/** `ctx` with a smaller maxStorageBufferBindingSize (the limits are getters: copied one by one). */
function withBindingLimit(ctx: GpuContext, bytes: number): GpuContext {
  const limits: Record<string, unknown> = {};
  for (const k in ctx.limits) limits[k] = ctx.limits[k as keyof GPUSupportedLimits];
  limits.maxStorageBufferBindingSize = bytes;
  return Object.create(ctx, { limits: { value: limits } }) as GpuContext;
}

async function cora(): Promise<Dataset> {
  return loadDataset("data/cora");
}

async function session(
  ds: Dataset,
  optimizer: OptimizerConfig,
  featureChunkBytes?: number,
  D = "16",
  kernels: Kernels = "cpu",
) {
  const m = model("examples/revgcn.gnn", { L: "2", D });
  const backend = new GpuBackend(await context(kernels));
  // Cora is 1.3 % non-zero: bound dense on purpose (the sparse path has no N×F buffer).
  const s = new Session(backend, m, {
    optimizer,
    storeActivations: false,
    denseFeatures: true,
    featureChunkBytes,
  });
  await s.bind(ds);
  return { m, backend, session: s };
}

describe("dense features in row chunks (Cora, RevGCN)", () => {
  it("x is split into 3 chunks of whole split-K chunks; the step and evaluation equal the unsplit run bitwise", async () => {
    const ds = await cora();
    const whole = await session(ds, adam);
    const split = await session(ds, adam, CHUNK_BUDGET);
    expect(whole.session.featureChunks).toBeUndefined();
    expect(split.session.featureChunks).toEqual({ rowsPerChunk: 1024, chunks: 3 });
    const init = initParameters(whole.m.train.params, whole.session.dims!, 5);
    whole.session.setParameters(init);
    split.session.setParameters(init);
    const [e, f] = [await whole.session.evaluate(), await split.session.evaluate()];
    expect(f).toEqual(e);
    for (let t = 1; t <= 3; t++) {
      const [a, b] = [await whole.session.step(0.01, t, 7), await split.session.step(0.01, t, 7)];
      expect(b, `loss at step ${t}`).toBe(a);
    }
    const [want, got] = [await whole.session.readState(), await split.session.readState()];
    got.params.forEach((p, i) => expect(p, whole.m.train.params[i]!.name).toEqual(want.params[i]));
    got.states.forEach((p, i) => expect(p, `state ${i}`).toEqual(want.states[i]));
  }, 300_000);

  for (const kernels of ["gpu", "portable"] as const) {
    it(`the ${kernels === "gpu" ? "tiled GPU templates" : "portable generated kernels"} too: bitwise the unsplit run`, async () => {
      const ds = await cora();
      const whole = await session(ds, adam, undefined, "8", kernels);
      const split = await session(ds, adam, CHUNK_BUDGET, "8", kernels);
      // Split-K chunks of 512 (GPU tuning) or 1024 rows (portable): chunks of 1024 either way.
      expect(split.session.featureChunks).toEqual({ rowsPerChunk: 1024, chunks: 3 });
      const init = initParameters(whole.m.train.params, whole.session.dims!, 5);
      whole.session.setParameters(init);
      split.session.setParameters(init);
      expect(await split.session.evaluate()).toEqual(await whole.session.evaluate());
      expect(await split.session.step(0.01, 1, 7)).toBe(await whole.session.step(0.01, 1, 7));
      const [want, got] = [await whole.session.readState(), await split.session.readState()];
      got.params.forEach((p, i) =>
        expect(p, whole.m.train.params[i]!.name).toEqual(want.params[i]),
      );
    }, 300_000);
  }

  it("one SGD step of every parameter (W_in's gradient xᵀ·G summed over the chunks) = the interpreter", async () => {
    const ds = await cora();
    const { m, session: s } = await session(ds, sgd, 600 * ROW_BYTES, "8");
    // 600 rows fit: chunks of 512, one split-K chunk each. (D = 8 keeps the float64
    // interpreter's step under its work limit.)
    expect(s.featureChunks).toEqual({ rowsPerChunk: 512, chunks: 6 });
    await expectStepAsInterpreter(s, m, ds, sgd, { loss: 1e-5, params: 1e-4 });
  }, 300_000);

  it("the accounting holds the chunks (graph bytes as unsplit), and the plan predicts the peak", async () => {
    const ds = await cora();
    const whole = await session(ds, adam);
    const split = await session(ds, adam, CHUNK_BUDGET);
    // Each chunk is its own accounted buffer; together exactly x's bytes.
    expect(split.backend.memory.snapshot().live.graph).toBe(
      whole.backend.memory.snapshot().live.graph,
    );
    const { m, backend, session: s } = split;
    s.setParameters(initParameters(m.train.params, s.dims!, 3));
    backend.memory.resetPeak();
    await s.step(0.01, 1, 3);
    await s.evaluate();
    await s.readState();
    await s.step(0.01, 2, 3);
    const snap = backend.memory.snapshot();
    const ctx = await context();
    const plan = await planMemory(m, bindDims(m.train.inputs, ds), {
      optimizer: adam,
      storeActivations: false,
      denseFeatures: true,
      featureChunkBytes: CHUNK_BUDGET,
      tuning: ctx.tuning,
      maxStorageBuffers: ctx.limits.maxStorageBuffersPerShaderStage,
    });
    for (const c of MEMORY_CATEGORIES) expect(snap.peak[c], c).toBe(plan[c]);
  }, 300_000);
});

describe("runOnce (revgnn check, drift samples) holds x in row chunks too", () => {
  it("RevGCN's loss and gradients from a 256 KiB binding limit (x 750 KiB, 3 chunks) = from the real one, bitwise", async () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const ds = syntheticDataset(3000, 6000, 64, 4, 7);
    const g = gradientGraph(m, { storeActivations: false });
    const dims = bindDims(m.train.inputs, ds);
    const init = initParameters(m.train.params, dims, 2);
    const inputs = [...dataArrays(m.train.inputs, ds), ...init, [1]]; // [1]: the loss seed
    const ctx = await context();
    const small = withBindingLimit(ctx, 256 * 1024);
    const run = async (c: GpuContext) =>
      (await runOnce(new GpuBackend(c), g, inputs, dims, ds.graph, { seed: 3, step: 1 })).outputs;
    const [whole, split] = [await run(ctx), await run(small)];
    // 1024 rows of 64 floats fit 256 KiB: chunks of two 512-row split-K chunks.
    expect(
      featureChunks([compileGraph(g, { tuning: ctx.tuning })], 0, 3000, 64, 256 * 1024, "x", ""),
    ).toEqual({
      rowsPerChunk: 1024,
      chunks: 3,
    });
    expect(split).toEqual(whole);
  }, 300_000);
});

describe("which reads of x run by rows", () => {
  const programs = (source: string) => {
    const m = expectModel(compileSource(source, "m.gnn"));
    const p = compileProgram(m, {
      optimizer: adam,
      storeActivations: false,
      target: nominalTarget("cpu"),
    });
    return [p.step, p.eval];
  };

  it("RevGCN: x·W_in (forward, evaluation) and xᵀ·G (W_in's gradient) only, all by rows", () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const p = compileProgram(m, {
      optimizer: adam,
      storeActivations: false,
      target: nominalTarget("cpu"),
    });
    const readers = [p.step, p.eval].flatMap((q) => kernelsReadingInput(q, 0));
    expect(readers.map((r) => r.kernel.kind).sort()).toEqual([
      "matmul",
      "matmul",
      "matmul_splitk_partials",
    ]);
    for (const r of readers) expect(r.kernel.rowRange?.operand).toBe(r.operand);
  });

  it("dropout on x is refused with the kernel that reads x whole and the limit", () => {
    const ps = programs(`model M(x: [N, F], y: labels[N, K]) {
  param W: [F, K] = glorot
  loss cross_entropy(dropout(x, 0.5) @ W, y)
}
`);
    const refuse = () => featureChunks(ps, 0, 1000, 100, 100_000, "x", "[N, F] = [1000, 100]");
    expect(refuse).toThrow(BufferLimitError);
    expect(refuse).toThrow(
      /maxStorageBufferBindingSize.*reads it whole.*only matmuls with x on the left/,
    );
    // Within the limit nothing is split, whatever reads x.
    expect(featureChunks(ps, 0, 100, 100, 100_000, "x", "")).toBeUndefined();
  });

  it("the size check lets dense x over the limit through only where rows serve (dry run, 64 KiB)", async () => {
    const limits = { maxBindingBytes: 64 * 1024, maxBufferBytes: 1 << 30 };
    const dims = { N: 300, E: 600, F: 200, K: 4, G: 1 };
    const rev = model("examples/revgcn.gnn", { L: "2", D: "8" });
    expect(() => checkTensorSizes(rev, dims, limits)).not.toThrow();
    const ii = model("examples/revgcnii.gnn", { L: "2", D: "8" });
    expect(() => checkTensorSizes(ii, dims, limits)).toThrow(/maxStorageBufferBindingSize/);
    // With lavapipe's split-K chunks of 2048 rows, 2048 rows of 200 floats exceed 64 KiB.
    const ds = syntheticDataset(300, 600, 200, 4, 7);
    const o = {
      optimizer: adam,
      storeActivations: false,
      denseFeatures: true,
      tuning: (await gpu()).tuning,
      maxBindingBytes: 64 * 1024,
    };
    await expect(planMemory(rev, bindDims(rev.train.inputs, ds), o)).rejects.toThrow(
      /multiples of 2048 rows/,
    );
  });
});
