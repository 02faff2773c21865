// Timing of individual dispatches, for the kernel profiler (`--profile`).
//
// Two methods, chosen by what the device offers:
//  - "timestamp-query": every timed dispatch gets a compute pass of its own whose beginning and end
//    write GPU timestamps into a query set; at the end the query sets are resolved into a buffer
//    and read back. This is the GPU's own clock: submission and JavaScript overheads are excluded.
//    (Dawn quantises timestamps to 65.5 µs unless the "timestamp_quantization" toggle is off;
//    device.ts turns it off.)
//  - "fence": where timestamps are absent, each dispatch is submitted alone and the caller waits
//    for it (the executor calls `finish()` after every kernel while fences time); a dispatch's time
//    is from its submit to the moment the queue reports it done. That includes the submit and the
//    wake-up latency, so it overstates short kernels: an approximation, labelled as such.
// Timing changes how work is submitted (a pass, or a submit, per dispatch), so profiled steps are
// a little slower than unprofiled ones; the kernels themselves run unchanged.
//
// The query sets and read-back buffers are diagnostics that exist only while profiling: they are
// created on the device directly, outside the accounted memory pool, so that the model's measured
// memory stays what the memory plan predicts.

export type TimingMethod = "timestamp-query" | "fence";

/** What a dispatch computes, for the profile's table (the executor fills it in). */
export interface DispatchNote {
  /** The kernel's name in the program (e.g. "k12_matmul"). */
  kernel: string;
  kind: string;
  /** The IR ops the kernel implements. */
  implements: readonly string[];
  /**
   * The instance's shapes, for shape-generic templates (one matmul text serves every matmul of
   * its form, under the first one's name): what tells the instances apart.
   */
  shapes?: string;
  /** Floating-point operations of this dispatch (0 where the cost model counts none). */
  flops: number;
  /** Bytes of the tensors it reads and writes, each counted once. */
  bytes: number;
}

export interface TimedDispatch {
  /** The pipeline's label (the kernel name where no note says more). */
  label: string;
  note?: DispatchNote;
  seconds: number;
}

/** Queries per query set: WebGPU's maximum count. */
const QUERIES_PER_SET = 4096;

interface Slot {
  label: string;
  note?: DispatchNote;
}

export class TimestampTimer {
  readonly method = "timestamp-query" as const;
  private readonly sets: GPUQuerySet[] = [];
  private readonly slots: Slot[] = [];

  constructor(private readonly device: GPUDevice) {}

  /** The timestampWrites of the pass that will hold the next dispatch. */
  nextPass(label: string, note: DispatchNote | undefined): GPUComputePassTimestampWrites {
    const i = this.slots.length;
    const perSet = QUERIES_PER_SET / 2;
    if (i % perSet === 0)
      this.sets.push(this.device.createQuerySet({ type: "timestamp", count: QUERIES_PER_SET }));
    this.slots.push({ label, note });
    const local = i % perSet;
    return {
      querySet: this.sets[Math.floor(i / perSet)]!,
      beginningOfPassWriteIndex: 2 * local,
      endOfPassWriteIndex: 2 * local + 1,
    };
  }

  /** Resolves every query set in `encoder`, submits it (`submit`) and reads the times back. */
  async collect(
    encoder: GPUCommandEncoder,
    submit: () => void,
    guard: <T>(p: Promise<T>) => Promise<T>,
  ): Promise<TimedDispatch[]> {
    const queries = this.slots.length * 2;
    if (queries === 0) return [];
    const bytes = queries * 8;
    const resolve = this.device.createBuffer({
      label: "profile/resolve",
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const read = this.device.createBuffer({
      label: "profile/readback",
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      this.sets.forEach((set, s) => {
        const count = Math.min(QUERIES_PER_SET, queries - s * QUERIES_PER_SET);
        // Each set's block starts at a multiple of 4096 × 8 bytes: resolve offsets must be 256-aligned.
        encoder.resolveQuerySet(set, 0, count, resolve, s * QUERIES_PER_SET * 8);
      });
      encoder.copyBufferToBuffer(resolve, 0, read, 0, bytes);
      submit();
      await guard(read.mapAsync(GPUMapMode.READ));
      const ticks = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      return this.slots.map((slot, i) => ({
        ...slot,
        seconds: passSeconds(ticks[2 * i]!, ticks[2 * i + 1]!),
      }));
    } finally {
      resolve.destroy();
      read.destroy();
      this.sets.forEach((s) => s.destroy());
    }
  }
}

/** A pass's duration from its two timestamps (ns); NaN when the driver wrote none (zeros). */
export function passSeconds(begin: bigint, end: bigint): number {
  if (begin === 0n && end === 0n) return NaN;
  return end >= begin ? Number(end - begin) / 1e9 : 0;
}

export class FenceTimer {
  readonly method = "fence" as const;
  private readonly done: TimedDispatch[] = [];
  /** Dispatches submitted and not yet seen complete, with the time of the first submit. */
  private open: Slot[] = [];
  private openedAt = 0;

  /** A dispatch was just submitted. */
  submitted(label: string, note: DispatchNote | undefined, now: number): void {
    if (this.open.length === 0) this.openedAt = now;
    this.open.push({ label, note });
  }

  /**
   * The queue reported everything submitted so far done at `now` (ms). The dispatches seen since
   * the last report share the time since the first of them was submitted (one, when the caller
   * finishes after every kernel).
   */
  completed(now: number): void {
    if (this.open.length === 0) return;
    const seconds = Math.max(0, now - this.openedAt) / 1000 / this.open.length;
    for (const slot of this.open) this.done.push({ ...slot, seconds });
    this.open = [];
  }

  collect(): TimedDispatch[] {
    return this.done.splice(0);
  }
}

export type DispatchTimer = TimestampTimer | FenceTimer;
