// A command stream: records many dispatches into one compute pass and submits them in batches.
//
// A training step of a deep reversible GNN is tens of thousands of small dispatches, so the
// per-dispatch JavaScript cost is what matters here:
//  - per-dispatch parameters (sizes, offsets, scalars) are packed into one CPU-side Uint32Array
//    and uploaded with a single writeBuffer per batch into a uniform "parameter ring" that every
//    kernel binds with a dynamic offset; the bind group therefore depends only on the storage
//    buffers and is cached (buffers repeat: the memory pool hands the same buffers out again);
//  - setPipeline / setBindGroup are skipped when unchanged;
//  - one encoder, one compute pass and one submit per `batchSize` dispatches.
// Reusing the parameter ring for the next batch is safe: queue.writeBuffer is ordered on the
// queue timeline after the earlier submit that read the old contents.
//
// Ordering rule: everything recorded here executes in call order. `write()` therefore first
// submits what is pending (queue.writeBuffer would otherwise overtake unsubmitted dispatches).
// Work recorded in two different streams is ordered only by their submits (flush): use one
// stream per device, or flush one before the other's work depends on it.
//
// Errors: each submit is wrapped in validation and out-of-memory error scopes; the first error is
// thrown by the next sync point (`finish()`, `readScalars()`), as is device loss.
import { GpuValidationError, type GpuContext } from "./context.js";
import type { MemoryPool } from "./memory.js";
import { PARAMS_BINDING_BYTES, type CompiledKernel } from "./pipelines.js";
import {
  FenceTimer,
  TimestampTimer,
  type DispatchNote,
  type DispatchTimer,
  type TimedDispatch,
  type TimingMethod,
} from "./dispatch-timer.js";

export interface StreamOptions {
  /** Dispatches per submit (default 2048). */
  batchSize?: number;
  label?: string;
}

export interface StreamStats {
  dispatches: number;
  submits: number;
  bindGroupsCreated: number;
  paramBytesUploaded: number;
}

/** A bind group built once for a kernel and a fixed list of buffers (see `prepare`). */
export interface PreparedBinding {
  readonly kernel: CompiledKernel;
  readonly bindGroup: GPUBindGroup;
}

export class StreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StreamError";
  }
}

const MAX_CACHED_BIND_GROUPS = 16384;

export class CommandStream {
  readonly stats: StreamStats = {
    dispatches: 0,
    submits: 0,
    bindGroupsCreated: 0,
    paramBytesUploaded: 0,
  };
  private readonly device: GPUDevice;
  private readonly batchSize: number;
  private readonly label: string;
  private readonly maxGroups: number;
  private readonly align: number;
  private readonly ringBytes: number;
  private readonly ring: GPUBuffer;
  private readonly staging: Uint32Array;
  private stagingUsed = 0; // bytes
  private lastParamsOffset = -1;
  private lastParamsWords = 0;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private pendingCommands = 0;
  private currentPipeline: GPUComputePipeline | null = null;
  private currentBindGroup: GPUBindGroup | null = null;
  private currentOffset = -1;

  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly scopeChecks: Promise<void>[] = [];
  private readonly dynOffset = new Uint32Array(1);
  private destroyed = false;
  /** Set while dispatches are timed (the profiler, dispatch-timer.ts). */
  private timer: DispatchTimer | null = null;

  constructor(
    private readonly ctx: GpuContext,
    private readonly memory: MemoryPool<GPUBuffer>,
    options: StreamOptions = {},
  ) {
    this.device = ctx.device;
    this.batchSize = options.batchSize ?? 2048;
    this.label = options.label ?? "stream";
    this.maxGroups = ctx.limits.maxComputeWorkgroupsPerDimension;
    this.align = Math.max(16, ctx.limits.minUniformBufferOffsetAlignment);
    // Worst case: every dispatch of a batch uses a distinct parameter block.
    this.ringBytes = this.batchSize * Math.max(this.align, 64) + PARAMS_BINDING_BYTES;
    this.ring = memory.acquire(this.ringBytes, "workspace", `${this.label}/params`, "uniform");
    this.staging = new Uint32Array(this.ringBytes / 4);
  }

