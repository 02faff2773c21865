// The kernel profiler on a real (tiny) training run: one step timed after one warm-up step, by
// GPU timestamps and by fences. The table must account for every dispatch of the timed step, once.
import { describe, expect, it } from "vitest";
import { GpuBackend } from "../../runtime/exec/backend.js";
import type { TimingMethod } from "../../runtime/gpu/dispatch-timer.js";
import type { CompiledKernel } from "../../runtime/gpu/pipelines.js";
import { train, type Progress } from "../../driver/trainer.js";
import { gpu } from "../helpers/gpu.js";
import { model, smallGraph } from "../helpers/train.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

const silent: Progress = { start() {}, epoch() {}, message() {}, stop() {} };

async function profiledRun(method: TimingMethod | null) {
  const ctx = await gpu();
  const backend = new GpuBackend(ctx);
  // Every dispatch of the timed step, by the name the table uses.
  const dispatched: string[] = [];
  const dispatch = backend.dispatch.bind(backend);
  backend.dispatch = (kernel: CompiledKernel, buffers, params, x, y, z, note) => {
    if (backend.timing.method) dispatched.push(note?.kernel ?? kernel.label);
    dispatch(kernel, buffers, params, x, y, z, note);
  };
  const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
  const result = await train(
    backend,
    m,
    smallGraph(),
    {
      epochs: 2,
      lr: 0.01,
      optimizer: defaultOptimizer("adam", 5e-4),
      seed: 3,
      partitions: 1,
      evalEvery: 1,
      storeActivations: false,
      ...(method ? { profile: { steps: 1, warmup: 1, method } } : {}),
    },
    silent,
  );
  return { result, dispatched };
}

describe("kernel profiler", () => {
  it("timing changes how work is submitted, not what is computed: the same losses", async () => {
    const plain = await profiledRun(null);
    const timed = await profiledRun("fence");
    expect(plain.result.profile).toBeUndefined();
    expect(timed.result.epochs.map((e) => e.loss)).toEqual(plain.result.epochs.map((e) => e.loss));
  });

  for (const method of ["timestamp-query", "fence"] as const) {
    it(`${method}: rows cover every dispatched kernel, shares sum to 1, times positive`, async () => {
      const ctx = await gpu();
      if (method === "timestamp-query" && !ctx.features.timestampQuery) return; // not on this device
      const { result, dispatched } = await profiledRun(method);
      const p = result.profile!;
      expect(p.steps).toEqual([1]); // the second step, after one warm-up step
      expect(p.table.method).toBe(method);
      expect(p.table.steps).toBe(1);
      // Evaluations are not timed: exactly the step's dispatches, each counted once.
      expect(dispatched.length).toBe(result.dispatchesPerStep);
      expect(p.table.dispatches_per_step).toBe(dispatched.length);
      expect(new Set(p.table.rows.map((r) => r.kernel))).toEqual(new Set(dispatched));
      const calls = p.table.rows.reduce((s, r) => s + r.calls_per_step, 0);
      expect(calls).toBe(dispatched.length);
      const share = p.table.rows.reduce((s, r) => s + r.share, 0);
      expect(share).toBeCloseTo(1, 9);
      for (const r of p.table.rows) {
        expect(Number.isFinite(r.ms_per_step), r.kernel).toBe(true);
        expect(r.ms_per_step, r.kernel).toBeGreaterThanOrEqual(0);
      }
      expect(p.table.kernel_ms_per_step).toBeGreaterThan(0);
      // The matmuls carry their FLOP rate; the program's kernels name their IR ops.
      const mm = p.table.rows.filter((r) => r.implements.includes("matmul"));
      expect(mm.length).toBeGreaterThan(0);
      expect(mm.some((r) => r.gflop_per_s !== null && r.gflop_per_s > 0)).toBe(true);
      expect(
        p.table.rows.filter((r) => r.kind !== "runtime").every((r) => r.implements.length > 0),
      ).toBe(true);
    });
  }
});
