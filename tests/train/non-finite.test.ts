// NaN and ±Infinity never pass silently: the device-side count of non-finite values in the
// parameters and optimizer state (exact counts, views at offsets, chunking over dispatches, long
// tensors), the step that throws when an update leaves any, and the training loop that stops with
// a message naming the tensor and the epoch and keeps the last good checkpoint.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import type { View } from "../../runtime/exec/executor.js";
import { loadSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { FiniteCheck, NonFiniteStateError } from "../../driver/finite.js";
import { initParameters } from "../../driver/init.js";
import { train, type Progress, type TrainOptions } from "../../driver/trainer.js";
import { gpu } from "../helpers/gpu.js";
import { model, session, smallGraph } from "../helpers/train.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

describe("FiniteCheck (on the device)", () => {
  it("counts NaN and infinities exactly, per tensor, within views, over several dispatches", async () => {
    const base = new GpuBackend(await gpu());
    // Three storage buffers per kernel: two tensors per dispatch, so 6 tensors take 3 dispatches.
    const backend = Object.create(base) as GpuBackend;
    Object.defineProperty(backend, "maxStorageBuffers", { value: 3 });
    const views: View<GPUBuffer>[] = [];
    const put = (data: Float32Array, offset = 0, elements = data.length - offset) => {
      const handle = base.memory.acquire(data.length * 4, "workspace", "test");
      base.write(handle, data);
      const v: View<GPUBuffer> = {
        kind: "view",
        buf: { handle, bytes: data.length * 4, refs: 1, owned: true, category: "workspace" },
        offset,
        elements,
      };
      views.push(v);
      return v;
    };
    const t0 = new Float32Array(100).fill(0.5);
    t0[3] = NaN;
    t0[50] = NaN;
    t0[99] = NaN;
    t0[10] = Infinity;
    t0[11] = -Infinity;
    t0[12] = 3.4e38; // finite extremes are not counted
    t0[13] = 1e-45;
    put(t0);
    // A view: NaNs outside [offset, offset + elements) belong to another tensor.
    const t1 = new Float32Array(40);
    t1[0] = NaN;
    t1[39] = NaN;
    t1[20] = -Infinity;
    put(t1, 7, 30);
    put(new Float32Array(5000).fill(-2)); // clean
    const long = new Float32Array(300_001).fill(1);
    long[300_000] = NaN; // the last element: the grid-stride loop reaches it
    put(long);
    const bits = new Float32Array(8);
    new Uint32Array(bits.buffer).set([0x7f800001, 0xffc00000, 0x7fffffff, 0xff800000]);
    put(bits); // NaNs with any payload and sign, and −∞
    put(new Float32Array(3)); // clean, last in the last dispatch
    const loss = put(Float32Array.of(0, 1.5), 1, 1);
    const names = ["t0", "t1", "clean", "long", "payloads", "tail"];
    const check = new FiniteCheck(backend, names);
    expect(check.perDispatch).toBe(2);
    check.allocate({ allocate: (n) => put(new Float32Array(n)) });
    const d0 = base.stats.dispatches;
    const r = await check.run(views.slice(0, 6), loss);
    expect(base.stats.dispatches - d0).toBe(3);
    expect(r.loss).toBe(1.5);
    expect(r.bad).toEqual([
      { name: "t0", nan: 3, inf: 2, elements: 100 },
      { name: "t1", nan: 0, inf: 1, elements: 30 },
      { name: "long", nan: 1, inf: 0, elements: 300_001 },
      { name: "payloads", nan: 3, inf: 1, elements: 8 },
    ]);
    // The counters start from zero at every run.
    base.write(views[0]!.buf.handle, new Float32Array(100));
    base.write(views[1]!.buf.handle, new Float32Array(40));
    base.write(views[3]!.buf.handle, new Float32Array(300_001));
    base.write(views[4]!.buf.handle, new Float32Array(8));
    expect((await check.run(views.slice(0, 6), loss)).bad).toEqual([]);
  });
});

describe("a training step checks its parameters and optimizer state", () => {
  it("a diverging SGD step throws, naming the parameters, though the loss it reads is finite", async () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const { session: s } = await session(m, smallGraph(), "sgd");
    s.setParameters(initParameters(m.train.params, s.dims!, 3));
    await s.step(1e30, 1, 0); // huge weights, still finite
    const err = await s.step(1e30, 2, 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NonFiniteStateError);
    const e = err as NonFiniteStateError;
    expect(e.step).toBe(2);
    expect(e.tensors.map((t) => t.name)).toContain("W_in");
    expect(e.tensors.every((t) => t.nan + t.inf > 0)).toBe(true);
  });

  it("an optimizer state gone infinite is caught even though the weights stay finite", async () => {
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const { session: s } = await session(m, smallGraph(), "adam");
    const params = initParameters(m.train.params, s.dims!, 3);
    const np = params.length;
    const states = [...params, ...params].map((p) => new Float32Array(p.length));
    const w = m.train.params.findIndex((p) => p.name === "W_out");
    states[np + w]![0] = Infinity; // v of W_out: the update m/(√v + ε) is 0 there, the weight finite
    s.setParameters(params, states);
    const err = (await s.step(0.01, 1, 0).then(
      () => undefined,
      (e: unknown) => e,
    )) as NonFiniteStateError;
    expect(err).toBeInstanceOf(NonFiniteStateError);
    expect(err.tensors).toEqual([
      { name: "optimizer.v.W_out", nan: 0, inf: 1, elements: params[w]!.length },
    ]);
    const after = await s.readState();
    expect(after.params.every((p) => p.every(Number.isFinite))).toBe(true);
  });
});

