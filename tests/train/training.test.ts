// The training loop's contracts: one full-batch epoch is one optimizer step (so plain SGD with
// lr 1 moves the weights by exactly the gradient), resuming a run is bit-for-bit, a diverging run
// stops and keeps the last good checkpoint.
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { evalShape } from "../../compiler/ir/dims.js";
import { graphView, interpret } from "../../compiler/ir/interp.js";
import { relativeError, tensor } from "../../compiler/ir/tensor.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { loadSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { dataArrays } from "../../driver/session.js";
import { train, type Progress, type TrainOptions } from "../../driver/trainer.js";
import { initParameters } from "../../driver/init.js";
import { gpu } from "../helpers/gpu.js";
import { model, session, smallGraph } from "../helpers/train.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

const silent: Progress = { start() {}, epoch() {}, message() {}, stop() {} };
const base = (o: Partial<TrainOptions>): TrainOptions => ({
  epochs: 2,
  lr: 0.01,
  optimizer: defaultOptimizer("adam", 5e-4),
  seed: 5,
  partitions: 1,
  evalEvery: 1,
  storeActivations: false,
  ...o,
});

describe("training", () => {
  it("one SGD epoch with lr 1: initial − final weights = the interpreter's gradient (1e-4)", async () => {
    const m = model("examples/revgcn.gnn", { L: "3", D: "8", p: "0" });
    const ds = smallGraph();
    const { session: s } = await session(m, ds, "sgd");
    const init = initParameters(m.train.params, s.dims!, 11);
    s.setParameters(init);
    await s.step(1, 1, 0);
    const after = (await s.readState()).params;
    const numData = m.train.inputs.length;
    const lossOnly = {
      ...m.train.graph,
      outputs: [m.train.graph.outputs[0]!],
    } as typeof m.train.graph;
    const vg = vjpGraph(
      lossOnly,
      m.train.params.map((_, i) => numData + i),
    );
    const dims = s.dims!;
    const data = dataArrays(m.train.inputs, ds).map((a, i) =>
      tensor(
        evalShape(m.train.inputs[i]!.role === "labels" ? ["N", 1] : m.train.inputs[i]!.shape, dims),
        a,
      ),
    );
    const params = init.map((a, i) => tensor(evalShape(m.train.params[i]!.shape, dims), a));
    const grads = interpret(vg, [...data, ...params, tensor([], [1])], {
      dims,
      graph: graphView(ds.graph),
    }).slice(1);
    grads.forEach((g, i) => {
      const moved = init[i]!.map((v, k) => v - after[i]![k]!);
      expect(relativeError(moved, g.data), m.train.params[i]!.name).toBeLessThan(1e-4);
    });
  });

  it("resuming from a checkpoint continues bit for bit (Adam state included)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-"));
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const ds = smallGraph();
    const backend = () => gpu().then((c) => new GpuBackend(c));
    const straight = await train(
      await backend(),
      m,
      ds,
      base({ epochs: 4, save: join(dir, "a.safetensors") }),
      silent,
    );
    await train(
      await backend(),
      m,
      ds,
      base({ epochs: 2, save: join(dir, "b.safetensors") }),
      silent,
    );
    const resumed = await train(
      await backend(),
      m,
      ds,
      base({ epochs: 4, resume: join(dir, "b.safetensors"), save: join(dir, "c.safetensors") }),
      silent,
    );
    expect(resumed.epochs.map((e) => e.loss)).toEqual(straight.epochs.map((e) => e.loss));
    const a = loadSafetensors(join(dir, "a.safetensors"));
    const c = loadSafetensors(join(dir, "c.safetensors"));
    expect([...c.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [name, t] of a.tensors)
      expect(
        Buffer.from(c.tensors.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)),
        name,
      ).toBe(true);
    expect(straight.valid).toBe(resumed.valid);
  });

  it("shouldStop ends the run after that epoch with a checkpoint that resumes bit for bit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-"));
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const ds = smallGraph();
    const backend = () => gpu().then((c) => new GpuBackend(c));
    const straight = await train(await backend(), m, ds, base({ epochs: 4 }), silent);
    let epochs = 0;
    const counting: Progress = { ...silent, epoch: () => void epochs++ };
    const save = join(dir, "stopped.safetensors");
    const stopped = await train(
      await backend(),
      m,
      ds,
      base({ epochs: 4, save, shouldStop: () => epochs >= 2 }),
      counting,
    );
    expect(stopped.stopped).toBe("stopped");
    expect(stopped.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    const resumed = await train(await backend(), m, ds, base({ epochs: 4, resume: save }), silent);
    expect(resumed.stopped).toBe("completed");
    expect(resumed.epochs.map((e) => e.loss)).toEqual(straight.epochs.map((e) => e.loss));
  });

  it("a non-finite loss stops the run and keeps the last good checkpoint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-"));
    const m = model("examples/resgcn.gnn", { L: "2", D: "8", p: "0" });
    const save = join(dir, "ck.safetensors");
    const r = await train(
      await gpu().then((c) => new GpuBackend(c)),
      m,
      smallGraph(),
      base({ epochs: 30, lr: 1e38, optimizer: defaultOptimizer("sgd", 0), save }),
      silent,
    );
    // The weights overflow before the loss does: the parameter check stops the run.
    expect(r.stopped).toBe("non-finite parameters");
    expect(r.epochs.length).toBeLessThan(30);
    expect(existsSync(save)).toBe(true);
    const ck = loadSafetensors(save);
    expect(Number(ck.metadata.epoch)).toBe(r.epochs.length);
    for (const t of ck.tensors.values()) expect([...t.data].every(Number.isFinite)).toBe(true);
  });

  it("mini-batch training over random partitions runs and learns", async () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "16" });
    const r = await train(
      await gpu().then((c) => new GpuBackend(c)),
      m,
      smallGraph(),
      base({ epochs: 6, partitions: 3 }),
      silent,
    );
    expect(r.epochs.length).toBe(6);
    expect(r.epochs[5]!.loss).toBeLessThan(r.epochs[0]!.loss);
  });
});