  /**
   * Records one dispatch. `buffers` bind the kernel's storage bindings in order; `note` says what
   * it computes, for the profiler's table while dispatches are timed.
   */
  dispatch(
    kernel: CompiledKernel,
    buffers: readonly GPUBuffer[],
    params: Uint32Array | null,
    x: number,
    y = 1,
    z = 1,
    note?: DispatchNote,
  ): void {
    this.dispatchWith(this.bindGroupFor(kernel, buffers), kernel, params, x, y, z, note);
  }

  /** How dispatches are timed now (null: they are not). */
  get timing(): TimingMethod | null {
    return this.timer?.method ?? null;
  }

  /**
   * Starts timing every dispatch recorded from now on: with GPU timestamps where the device has
   * the "timestamp-query" feature, else with fences (see dispatch-timer.ts).
   */
  startTiming(method?: TimingMethod): void {
    this.assertAlive();
    if (this.timer) throw new StreamError("dispatches are already being timed");
    const chosen = method ?? (this.ctx.features.timestampQuery ? "timestamp-query" : "fence");
    if (chosen === "timestamp-query" && !this.ctx.features.timestampQuery)
      throw new StreamError('this device has no "timestamp-query" feature');
    if (this.pendingCommands > 0) this.flush(); // what came before is not timed
    this.timer = chosen === "timestamp-query" ? new TimestampTimer(this.device) : new FenceTimer();
  }

  /** Stops timing and returns the time of every dispatch since `startTiming`, in order. */
  async stopTiming(): Promise<TimedDispatch[]> {
    const timer = this.timer;
    if (!timer) throw new StreamError("dispatches are not being timed");
    if (timer.method === "fence") {
      await this.finish();
      this.timer = null;
      return timer.collect();
    }
    this.timer = null;
    const times = await timer.collect(
      this.endPass(),
      () => {
        this.pendingCommands++;
        this.flush();
      },
      (p) => this.ctx.guard(p),
    );
    await this.checkScopes();
    return times;
  }

  /** Builds the bind group once, for dispatches that reuse the same buffers many times. */
  prepare(kernel: CompiledKernel, buffers: readonly GPUBuffer[]): PreparedBinding {
    return { kernel, bindGroup: this.bindGroupFor(kernel, buffers) };
  }

  dispatchPrepared(p: PreparedBinding, params: Uint32Array | null, x: number, y = 1, z = 1): void {
    this.dispatchWith(p.bindGroup, p.kernel, params, x, y, z);
  }

  /** Uploads `data` into `buffer` after everything recorded so far. */
  write(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.assertAlive();
    if (this.pendingCommands > 0) this.flush();
    this.device.queue.writeBuffer(
      buffer,
      byteOffset,
      data.buffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** Records a buffer-to-buffer copy (offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.assertAlive();
    const enc = this.endPass();
    enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.pendingCommands++;
  }

  /** Reads `count` f32 values starting at `byteOffset`; meant for scalars, metrics and tests. */
  async readScalars(buffer: GPUBuffer, count: number, byteOffset = 0): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(buffer, count * 4, byteOffset));
  }

