// Shared set-up for the runtime tests: one GPU context per test file, deterministic random data
// (never zeros), float64 references, NaN-poisoned outputs and a strict comparison.
import { afterAll, beforeAll } from "vitest";
import { acquireGpu, type GpuContext } from "../../runtime/gpu/device.js";
import { createGpuMemory, type MemoryPool } from "../../runtime/gpu/memory.js";
import { PipelineCache } from "../../runtime/gpu/pipelines.js";
import { CommandStream } from "../../runtime/gpu/stream.js";
import { rng } from "../../compiler/gradcheck/random.js";

export interface Env {
  ctx: GpuContext;
  memory: MemoryPool<GPUBuffer>;
  cache: PipelineCache;
  stream: CommandStream;
}

export async function createEnv(): Promise<Env> {
  const ctx = await acquireGpu();
  const memory = createGpuMemory(ctx);
  return { ctx, memory, cache: new PipelineCache(ctx), stream: new CommandStream(ctx, memory) };
}

/**
 * A GPU context for the test file (or describe block) this is called in: created before its
 * first test, destroyed after its last. The object is filled in place, so it can be held from
 * the start.
 */
export function useEnv(): Env {
  const env = {} as Env;
  beforeAll(async () => {
    Object.assign(env, await createEnv());
  });
  afterAll(() => destroyEnv(env.ctx ? env : undefined));
  return env;
}

export function destroyEnv(env: Env | undefined): void {
  if (!env) return;
  env.stream.destroy();
  env.memory.destroyAll();
  env.ctx.destroy();
}

/** Values in [-1, -0.05] ∪ [0.05, 1]: random, reproducible, never zero. */
export function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const rnd = rng((seed * 2654435761) >>> 0);
  for (let i = 0; i < n; i++) {
    const u = rnd();
    const mag = 0.05 + 0.95 * ((u * 2) % 1);
    out[i] = u < 0.5 ? -mag : mag;
  }
  return out;
}

/** A storage buffer holding `data` (at least 4 bytes). */
export function upload(env: Env, data: Float32Array | Uint32Array, label = "t"): GPUBuffer {
  const buf = env.memory.acquire(Math.max(4, data.byteLength), "activations", label);
  if (data.byteLength > 0) env.stream.write(buf, data);
  return buf;
}

/** A buffer of `n` floats filled with NaN, so that any element a kernel fails to write shows. */
export function poisoned(env: Env, n: number, label = "out"): GPUBuffer {
  return upload(env, new Float32Array(Math.max(1, n)).fill(Number.NaN), label);
}

export async function download(env: Env, buf: GPUBuffer, n: number): Promise<Float32Array> {
  return env.stream.readScalars(buf, n);
}

/**
 * Asserts |got - want| <= tol · max(1, |want|) elementwise (relative for large values) and that
 * nothing is NaN. Returns the largest relative error.
 */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol = 1e-4,
  what = "result",
): number {
  if (got.length < want.length)
    throw new Error(`${what}: got ${got.length} values, want ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const err = Math.abs(g - w) / Math.max(1, Math.abs(w));
    if (!(err <= tol)) {
      throw new Error(`${what}[${i}]: got ${g}, want ${w} (relative error ${err})`);
    }
    worst = Math.max(worst, err);
  }
  return worst;
}
