// Exact GPU memory accounting and a buffer pool.
//
// Every buffer the project creates goes through a MemoryPool, which charges its exact byte size to
// one category. The pool is generic over the buffer handle and talks to the device only through
// an Allocator, so a dry-run allocator (no GPU at all) replaying the same acquire/release sequence
// yields exactly the numbers a real run would: that is how static memory plans are produced and
// checked.
//
// Free lists are keyed by exact size (and buffer kind). Tensor sizes in a deep GNN repeat layer
// after layer, so exact-size reuse hits almost always, and not rounding sizes up keeps the
// reported numbers equal to what the tensors need. Reusing a released buffer inside one command
// stream is safe because WebGPU executes a queue's dispatches in order.

export const MEMORY_CATEGORIES = [
  "parameters",
  "optimizer",
  "gradients",
  "activations",
  "workspace",
  "graph",
] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];

/** storage: STORAGE|COPY_SRC|COPY_DST; uniform: UNIFORM|COPY_DST; readback: MAP_READ|COPY_DST. */
export type BufferKind = "storage" | "uniform" | "readback";

export interface Allocator<H> {
  create(bytes: number, label: string, kind: BufferKind): H;
  destroy(handle: H): void;
  /** Optional: rename a reused buffer so that error messages name the current tensor. */
  relabel?(handle: H, label: string): void;
}

export type CategoryBytes = Record<MemoryCategory, number>;

export interface MemorySnapshot {
  /** Bytes currently acquired (in use), per category. */
  live: CategoryBytes;
  /** Highest `live` value each category has reached since the last resetPeak(). */
  peak: CategoryBytes;
  liveTotal: number;
  /** Highest value of the sum over categories (the peak of the sum, not the sum of peaks). */
  peakTotal: number;
  /** Bytes held in free lists: allocated on the device but not in use. */
  pooled: number;
  /** Highest value of everything allocated on the device (in use + pooled). */
  peakAllocated: number;
  /** Buffers created on the device so far, and acquisitions served from a free list. */
  created: number;
  reused: number;
}

export interface PoolLimits {
  /** Largest buffer the device accepts (maxBufferSize). */
  maxBufferBytes?: number;
  /** Largest storage buffer binding (maxStorageBufferBindingSize): storage buffers are bound whole. */
  maxBindingBytes?: number;
}

interface Entry {
  bytes: number;
  kind: BufferKind;
  category: MemoryCategory;
  label: string;
  inUse: boolean;
  /** Creation order: what canonicalize() sorts the free lists by. */
  serial: number;
}

export class MemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryError";
  }
}

/** The WebGPU limit a buffer ran into. */
export type BufferLimit = "maxBufferSize" | "maxStorageBufferBindingSize";

/**
 * A tensor larger than one buffer may be on this device: the user's sizes (graph, width, depth)
 * are too big for it, not a bug. Carries what the message needs to say which option helps.
 */
export class BufferLimitError extends MemoryError {
  constructor(
    readonly label: string,
    readonly bytes: number,
    readonly limit: BufferLimit,
    readonly limitBytes: number,
    readonly category: MemoryCategory | undefined,
    /** Why it is that big and what to do (e.g. "use --partitions"); appended to the message. */
    readonly advice?: string,
    /** The tensor's shape, when known ("[L, D, D] = [1000000000, 64, 64]"). */
    readonly shape?: string,
  ) {
    super(
      `tensor "${label}"${shape ? ` (${shape})` : ""} needs ${formatBytes(bytes)}, more than this ` +
        `device's ${limit} (${formatBytes(limitBytes)})` +
        (advice ? `; ${advice}` : ""),
    );
    this.name = "BufferLimitError";
  }
}

/** The device refused an allocation within its limits: it has run out of memory. */
export class DeviceAllocationError extends MemoryError {
  constructor(
    readonly label: string,
    readonly bytes: number,
    detail: string,
  ) {
    super(
      `the GPU could not allocate "${label}" (${formatBytes(bytes)}): ${detail.trim() || "out of memory"}. ` +
        "The run needs more GPU memory than the device has free: `revgnn plan` predicts the peak by " +
        "category; --partitions P (about N/P nodes per step), --checkpoint-every or a smaller " +
        "--set D lowers it",
    );
    this.name = "DeviceAllocationError";
  }
}

/** 51.20 GB (51200000000 bytes): both, so that the number can be compared with a limit. */
export function formatBytes(b: number): string {
  const units: [number, string][] = [
    [2 ** 40, "TiB"],
    [2 ** 30, "GiB"],
    [2 ** 20, "MiB"],
    [2 ** 10, "KiB"],
  ];
  for (const [size, unit] of units)
    if (b >= size) return `${(b / size).toFixed(2)} ${unit} (${b} bytes)`;
  return `${b} bytes`;
}

