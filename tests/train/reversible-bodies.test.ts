// The examples written with issue 13's reversible bodies — conditioning inputs (revgcnii), a
// multiplicative update by a hyperparameter (momentum), a `let` trunk shared by two updates
// (affine-gat), multi-head attention group functions (revgat-heads) — are reversible loops and
// train: a few full-batch epochs on a small graph with the memory-free backward lower the loss
// and leave every value finite.
import { describe, expect, it } from "vitest";
import { carryPathError } from "../../compiler/inverse/rev-backward.js";
import type { Graph } from "../../compiler/ir/types.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { train, type Progress } from "../../driver/trainer.js";
import { gpu } from "../helpers/gpu.js";
import { model, smallGraph } from "../helpers/train.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

const silent: Progress = { start() {}, epoch() {}, message() {}, stop() {} };

/** Why each `repeat` of the forward graph keeps activations; undefined where it is reversible. */
function loopVerdicts(g: Graph): (string | undefined)[] {
  return g.ops.flatMap((op) => {
    if (op.opcode !== "scan") return [];
    const body = op.regions[0]!;
    return [carryPathError(body, op.attrs.numCarry as number)];
  });
}

describe("examples with richer reversible bodies", () => {
  for (const file of ["revgcnii.gnn", "momentum.gnn", "affine-gat.gnn", "revgat-heads.gnn"]) {
    it(`${file}: a reversible loop that trains`, async () => {
      const m = model(`examples/${file}`, { L: "3", D: "16" });
      expect(loopVerdicts(m.train.graph)).toEqual([undefined]);
      const r = await train(
        await gpu().then((c) => new GpuBackend(c)),
        m,
        smallGraph(),
        {
          epochs: 8,
          lr: 0.01,
          optimizer: defaultOptimizer("adam", 5e-4),
          seed: 5,
          partitions: 1,
          evalEvery: 1,
          storeActivations: false,
        },
        silent,
      );
      expect(r.epochs.length).toBe(8);
      expect(r.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      expect(r.epochs[7]!.loss).toBeLessThan(r.epochs[0]!.loss);
      // The first compile of a model's kernels on lavapipe can take minutes on a loaded machine.
    }, 900_000);
  }
});