describe("the training loop on non-finite weights", () => {
  const silent = (messages: string[]): Progress => ({
    start() {},
    epoch() {},
    message: (m) => messages.push(m),
    stop() {},
  });
  const opts = (o: Partial<TrainOptions>): TrainOptions => ({
    epochs: 5,
    lr: 1e30,
    optimizer: defaultOptimizer("sgd", 0),
    seed: 3,
    partitions: 1,
    evalEvery: 1,
    storeActivations: false,
    ...o,
  });

  it("stops at the first bad update, says which tensor and epoch, keeps the last good checkpoint", async () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-nonfinite-"));
    const save = join(dir, "ck.safetensors");
    const messages: string[] = [];
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const r = await train(
      new GpuBackend(await gpu()),
      m,
      smallGraph(),
      opts({ save }),
      silent(messages),
    );
    expect(r.stopped).toBe("non-finite parameters");
    expect(r.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(messages.join("\n")).toMatch(
      /the update of epoch 2 \(optimizer step 2\) left non-finite values in \S+ \(\d+ NaN.* of \d+ values\).*stopping \(the last good checkpoint, of epoch 1, is kept in .*ck\.safetensors\)\. Try a smaller --lr\./,
    );
    const ck = loadSafetensors(save);
    expect(ck.metadata.epoch).toBe("1");
    for (const [name, t] of ck.tensors) expect([...t.data].every(Number.isFinite), name).toBe(true);
  });

  it("an exact-mode state that leaves the grid's range stops the run with exact mode's advice", async () => {
    const messages: string[] = [];
    // 2^-23 holds |x| < 2 only: this model's state leaves it at once and becomes NaN, which the
    // parameters' gradients carry (the CLI refuses such a grid before training; this is the stop
    // for a state that grows out of range during training).
    const m = expectModel(
      compileFile("examples/revgcn.gnn", { set: { L: "2", D: "8" }, exact: { bits: 23 } }),
    );
    const r = await train(
      new GpuBackend(await gpu()),
      m,
      smallGraph(),
      opts({ lr: 0.01, optimizer: defaultOptimizer("adam", 0), perOp: true, exactBits: 23 }),
      silent(messages),
    );
    expect(r.stopped).toBe("non-finite parameters");
    expect(messages.join("\n")).toMatch(
      /epoch 1 \(optimizer step 1\) left non-finite values in .*In exact mode a state value beyond the fixed-point range ±2 .*use fewer --exact bits/,
    );
  });

  it("says when nothing was saved yet, and mini-batch steps are checked too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-nonfinite-"));
    const save = join(dir, "ck.safetensors");
    const messages: string[] = [];
    const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
    const r = await train(
      new GpuBackend(await gpu()),
      m,
      smallGraph(),
      opts({ save, partitions: 3 }),
      silent(messages),
    );
    expect(r.stopped).toBe("non-finite parameters");
    expect(r.epochs).toEqual([]);
    expect(r.stepSeconds.length).toBeGreaterThan(0); // the stopped step's time is reported too
    expect(messages.join("\n")).toMatch(/epoch 1 \(optimizer step [23]\).*\(nothing was saved to /);
    expect(existsSync(save)).toBe(false);
  });
});
