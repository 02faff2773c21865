// The paper's ogbn-proteins model (examples/revgen-proteins.gnn: edge features through a per-layer
// edge encoder inside reversible blocks, multi-label BCE) trained briefly on the GPU on the
// proteins-shaped synthetic graph: the run reports ROC-AUC, the loss falls and the test ROC-AUC
// rises well above chance. (GPU = interpreter for the same model: tests/codegen/models-gpu.test.ts.)
import { describe, expect, it } from "vitest";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { syntheticProteins } from "../../runtime/data/synthetic-proteins.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { train, type Progress } from "../../driver/trainer.js";
import { gpu } from "../helpers/gpu.js";
import { model } from "../helpers/train.js";

const silent: Progress = { start() {}, epoch() {}, message() {}, stop() {} };

describe("revgen-proteins on synthetic:proteins", () => {
  it("learns: the loss falls and the test ROC-AUC rises above 0.5", async () => {
    const m = model("examples/revgen-proteins.gnn", { L: "2", D: "16", p: "0.1" });
    const ds = syntheticProteins(400, 2400, 1);
    const r = await train(
      new GpuBackend(await gpu()),
      m,
      ds,
      {
        epochs: 40,
        lr: 0.01,
        optimizer: defaultOptimizer("adam", 0),
        seed: 3,
        partitions: 1,
        evalEvery: 1,
        storeActivations: false,
      },
      silent,
    );
    expect(r.metric).toBe("rocauc");
    expect(r.stopped).toBe("completed");
    const first = r.epochs[0]!;
    const last = r.epochs.at(-1)!;
    expect(last.loss).toBeLessThan(0.8 * first.loss);
    expect(last.test!).toBeGreaterThan(0.7);
    expect(last.test!).toBeGreaterThan(first.test! + 0.05);
  }, 1_500_000);
});
