// What the executor needs from a device: buffers from an accounted pool, compiled kernels,
// dispatches, copies, uploads and small readbacks. The GPU backend is Dawn through the command
// stream; the dry-run backend does no work at all, so replaying a schedule on it yields the static
// memory plan — the same allocation sequence, hence the same numbers, as a real run.
import type { GpuContext } from "../gpu/device.js";
import { DryRunAllocator, MemoryPool, createGpuMemory, type DryBuffer } from "../gpu/memory.js";
import { PipelineCache, type CompiledKernel } from "../gpu/pipelines.js";
import { CommandStream } from "../gpu/stream.js";
import { immediateBytesFor, type Tuning } from "../../compiler/target.js";
import type { KernelSpec } from "../../compiler/contract.js";
import type { DispatchNote, TimedDispatch, TimingMethod } from "../gpu/dispatch-timer.js";

/** Per-dispatch timing, for the kernel profiler (runtime/gpu/dispatch-timer.ts). */
export interface DispatchTiming {
  /** How dispatches are timed now; null when they are not. */
  readonly method: TimingMethod | null;
  /** Times every dispatch from now on (by default with timestamps where the device has them). */
  start(method?: TimingMethod): void;
  /** Stops, and returns every dispatch's time since `start`, in dispatch order. */
  stop(): Promise<TimedDispatch[]>;
}

export interface Backend<H, K> {
  readonly memory: MemoryPool<H>;
  /** Largest buffer a kernel can bind (maxStorageBufferBindingSize). */
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  compile(spec: KernelSpec): Promise<K>;
  /** `note` (what the dispatch computes) is passed only while dispatches are timed. */
  dispatch(
    kernel: K,
    buffers: H[],
    params: Uint32Array,
    x: number,
    y: number,
    z?: number,
    note?: DispatchNote,
  ): void;
  copy(src: H, srcByteOffset: number, dst: H, dstByteOffset: number, bytes: number): void;
  write(dst: H, data: ArrayBufferView, byteOffset?: number): void;
  read(src: H, count: number, byteOffset?: number): Promise<Float32Array>;
  finish(): Promise<void>;
  readonly stats: { dispatches: number };
  /** Kernel tuning of the adapter (undefined: portable generated kernels only). */
  readonly tuning?: Tuning;
  /** Storage buffers one kernel may bind. */
  readonly maxStorageBuffers: number;
  /** Bytes of immediate data a dispatch may carry for its parameter block (0: none). */
  readonly immediateBytes?: number;
  /**
   * True where nothing is computed (the memory plan): data-dependent control flow then takes the
   * path of largest memory, e.g. a fixpoint iterates until its Anderson history is full.
   */
  readonly plansOnly?: boolean;
  /** Absent where nothing runs (the memory plan). */
  readonly timing?: DispatchTiming;
}

/**
 * One pipeline cache per device context: the backends of one context (a run's and the separate
 * one its drift sampling measures on) share their compiled kernels, which the cache keys by
 * their code. A separate cache made the first drift sample compile and warm again the kernels
 * it shares with the training step: 0.2 s of a warm start.
 */
const pipelineCaches = new WeakMap<GpuContext, PipelineCache>();

function pipelineCacheOf(ctx: GpuContext): PipelineCache {
  let cache = pipelineCaches.get(ctx);
  if (!cache) {
    cache = new PipelineCache(ctx);
    pipelineCaches.set(ctx, cache);
  }
  return cache;
}

export class GpuBackend implements Backend<GPUBuffer, CompiledKernel> {
  readonly memory: MemoryPool<GPUBuffer>;
  readonly pipelines: PipelineCache;
  readonly stream: CommandStream;
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  readonly timing: DispatchTiming;

  constructor(readonly ctx: GpuContext) {
    this.memory = createGpuMemory(ctx);
    this.pipelines = pipelineCacheOf(ctx);
    const stream = new CommandStream(ctx, this.memory, { label: "revgnn" });
    this.stream = stream;
    this.timing = {
      get method() {
        return stream.timing;
      },
      start: (method) => stream.startTiming(method),
      stop: () => stream.stopTiming(),
    };
    this.maxBindingBytes = ctx.limits.maxStorageBufferBindingSize;
    this.maxWorkgroupsPerDimension = ctx.limits.maxComputeWorkgroupsPerDimension;
  }

  get stats() {
    return this.stream.stats;
  }

  compile(spec: KernelSpec): Promise<CompiledKernel> {
    return this.pipelines.get({
      code: spec.code,
      entryPoint: spec.entryPoint,
      bindings: spec.bindings,
      label: spec.name,
    });
  }

  dispatch(
    kernel: CompiledKernel,
    buffers: GPUBuffer[],
    params: Uint32Array,
    x: number,
    y: number,
    z = 1,
    note?: DispatchNote,
  ): void {
    this.stream.dispatch(kernel, buffers, params, x, y, z, note);
  }

  get tuning(): Tuning {
    return this.ctx.tuning;
  }

  get maxStorageBuffers(): number {
    return this.ctx.limits.maxStorageBuffersPerShaderStage;
  }

  get immediateBytes(): number {
    return immediateBytesFor(this.ctx.tuning, this.ctx.limits);
  }

  copy(src: GPUBuffer, so: number, dst: GPUBuffer, dO: number, bytes: number): void {
    this.stream.copy(src, so, dst, dO, bytes);
  }

  write(dst: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.stream.write(dst, data, byteOffset);
  }

  read(src: GPUBuffer, count: number, byteOffset = 0): Promise<Float32Array> {
    return this.stream.readScalars(src, count, byteOffset);
  }

  finish(): Promise<void> {
    return this.stream.finish();
  }
}

/** Counts bytes and dispatches; computes nothing. */
export class DryRunBackend implements Backend<DryBuffer, KernelSpec> {
  readonly memory: MemoryPool<DryBuffer>;
  readonly stats = { dispatches: 0 };
  readonly plansOnly = true;

  constructor(
    readonly maxBindingBytes = 128 * 1024 * 1024,
    readonly maxWorkgroupsPerDimension = 65535,
    maxBufferBytes = 4 * 1024 * 1024 * 1024,
    /** The command stream's parameter ring, which a real run allocates up front. */
    paramRingBytes = 2048 * 256 + 256,
    /** Plan for this adapter's kernels (workspace sizes depend on them). */
    readonly tuning?: Tuning,
    readonly maxStorageBuffers = 8,
    /** The planned device's immediates for parameter blocks (the kernels' text depends on it). */
    readonly immediateBytes = 0,
  ) {
    this.memory = new MemoryPool(new DryRunAllocator(), { maxBindingBytes, maxBufferBytes });
    this.memory.acquire(paramRingBytes, "workspace", "stream/params", "uniform");
  }

  compile(spec: KernelSpec): Promise<KernelSpec> {
    return Promise.resolve(spec);
  }
  dispatch(): void {
    this.stats.dispatches++;
  }
  copy(): void {}
  write(): void {}
  read(_src: DryBuffer, count: number): Promise<Float32Array> {
    // Like the command stream: a staging buffer for the duration of the read.
    const staging = this.memory.acquire(
      Math.max(4, count * 4),
      "workspace",
      "readback",
      "readback",
    );
    this.memory.release(staging);
    return Promise.resolve(new Float32Array(count));
  }
  finish(): Promise<void> {
    return Promise.resolve();
  }
}

export type { DryBuffer };
