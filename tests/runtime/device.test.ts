// Device set-up and error surfacing: adapter description and tuning, install advice, WGSL compile
// errors shown with their source line, validation errors and device loss thrown at the next sync
// point instead of hanging or returning garbage.
import { describe, expect, it } from "vitest";
import {
  acquireGpu,
  DeviceLostError,
  GpuValidationError,
  NoAdapterError,
} from "../../runtime/gpu/device.js";
import { ShaderCompileError } from "../../runtime/gpu/pipelines.js";
import { CommandStream } from "../../runtime/gpu/stream.js";
import { createGpuMemory } from "../../runtime/gpu/memory.js";
import { useEnv } from "./helpers.js";

const env = useEnv();

const copyKernel = (bindings = "") => `
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;${bindings}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < arrayLength(&dst)) { dst[gid.x] = src[gid.x] + 1.0; }
}`;

describe("device", () => {
  it("describes the adapter and raises the limits to the adapter's", () => {
    const { adapterInfo, limits, adapter, tuning } = env.ctx;
    expect(adapterInfo.text.length).toBeGreaterThan(0);
    expect(["cpu", "discrete", "integrated", "unknown"]).toContain(adapterInfo.class);
    expect(limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(limits.maxComputeInvocationsPerWorkgroup).toBe(
      adapter.limits.maxComputeInvocationsPerWorkgroup,
    );
    expect(tuning.adapterClass).toBe(adapterInfo.class);
    if (/llvmpipe|lavapipe/i.test(adapterInfo.text)) expect(adapterInfo.class).toBe("cpu");
  });

  it("says what to install when there is no adapter", () => {
    const err = new NoAdapterError("no suitable backend");
    expect(err.message).toMatch(/mesa-vulkan-drivers/);
    expect(err.message).toMatch(/bookworm-backports/);
    expect(err.message).toMatch(/Metal/);
    expect(err.message).toMatch(/Dawn said: no suitable backend/);
  });

  it("reports a WGSL compile error with the offending source line", async () => {
    const code = copyKernel().replace("src[gid.x] + 1.0", "src[gid.x] + undefinedThing");
    const p = env.cache.get({
      code,
      entryPoint: "main",
      bindings: [
        { name: "src", kind: "read" },
        { name: "dst", kind: "read_write" },
      ],
      label: "broken",
    });
    await expect(p).rejects.toBeInstanceOf(ShaderCompileError);
    const err = (await p.catch((e: unknown) => e)) as ShaderCompileError;
    expect(err.message).toMatch(/kernel "broken"/);
    expect(err.message).toMatch(/line 6:\d+: .*undefinedThing/);
    expect(err.message).toContain("dst[gid.x] = src[gid.x] + undefinedThing;");
    expect(err.message).toMatch(/\^+/);
    // A failed compile is not cached: the same source fails again the same way.
    await expect(
      env.cache.get({ code, entryPoint: "main", bindings: [], label: "broken" }),
    ).rejects.toThrow();
  });

  it("turns a validation error into a thrown error at the next sync point", async () => {
    const k = await env.cache.get({
      code: copyKernel(),
      entryPoint: "main",
      bindings: [
        { name: "src", kind: "read" },
        { name: "dst", kind: "read_write" },
      ],
      label: "copy",
    });
    const good = env.memory.acquire(256, "workspace", "good");
    // A MAP_READ buffer cannot be bound as storage: the bind group is invalid.
    const bad = env.memory.acquire(256, "workspace", "mappable", "readback");
    env.stream.dispatch(k, [good, bad], null, 1);
    await expect(env.stream.finish()).rejects.toBeInstanceOf(GpuValidationError);
    // The error is reported once; the device keeps working afterwards.
    const other = env.memory.acquire(256, "workspace", "other");
    env.stream.dispatch(k, [good, other], null, 1);
    await env.stream.finish();
    env.memory.release(other);
    env.memory.release(good);
    env.memory.release(bad);
  });

  it("turns device loss into DeviceLostError instead of hanging", async () => {
    const ctx = await acquireGpu();
    const memory = createGpuMemory(ctx);
    const stream = new CommandStream(ctx, memory);
    const buf = memory.acquire(64, "workspace", "b");
    ctx.destroy();
    await expect(stream.readScalars(buf, 4)).rejects.toBeInstanceOf(DeviceLostError);
    await expect(stream.finish()).rejects.toBeInstanceOf(DeviceLostError);
  });
});
