// The pipeline cache's warm-up (pipelines.ts): a kernel is handed out only after an empty dispatch
// has made the driver compile it, optionally with a helper device compiling part of a burst. It
// must change nothing a kernel computes, keep WGSL compile errors reported with their messages,
// and count every kernel of a burst for the progress line.
import { describe, expect, it } from "vitest";
import { PipelineCache, ShaderCompileError } from "../../runtime/gpu/pipelines.js";
import { download, poisoned, randomArray, upload, useEnv } from "./helpers.js";
import type { KernelSource, KernelSpec } from "../../compiler/contract.js";
import { GpuBackend } from "../../runtime/exec/backend.js";

const env = useEnv();

// Variant `v` of a kernel with a parameter block: dst = src * (v + 1) + p.shift. Distinct WGSL
// text per variant, so each is its own pipeline.
const variant = (v: number): KernelSource => ({
  code: `
struct Params { n: u32, shift: f32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < p.n) { dst[gid.x] = src[gid.x] * ${v + 1}.0 + p.shift; }
}`,
  entryPoint: "main",
  bindings: [
    { name: "src", kind: "read" },
    { name: "dst", kind: "read_write" },
    { name: "p", kind: "uniform" },
  ],
  label: `variant_${v}`,
});

/** Runs variants 0..count-1 of the kernel through `cache`; returns every output. */
async function runAll(cache: PipelineCache, count: number): Promise<Float32Array[]> {
  const n = 300;
  const src = upload(env, randomArray(n, 7));
  const kernels = await Promise.all(Array.from({ length: count }, (_, v) => cache.get(variant(v))));
  const params = new Uint32Array(2);
  params[0] = n;
  new Float32Array(params.buffer)[1] = 0.25;
  const outs = kernels.map((k) => {
    const dst = poisoned(env, n);
    env.stream.dispatch(k, [src, dst], params, Math.ceil(n / 64));
    return dst;
  });
  return Promise.all(outs.map((b) => download(env, b, n)));
}

describe("pipeline warm-up", () => {
  it("computes the same with and without warm-up, and with a helper device", async () => {
    const count = 20; // above the burst size that brings in a helper device
    const plain = await runAll(new PipelineCache(env.ctx, { warm: false }), count);
    const warmed = await runAll(new PipelineCache(env.ctx, { helper: false }), count);
    const helped = await runAll(new PipelineCache(env.ctx, { helper: true }), count);
    for (let v = 0; v < count; v++) {
      expect(plain[v]!.some(Number.isNaN)).toBe(false);
      expect(warmed[v]).toEqual(plain[v]);
      expect(helped[v]).toEqual(plain[v]);
    }
    env.ctx.check();
  });

  it("counts every kernel of a burst, failures included, for the progress line", async () => {
    const seen: [number, number][] = [];
    env.ctx.onCompileProgress = (done, total) => seen.push([done, total]);
    try {
      const cache = new PipelineCache(env.ctx);
      const broken = {
        ...variant(99),
        code: variant(99).code.replace("p.shift;", "p.shiftt;"),
        label: "broken",
      };
      const results = await Promise.allSettled([
        cache.get(variant(0)),
        cache.get(broken),
        cache.get(variant(1)),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const err = (results[1] as PromiseRejectedResult).reason as ShaderCompileError;
      expect(err).toBeInstanceOf(ShaderCompileError);
      expect(err.messages.some((m) => m.type === "error" && /shiftt/.test(m.message))).toBe(true);
      expect(err.message).toMatch(/kernel "broken"/);
      expect(seen.map(([d]) => d)).toEqual([1, 2, 3]);
      expect(seen.every(([, t]) => t === 3)).toBe(true);
    } finally {
      env.ctx.onCompileProgress = undefined;
    }
  });

  it("backends of one device share one pipeline cache (a run's and its drift sampler's)", async () => {
    const run = new GpuBackend(env.ctx);
    const drift = new GpuBackend(env.ctx);
    expect(drift.pipelines).toBe(run.pipelines);
    const spec = { ...variant(7), name: "variant_7" } as unknown as KernelSpec;
    const before = run.pipelines.size;
    const kernel = await run.compile(spec);
    expect(await drift.compile(spec)).toBe(kernel);
    expect(run.pipelines.size).toBe(before + 1);
  });
});
