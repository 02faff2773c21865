// The command stream: execution in call order (writes included), batching into several submits,
// the parameter ring filling up mid-batch, prepared bind groups, and offset readbacks.
import { describe, expect, it } from "vitest";
import { CommandStream } from "../../runtime/gpu/stream.js";
import type { CompiledKernel } from "../../runtime/gpu/pipelines.js";
import {
  paramsStruct,
  packParams,
  type UniformField,
} from "../../compiler/codegen/templates/template.js";
import { upload, useEnv } from "./helpers.js";

const env = useEnv();

// 40 fields (160 bytes) so that the parameter ring fills before a batch is full.
const FIELDS: UniformField[] = [
  { name: "add", type: "f32" },
  { name: "count", type: "u32" },
  ...Array.from({ length: 38 }, (_, i) => ({ name: `pad${i}`, type: "u32" as const })),
];

async function addKernel(): Promise<CompiledKernel> {
  return env.cache.get({
    code: `${paramsStruct("P", FIELDS)}
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> params: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < params.count) { x[gid.x] += params.add; }
}`,
    entryPoint: "main",
    bindings: [
      { name: "x", kind: "read_write" },
      { name: "params", kind: "uniform" },
    ],
    label: "add",
  });
}

describe("command stream", () => {
  it("runs dispatches and writes in call order, across many submits", async () => {
    const k = await addKernel();
    const stream = new CommandStream(env.ctx, env.memory, { batchSize: 16, label: "small" });
    const x = env.memory.acquire(256 * 4, "activations", "x");
    stream.write(x, new Float32Array(256).fill(1));
    for (let i = 1; i <= 100; i++)
      stream.dispatch(k, [x], packParams(FIELDS, { add: i, count: 256 }), 4);
    // The write must land after the 100 dispatches, and the next dispatch after the write.
    stream.write(x, new Float32Array([1000]), 8);
    stream.dispatch(k, [x], packParams(FIELDS, { add: 0.5, count: 256 }), 4);
    const got = await stream.readScalars(x, 4);
    expect(Array.from(got)).toEqual([5051.5, 5051.5, 1000.5, 5051.5]);
    expect(stream.stats.dispatches).toBe(101);
    expect(stream.stats.submits).toBeGreaterThanOrEqual(7);
    // readScalars at an offset
    expect(Array.from(await stream.readScalars(x, 2, 255 * 4 - 4))).toEqual([5051.5, 5051.5]);
    stream.destroy();
    env.memory.release(x);
  });

  it("handles a parameter ring that fills before the batch does, and prepared bindings", async () => {
    const k = await addKernel();
    const stream = new CommandStream(env.ctx, env.memory, { batchSize: 64, label: "ring" });
    const x = upload(env, new Float32Array(64));
    await env.stream.finish(); // the upload went through the shared stream
    const prepared = stream.prepare(k, [x]);
    let want = 0;
    for (let i = 0; i < 300; i++) {
      const add = (i % 7) - 3 + i / 1024;
      want += add;
      stream.dispatchPrepared(prepared, packParams(FIELDS, { add, count: 64 }), 1);
    }
    // Identical consecutive parameter blocks are uploaded once.
    stream.flush();
    const before = stream.stats.paramBytesUploaded;
    for (let i = 0; i < 10; i++)
      stream.dispatchPrepared(prepared, packParams(FIELDS, { add: 1, count: 64 }), 1);
    want += 10;
    const got = await stream.readScalars(x, 64);
    expect(Math.abs(got[63]! - want)).toBeLessThan(1e-3);
    expect(stream.stats.submits).toBeGreaterThan(300 / 64);
    expect(stream.stats.paramBytesUploaded - before).toBeLessThanOrEqual(256);
    await stream.finish();
    stream.destroy();
    env.memory.release(x);
  });

  it("rejects wrong buffer counts and oversized grids before recording", async () => {
    const k = await addKernel();
    const x = upload(env, new Float32Array(4));
    expect(() => env.stream.dispatch(k, [x, x], packParams(FIELDS, {}), 1)).toThrow(
      /binds 1 buffers \(x\), got 2/,
    );
    expect(() => env.stream.dispatch(k, [x], packParams(FIELDS, {}), 1 << 20)).toThrow(
      /maxComputeWorkgroupsPerDimension/,
    );
    expect(() => env.stream.dispatch(k, [x], null, 1)).toThrow(/parameter block/);
    env.memory.release(x);
  });
});