const zeroBytes = (): CategoryBytes => ({
  parameters: 0,
  optimizer: 0,
  gradients: 0,
  activations: 0,
  workspace: 0,
  graph: 0,
});

export class MemoryPool<H> {
  private readonly entries = new Map<H, Entry>();
  private readonly free = new Map<string, H[]>();
  private live = zeroBytes();
  private peak = zeroBytes();
  private liveTotal = 0;
  private peakTotal = 0;
  private pooled = 0;
  private peakAllocated = 0;
  private created = 0;
  private reused = 0;

  constructor(
    readonly allocator: Allocator<H>,
    readonly limits: PoolLimits = {},
  ) {}

  /** A buffer of exactly `bytes` bytes (a multiple of 4, at least 4) charged to `category`. */
  acquire(bytes: number, category: MemoryCategory, label: string, kind: BufferKind = "storage"): H {
    this.validate(bytes, label, kind, category);
    const key = freeKey(kind, bytes);
    const list = this.free.get(key);
    let handle: H;
    if (list && list.length > 0) {
      // LIFO: the most recently released buffer is the likeliest to still sit in caches.
      handle = list.pop()!;
      const e = this.entries.get(handle)!;
      e.inUse = true;
      e.category = category;
      e.label = label;
      this.pooled -= bytes;
      this.reused++;
      this.allocator.relabel?.(handle, label);
    } else {
      handle = this.allocator.create(bytes, label, kind);
      this.entries.set(handle, { bytes, kind, category, label, inUse: true, serial: this.created });
      this.created++;
    }
    this.charge(category, bytes);
    return handle;
  }

  /** Returns a buffer to its free list; it is destroyed only by trim() or destroyAll(). */
  release(handle: H): void {
    const e = this.entries.get(handle);
    if (!e) throw new MemoryError("release() of a buffer this pool does not own");
    if (!e.inUse) throw new MemoryError(`buffer "${e.label}" released twice`);
    e.inUse = false;
    this.charge(e.category, -e.bytes);
    this.pooled += e.bytes;
    const key = freeKey(e.kind, e.bytes);
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(handle);
  }

  /**
   * Puts every free list in one order (creation order, the oldest handed out first). A program
   * run acquires and releases in a fixed sequence, so from the same free lists it receives the
   * same buffers for the same tensors every time; without this the lists' order drifts from run
   * to run (LIFO after a different release order) and the stream's bind groups, keyed by buffer,
   * miss: 155 of 326 dispatches a step created a new bind group on Cora's RevGCN at L = 10.
   */
  canonicalize(): void {
    for (const list of this.free.values()) {
      if (list.length < 2) continue;
      list.sort((a, b) => this.entries.get(b)!.serial - this.entries.get(a)!.serial);
    }
  }

  /** Destroys every free buffer; in-use buffers stay. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const h of list) {
        this.entries.delete(h);
        this.allocator.destroy(h);
      }
    }
    this.free.clear();
    this.pooled = 0;
  }

  /** Destroys everything, in use or not (end of a run). */
  destroyAll(): void {
    for (const h of this.entries.keys()) this.allocator.destroy(h);
    this.entries.clear();
    this.free.clear();
    this.live = zeroBytes();
    this.liveTotal = 0;
    this.pooled = 0;
  }

  sizeOf(handle: H): number {
    const e = this.entries.get(handle);
    if (!e) throw new MemoryError("sizeOf() of a buffer this pool does not own");
    return e.bytes;
  }

  labelOf(handle: H): string {
    return this.entries.get(handle)?.label ?? "<unknown buffer>";
  }

  snapshot(): MemorySnapshot {
    return {
      live: { ...this.live },
      peak: { ...this.peak },
      liveTotal: this.liveTotal,
      peakTotal: this.peakTotal,
      pooled: this.pooled,
      peakAllocated: this.peakAllocated,
      created: this.created,
      reused: this.reused,
    };
  }

  /** Starts a new peak window at the current live values (e.g. to measure one training step). */
  resetPeak(): void {
    this.peak = { ...this.live };
    this.peakTotal = this.liveTotal;
    this.peakAllocated = this.liveTotal + this.pooled;
  }

  private charge(category: MemoryCategory, delta: number): void {
    const v = (this.live[category] += delta);
    this.liveTotal += delta;
    if (v > this.peak[category]) this.peak[category] = v;
    if (this.liveTotal > this.peakTotal) this.peakTotal = this.liveTotal;
    const allocated = this.liveTotal + this.pooled;
    if (allocated > this.peakAllocated) this.peakAllocated = allocated;
  }