  async readU32(buffer: GPUBuffer, count: number, byteOffset = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.readBytes(buffer, count * 4, byteOffset));
  }

  async readBytes(buffer: GPUBuffer, bytes: number, byteOffset = 0): Promise<ArrayBuffer> {
    this.assertAlive();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.memory.acquire(size, "workspace", `${this.label}/readback`, "readback");
    try {
      this.endPass().copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
      this.pendingCommands++;
      this.flush();
      await this.ctx.guard(staging.mapAsync(GPUMapMode.READ, 0, size));
      if (this.timer?.method === "fence") this.timer.completed(performance.now());
      const out = staging.getMappedRange(0, size).slice(0, bytes);
      staging.unmap();
      await this.checkScopes();
      return out;
    } catch (err) {
      await this.checkScopes();
      this.ctx.check();
      throw err;
    } finally {
      this.memory.release(staging);
    }
  }

  /** Submits everything recorded so far (does not wait for it). */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) this.pass.end();
    const device = this.device;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    if (this.stagingUsed > 0) {
      device.queue.writeBuffer(this.ring, 0, this.staging.buffer, 0, this.stagingUsed);
      this.stats.paramBytesUploaded += this.stagingUsed;
    }
    device.queue.submit([this.encoder.finish()]);
    const submitIndex = ++this.stats.submits;
    const validation = device.popErrorScope();
    const oom = device.popErrorScope();
    if (this.scopeChecks.length >= 256) {
      // Nobody has synchronised for a long time: fold the pending checks into one.
      this.scopeChecks.splice(
        0,
        this.scopeChecks.length,
        Promise.all(this.scopeChecks).then(() => undefined),
      );
    }
    this.scopeChecks.push(
      Promise.all([validation, oom]).then(([v, o]) => {
        const e = v ?? o;
        if (e) {
          const kind = v ? "validation" : "out-of-memory";
          this.ctx.report(
            new GpuValidationError(kind, e.message, `${this.label} submit #${submitIndex}`),
          );
        }
      }),
    );
    this.encoder = null;
    this.pass = null;
    this.pendingDispatches = 0;
    this.pendingCommands = 0;
    this.stagingUsed = 0;
    this.lastParamsOffset = -1;
    this.currentPipeline = null;
    this.currentBindGroup = null;
    this.currentOffset = -1;
  }

  /** Submits what is pending and waits until the GPU has finished all of it. */
  async finish(): Promise<void> {
    this.assertAlive();
    this.flush();
    await this.ctx.guard(this.device.queue.onSubmittedWorkDone());
    if (this.timer?.method === "fence") this.timer.completed(performance.now());
    await this.checkScopes();
    this.ctx.check();
  }

  /** Drops cached bind groups (e.g. after the memory pool destroyed buffers in trim()). */
  clearBindGroupCache(): void {
    this.bindGroups.clear();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.flush();
    this.destroyed = true;
    this.bindGroups.clear();
    this.memory.release(this.ring);
  }

  private async checkScopes(): Promise<void> {
    const checks = this.scopeChecks.splice(0);
    await this.ctx.guard(Promise.all(checks));
    this.ctx.check();
  }

  private dispatchWith(
    bindGroup: GPUBindGroup,
    kernel: CompiledKernel,
    params: Uint32Array | null,
    x: number,
    y: number,
    z: number,
    note?: DispatchNote,
  ): void {
    if (x === 0 || y === 0 || z === 0) return; // empty tensors: nothing to do
    if (x > this.maxGroups || y > this.maxGroups || z > this.maxGroups) {
      throw new StreamError(
        `kernel "${kernel.label}": dispatch (${x}, ${y}, ${z}) exceeds ` +
          `maxComputeWorkgroupsPerDimension (${this.maxGroups})`,
      );
    }
    if (this.pendingDispatches >= this.batchSize) this.flush();
    let offset = -1;
    if (kernel.uniformSlot >= 0) {
      if (!params) throw new StreamError(`kernel "${kernel.label}" needs a parameter block`);
      offset = this.pushParams(params); // may submit when the ring is full
    }
    const timer = this.timer;
    // Timestamps: a pass of its own for this dispatch, its beginning and end timed.
    const pass =
      timer?.method === "timestamp-query"
        ? this.beginPass(timer.nextPass(kernel.label, note))
        : this.beginPass();
    if (kernel.pipeline !== this.currentPipeline) {
      pass.setPipeline(kernel.pipeline);
      this.currentPipeline = kernel.pipeline;
    }
    if (kernel.immediateWords > 0) {
      if (!params) throw new StreamError(`kernel "${kernel.label}" needs a parameter block`);
      pass.setImmediates(0, this.immediatesOf(params, kernel.immediateWords));
    }
    if (offset >= 0) {
      if (bindGroup !== this.currentBindGroup || offset !== this.currentOffset) {
        this.dynOffset[0] = offset;
        pass.setBindGroup(0, bindGroup, this.dynOffset, 0, 1);
        this.currentBindGroup = bindGroup;
        this.currentOffset = offset;
      }
    } else if (bindGroup !== this.currentBindGroup) {
      pass.setBindGroup(0, bindGroup);
      this.currentBindGroup = bindGroup;
      this.currentOffset = -1;
    }
    pass.dispatchWorkgroups(x, y, z);
    this.pendingDispatches++;
    this.pendingCommands++;
    this.stats.dispatches++;
    if (timer?.method === "timestamp-query") this.endPass();
    if (timer?.method === "fence") {
      this.flush();
      timer.submitted(kernel.label, note, performance.now());
    }
  }

  /** The block as the kernel's immediates: exactly `words` words (a block may be shorter). */
  private immediatesOf(params: Uint32Array, words: number): Uint32Array {
    if (params.length === words) return params;
    if (params.length > words)
      throw new StreamError(`parameter block of ${params.length} words exceeds ${words}`);
    const padded = new Uint32Array(words);
    padded.set(params);
    return padded;
  }

  /** Appends a parameter block to the ring (or reuses the previous identical one). */
  private pushParams(params: Uint32Array): number {
    const words = params.length;
    if (words * 4 > PARAMS_BINDING_BYTES) {
      throw new StreamError(
        `parameter block of ${words * 4} bytes exceeds ${PARAMS_BINDING_BYTES}`,
      );
    }
    const staging = this.staging;
    if (this.lastParamsOffset >= 0 && this.lastParamsWords === words) {
      const base = this.lastParamsOffset >> 2;
      let same = true;
      for (let i = 0; i < words; i++) {
        if (staging[base + i] !== params[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastParamsOffset;
    }
    if (this.stagingUsed + PARAMS_BINDING_BYTES > this.ringBytes) {
      // Ring full (more distinct blocks than planned): submit and start over.
      this.flush();
    }
    const offset = this.stagingUsed;
    staging.set(params, offset >> 2);
    this.stagingUsed = offset + Math.ceil(Math.max(4, words * 4) / this.align) * this.align;
    this.lastParamsOffset = offset;
    this.lastParamsWords = words;
    return offset;
  }

  private bindGroupFor(kernel: CompiledKernel, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const slots = kernel.storageSlots;
    if (buffers.length !== slots.length) {
      throw new StreamError(
        `kernel "${kernel.label}" binds ${slots.length} buffers (` +
          slots.map((s) => kernel.bindings[s]!.name).join(", ") +
          `), got ${buffers.length}`,
      );
    }
    let key = String(kernel.layoutId);
    for (let i = 0; i < buffers.length; i++) key += "," + this.idOf(buffers[i]!);
    let group = this.bindGroups.get(key);
    if (group) return group;
    const entries: GPUBindGroupEntry[] = [];
    slots.forEach((slot, i) => entries.push({ binding: slot, resource: { buffer: buffers[i]! } }));
    if (kernel.uniformSlot >= 0) {
      entries.push({
        binding: kernel.uniformSlot,
        resource: { buffer: this.ring, offset: 0, size: PARAMS_BINDING_BYTES },
      });
    }
    this.device.pushErrorScope("validation");
    group = this.device.createBindGroup({
      label: `${kernel.label}(${slots.map((s, i) => `${kernel.bindings[s]!.name}=${this.memory.labelOf(buffers[i]!)}`).join(", ")})`,
      layout: kernel.bindGroupLayout,
      entries,
    });
    void this.device.popErrorScope().then((e) => {
      if (e)
        this.ctx.report(
          new GpuValidationError("validation", e.message, `bind group for "${kernel.label}"`),
        );
    });
    if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
    this.bindGroups.set(key, group);
    this.stats.bindGroupsCreated++;
    return group;
  }

  private idOf(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }

  /** The open compute pass, or a new one (always new when it is to write timestamps). */
  private beginPass(timestampWrites?: GPUComputePassTimestampWrites): GPUComputePassEncoder {
    if (timestampWrites) this.endPass();
    else if (this.pass) return this.pass;
    this.encoder ??= this.device.createCommandEncoder({ label: this.label });
    this.pass = this.encoder.beginComputePass({
      label: this.label,
      ...(timestampWrites ? { timestampWrites } : {}),
    });
    this.currentPipeline = null;
    this.currentBindGroup = null;
    this.currentOffset = -1;
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder({ label: this.label });
    return this.encoder;
  }

  private assertAlive(): void {
    if (this.destroyed) throw new StreamError(`${this.label} was destroyed`);
  }
}