  private validate(
    bytes: number,
    label: string,
    kind: BufferKind,
    category?: MemoryCategory,
  ): void {
    // Sizes past what a buffer may hold first: a huge request (N = 1e9) also fails the next test.
    const over = limitExceeded(bytes, kind, this.limits);
    if (over) {
      throw new BufferLimitError(
        label,
        bytes,
        over.limit,
        over.limitBytes,
        category,
        adviceFor(category),
      );
    }
    if (!Number.isInteger(bytes) || bytes < 4 || bytes % 4 !== 0) {
      throw new MemoryError(
        `buffer "${label}": size ${bytes} bytes is not a positive multiple of 4`,
      );
    }
  }
}

/**
 * The limit a buffer of `bytes` would exceed: the smaller one first (a storage buffer is bound
 * whole, so the binding limit applies to it), or undefined when it fits.
 */
export function limitExceeded(
  bytes: number,
  kind: BufferKind,
  limits: PoolLimits,
): { limit: BufferLimit; limitBytes: number } | undefined {
  // Checked on every acquire (pooled buffers included): two comparisons, no allocation.
  const buffer = limits.maxBufferBytes;
  const binding = kind === "storage" ? limits.maxBindingBytes : undefined;
  const overBuffer = buffer !== undefined && bytes > buffer;
  const overBinding = binding !== undefined && bytes > binding;
  if (overBuffer && !(overBinding && binding! < buffer!)) {
    return { limit: "maxBufferSize", limitBytes: buffer! };
  }
  if (overBinding) return { limit: "maxStorageBufferBindingSize", limitBytes: binding! };
  return undefined;
}

/** What lowers a tensor of this category (the data of the graph is bound whole, always). */
export function adviceFor(category: MemoryCategory | undefined): string | undefined {
  switch (category) {
    case "graph":
      return (
        "the graph's data is bound whole (evaluation always runs on the full graph, so " +
        "--partitions does not help here): use a device with a larger limit, or a smaller graph (fewer nodes, edges or features)"
      );
    case "activations":
    case "workspace":
      return (
        "a training step or the evaluation holds it: `revgnn plan` with these sizes says which, " +
        "and whether --partitions P (about N/P nodes per step) helps; a smaller width (--set D=…) " +
        "lowers it too"
      );
    case "parameters":
    case "optimizer":
    case "gradients":
      return "a parameter is one buffer: make the model smaller (--set D=…, or fewer blocks --set L=…)";
    default:
      return undefined;
  }
}

function freeKey(kind: BufferKind, bytes: number): string {
  return kind + bytes;
}

/** Allocates real GPU buffers. `onError` receives out-of-memory errors found asynchronously. */
export function gpuAllocator(
  device: GPUDevice,
  onError?: (err: Error) => void,
): Allocator<GPUBuffer> {
  const usageOf: Record<BufferKind, number> = {
    storage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    uniform: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    readback: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  };
  return {
    create(bytes, label, kind) {
      device.pushErrorScope("out-of-memory");
      const buffer = device.createBuffer({ size: bytes, usage: usageOf[kind], label });
      void device.popErrorScope().then((err) => {
        if (err) onError?.(new DeviceAllocationError(label, bytes, err.message));
      });
      return buffer;
    },
    destroy(buffer) {
      buffer.destroy();
    },
    relabel(buffer, label) {
      buffer.label = label;
    },
  };
}

/** A handle of the dry-run allocator: what a GPU buffer would have been. */
export interface DryBuffer {
  readonly id: number;
  readonly bytes: number;
  readonly kind: BufferKind;
  label: string;
  destroyed: boolean;
}

/** Allocates nothing; lets a MemoryPool replay an allocation sequence without a device. */
export class DryRunAllocator implements Allocator<DryBuffer> {
  private nextId = 1;
  created = 0;
  destroyed = 0;

  create(bytes: number, label: string, kind: BufferKind): DryBuffer {
    this.created++;
    return { id: this.nextId++, bytes, kind, label, destroyed: false };
  }

  destroy(handle: DryBuffer): void {
    handle.destroyed = true;
    this.destroyed++;
  }

  relabel(handle: DryBuffer, label: string): void {
    handle.label = label;
  }
}

/** A pool backed by the real device, with the device's size limits applied. */
export function createGpuMemory(ctx: {
  device: GPUDevice;
  limits: GPUSupportedLimits;
  report(err: Error): void;
}): MemoryPool<GPUBuffer> {
  return new MemoryPool(
    gpuAllocator(ctx.device, (e) => ctx.report(e)),
    poolLimitsOf(ctx.limits),
  );
}

export function poolLimitsOf(limits: GPUSupportedLimits): PoolLimits {
  return {
    maxBufferBytes: limits.maxBufferSize,
    maxBindingBytes: limits.maxStorageBufferBindingSize,
  };
}
