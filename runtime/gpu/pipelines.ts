// Compute pipelines: compiled once per (WGSL text, entry point, binding kinds) and cached, with
// explicit bind group layouts built from a binding description. Explicit layouts (rather than
// layout: "auto") let kernels with the same binding shape share layouts and therefore bind groups,
// and keep a binding that the shader happens not to use from becoming a validation error.
//
// Binding convention (group 0, binding i = bindings[i]): storage buffers are "read" or
// "read_write"; at most one "uniform" binding holds the per-dispatch parameters and is bound with
// a dynamic offset into the command stream's parameter ring (see stream.ts), so its WGSL struct
// must fit in PARAMS_BINDING_BYTES. A parameter block the compiler placed in immediates (binding
// kind "immediate", compiler/codegen/params-placement.ts) has no binding: the pipeline layout
// declares its size and the stream sets it with setImmediates.
//
// Warm-up: creating a pipeline is cheap on lavapipe; LLVM compiles a kernel at its first dispatch,
// on the queue's one thread. Left to the first training step, a cold start (empty Mesa shader
// cache) compiled ~100 kernels one after another with nothing on screen. So a kernel is ready
// only once an empty dispatch of it has run (an indirect dispatch of 0 workgroups: it makes the
// driver compile and executes nothing); the cache counts these for a progress line, and on a CPU
// adapter a second device compiles half of a burst in parallel, its results reaching this device
// through Mesa's disk cache. On a real GPU the pipeline is compiled at creation and the empty
// dispatch costs microseconds.
import { envVar, hardwareThreads, sleepWhileBusy } from "../platform.js";
import { GpuValidationError, type GpuContext } from "./context.js";
import { isStorageBinding, type BindingSpec, type KernelSource } from "../../compiler/contract.js";

/** The byte range bound for a uniform parameter block: 64 words of u32/i32/f32. */
export const PARAMS_BINDING_BYTES = 256;

export interface CompiledKernel {
  readonly id: number;
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  /** Identifies the bind group layout: kernels with equal layoutId can share bind groups. */
  readonly layoutId: number;
  readonly bindings: readonly BindingSpec[];
  /** Binding index of the uniform parameter block, or -1. */
  readonly uniformSlot: number;
  /** Words of the parameter block passed as immediates (0: none, or a uniform binding). */
  readonly immediateWords: number;
  /** Binding indices of the storage buffers, in the order dispatch() takes buffers. */
  readonly storageSlots: readonly number[];
}

export interface CompileMessage {
  type: "error" | "warning" | "info";
  line: number;
  column: number;
  message: string;
}

export class ShaderCompileError extends Error {
  constructor(
    readonly label: string,
    readonly messages: CompileMessage[],
    formatted: string,
  ) {
    super(formatted);
    this.name = "ShaderCompileError";
  }
}

/** Progress of a burst of kernel compiles: `done` of `total` ready. */
export type CompileProgress = (done: number, total: number) => void;

/**
 * A burst has stalled when none of its kernels was created, dispatched for warm-up or became
 * ready for this long: the driver is compiling. Only then does the warm-up sleep between turns of
 * the event loop and bring in the helper device. From a warm Mesa cache kernels move every few
 * milliseconds and neither pays: the 5 ms sleeps (each kernel takes several turns) made the
 * default Cora model's 110 kernels take 0.9 s instead of 0.5 s, and the helper compiled again
 * what the cache held. A cold compile takes 50 ms to seconds per kernel.
 */
const STALL_MS = 20;

/** A burst smaller than this is compiled on this device alone (a helper costs a device). */
const HELPER_MIN_KERNELS = 16;

interface WarmJob {
  kernel: CompiledKernel;
  src: KernelSource;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface LayoutEntry {
  id: number;
  layout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<CompiledKernel>>();
  private readonly layouts = new Map<string, LayoutEntry>();
  private nextKernelId = 1;
  /** Kernels waiting for their warm-up dispatch, in request order. */
  private readonly queue: WarmJob[] = [];
  private mainActive = false;
  private helperActive = false;
  /** Compiles requested and not yet ready or failed; 0 ends a burst. */
  private pending = 0;
  private burst = { done: 0, total: 0 };
  private scratchSet: Scratch | undefined;
  /** The compile helper device's scratch buffers (the helper lives as long as the context). */
  private helperScratch: Scratch | undefined;
  private throttling = false;
  /** When the burst last moved (began, or a kernel was created, dispatched or ready): STALL_MS. */
  private lastProgress = 0;

  constructor(
    private readonly ctx: GpuContext,
    private readonly options: {
      /** Run the warm-up dispatch (default true); false: the driver compiles at first use. */
      warm?: boolean;
      /**
       * Compile part of a burst on a second device (default: on a CPU adapter with 2+ cores;
       * REVGNN_PARALLEL_COMPILE=0 turns it off, =1 forces it, for measurements).
       */
      helper?: boolean;
    } = {},
  ) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** The compiled kernel for `src`, compiling it on first use. */
  get(src: KernelSource): Promise<CompiledKernel> {
    const kinds = src.bindings.map((b) => b.kind).join(",");
    const key = `${src.entryPoint}\u0000${kinds}\u0000${src.code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      // All of a program's kernels are requested together (Executor.prepare): one burst, one
      // progress count.
      if (this.pending === 0) {
        this.burst = { done: 0, total: 0 };
        this.lastProgress = performance.now();
      }
      this.pending++;
      this.burst.total++;
      if (this.options.warm !== false) this.throttle();
      p = this.compile(src).then((k) => this.warm(k, src));
      p.then(
        () => this.settled(),
        () => {
          // A failed compile is not cached: the caller sees the error, a retry compiles again.
          this.pipelines.delete(key);
          this.settled();
        },
      );
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * dawn.node polls for completions with setImmediate while any GPU promise is outstanding, which
   * keeps the JS thread at 100 % of a core: on a CPU adapter, a core taken from LLVM for the
   * whole warm-up. While a burst is pending and stalled (STALL_MS) this sleeps the thread 5 ms
   * per turn of the event loop (Atomics.wait: a real sleep, not a spin), so Dawn polls ~200
   * times a second instead.
   */
  private throttle(): void {
    if (this.throttling || this.ctx.adapterInfo.class !== "cpu") return;
    this.throttling = true;
    sleepWhileBusy(
      () => this.pending > 0,
      () => (this.throttling = false),
      () => this.stalled(),
    );
  }

  /** Whether the burst has stalled (STALL_MS); starts the helper device when it is wanted. */
  private stalled(): boolean {
    if (performance.now() - this.lastProgress <= STALL_MS) return false;
    if (this.queue.length > 0 && this.wantHelper() === "on stall") this.startHelper();
    return true;
  }

  private settled(): void {
    this.pending--;
    this.burst.done++;
    this.lastProgress = performance.now();
    this.ctx.onCompileProgress?.(this.burst.done, this.burst.total);
  }

  /**
   * Resolves once an empty dispatch of `kernel` has run, so that the driver has compiled it.
   * Jobs are served in order by this device and, during a large burst on a CPU adapter, from the
   * back by a helper device.
   */
  private warm(kernel: CompiledKernel, src: KernelSource): Promise<CompiledKernel> {
    if (this.options.warm === false) return Promise.resolve(kernel);
    this.lastProgress = performance.now();
    return new Promise<CompiledKernel>((resolve, reject) => {
      this.queue.push({ kernel, src, resolve: () => resolve(kernel), reject });
      if (!this.mainActive) {
        this.mainActive = true;
        void this.serve();
      }
      if (this.wantHelper() === "now") this.startHelper();
    });
  }

  /** Brings in the helper device for a large burst (once per burst it is away). */
  private startHelper(): void {
    if (this.helperActive || this.pending < HELPER_MIN_KERNELS) return;
    this.helperActive = true;
    void this.serveWithHelper();
  }

  /**
   * When a burst gets the helper device: asked for (`helper: true`, REVGNN_PARALLEL_COMPILE=1)
   * from the start; by default on a CPU adapter with 2+ cores once the burst stalls (STALL_MS).
   */
  private wantHelper(): "now" | "on stall" | "never" {
    const env = envVar("REVGNN_PARALLEL_COMPILE");
    if (env === "0") return "never";
    if (env === "1" || this.options.helper === true) return "now";
    const cpu = this.options.helper ?? this.ctx.adapterInfo.class === "cpu";
    return cpu && hardwareThreads() >= 2 ? "on stall" : "never";
  }

  /** This device's worker: takes jobs from the front until none is left. */
  private async serve(): Promise<void> {
    // Two jobs in flight: the queue never idles between them (a warm start's ~100 kernels take a
    // millisecond each), yet the rest stay in the queue for the helper to take from the back.
    const inFlight: Promise<void>[] = [];
    try {
      for (;;) {
        const job = this.queue.shift();
        if (!job) {
          // Leave only with nothing queued and nothing in flight: a job queued meanwhile would
          // otherwise wait for a worker that has stopped.
          if (inFlight.length === 0) break;
          await inFlight.shift();
          continue;
        }
        this.lastProgress = performance.now();
        inFlight.push(
          this.dispatchEmpty(this.ctx.device, this.scratch(), job.kernel.pipeline, job.kernel).then(
            job.resolve,
            job.reject,
          ),
        );
        if (inFlight.length >= 2) await inFlight.shift();
      }
    } finally {
      this.mainActive = false;
    }
  }

  /**
   * The helper's worker: compiles jobs from the back of the queue on its own device, then runs
   * each on this device, which finds the compiled code in Mesa's disk cache. A failure on the
   * helper costs only the parallelism: this device's own dispatch reports any real error.
   */
  private async serveWithHelper(): Promise<void> {
    try {
      const helper = await this.ctx.compileHelper();
      if (!helper) return;
      const scratch = (this.helperScratch ??= scratchBuffers(helper));
      for (let job = this.queue.pop(); job; job = this.queue.pop()) {
        try {
          const module = helper.createShaderModule({ code: job.src.code, label: job.kernel.label });
          const bindGroupLayout = helper.createBindGroupLayout({
            entries: layoutEntries(job.src.bindings),
          });
          const pipeline = await helper.createComputePipelineAsync({
            label: job.kernel.label,
            layout: helper.createPipelineLayout({
              bindGroupLayouts: [bindGroupLayout],
              immediateSize: 4 * immediateWordsOf(job.src.bindings),
            }),
            compute: { module, entryPoint: job.src.entryPoint },
          });
          await this.dispatchEmpty(helper, scratch, pipeline, { ...job.kernel, bindGroupLayout });
        } catch {
          // Reported, if real, by this device's dispatch below.
        }
        // Not awaited: this device's queue may be busy compiling for seconds, and the helper
        // would idle behind it (measured: the helper then did a fifth of the work).
        void this.dispatchEmpty(
          this.ctx.device,
          this.scratch(),
          job.kernel.pipeline,
          job.kernel,
        ).then(job.resolve, job.reject);
      }
    } catch {
      // No helper device: this device's worker serves the whole queue.
    } finally {
      this.helperActive = false;
    }
  }

  /**
   * An indirect dispatch of 0 workgroups on scratch buffers: the driver compiles the pipeline and
   * runs nothing (a direct dispatch of 0 draws a Dawn warning). A validation error is the
   * kernel's error.
   */
  private async dispatchEmpty(
    device: GPUDevice,
    scratch: Scratch,
    pipeline: GPUComputePipeline,
    k: Pick<
      CompiledKernel,
      "bindings" | "bindGroupLayout" | "uniformSlot" | "immediateWords" | "label"
    >,
  ): Promise<void> {
    while (scratch.storage.length < k.bindings.length) scratch.storage.push(storageScratch(device));
    device.pushErrorScope("validation");
    const bindGroup = device.createBindGroup({
      layout: k.bindGroupLayout,
      entries: k.bindings.flatMap((b, i) =>
        b.kind === "immediate"
          ? []
          : [
              {
                binding: i,
                resource:
                  b.kind === "uniform"
                    ? { buffer: scratch.uniform, size: PARAMS_BINDING_BYTES }
                    : { buffer: scratch.storage[i]! },
              },
            ],
      ),
    });
    const enc = device.createCommandEncoder({ label: `warm ${k.label}` });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, k.uniformSlot >= 0 ? [0] : []);
    if (k.immediateWords > 0) pass.setImmediates(0, new Uint32Array(k.immediateWords));
    pass.dispatchWorkgroupsIndirect(scratch.indirect, 0);
    pass.end();
    device.queue.submit([enc.finish()]);
    const err = await this.ctx.guard(device.popErrorScope());
    if (err) throw new GpuValidationError("validation", err.message, `kernel "${k.label}"`);
    await this.ctx.guard(device.queue.onSubmittedWorkDone());
  }

  private scratch(): Scratch {
    return (this.scratchSet ??= scratchBuffers(this.ctx.device));
  }

  private layoutFor(bindings: readonly BindingSpec[]): LayoutEntry {
    const key = bindings
      .map((b) => (b.kind === "immediate" ? `immediate${b.words}` : b.kind))
      .join(",");
    let entry = this.layouts.get(key);
    if (entry) return entry;
    const { device } = this.ctx;
    const layout = device.createBindGroupLayout({
      label: `layout(${key})`,
      entries: layoutEntries(bindings),
    });
    const pipelineLayout = device.createPipelineLayout({
      bindGroupLayouts: [layout],
      immediateSize: 4 * immediateWordsOf(bindings),
    });
    entry = { id: this.layouts.size + 1, layout, pipelineLayout };
    this.layouts.set(key, entry);
    return entry;
  }

  private async compile(src: KernelSource): Promise<CompiledKernel> {
    const { device } = this.ctx;
    const label = src.label ?? src.entryPoint;
    const uniformSlots = src.bindings.flatMap((b, i) => (b.kind === "uniform" ? [i] : []));
    if (uniformSlots.length > 1) {
      throw new Error(`kernel "${label}": at most one uniform binding is supported`);
    }
    const storageSlots = src.bindings.flatMap((b, i) => (isStorageBinding(b) ? [i] : []));

    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: src.code, label });
    const scopeError = device.popErrorScope();
    const info = await this.ctx.guard(module.getCompilationInfo());
    const messages: CompileMessage[] = info.messages.map((m) => ({
      type: m.type,
      line: m.lineNum,
      column: m.linePos,
      message: m.message,
    }));
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0) {
      throw new ShaderCompileError(label, messages, formatCompileErrors(label, src.code, errors));
    }
    const moduleError = await this.ctx.guard(scopeError);
    if (moduleError) throw new GpuValidationError("validation", moduleError.message, label);

    const layout = this.layoutFor(src.bindings);
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.ctx.guard(
        device.createComputePipelineAsync({
          label,
          layout: layout.pipelineLayout,
          compute: { module, entryPoint: src.entryPoint },
        }),
      );
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new GpuValidationError("pipeline", msg, `kernel "${label}"`);
    }
    return {
      id: this.nextKernelId++,
      label,
      pipeline,
      bindGroupLayout: layout.layout,
      layoutId: layout.id,
      bindings: src.bindings,
      uniformSlot: uniformSlots[0] ?? -1,
      immediateWords: immediateWordsOf(src.bindings),
      storageSlots,
    };
  }
}

function layoutEntries(bindings: readonly BindingSpec[]): GPUBindGroupLayoutEntry[] {
  return bindings.flatMap((b, i): GPUBindGroupLayoutEntry[] =>
    b.kind === "immediate"
      ? []
      : [
          {
            binding: i,
            visibility: GPUShaderStage.COMPUTE,
            buffer:
              b.kind === "uniform"
                ? { type: "uniform", hasDynamicOffset: true, minBindingSize: 0 }
                : { type: b.kind === "read" ? "read-only-storage" : "storage" },
          },
        ],
  );
}

/** Words of the parameter block a kernel takes as immediates (0: none). */
function immediateWordsOf(bindings: readonly BindingSpec[]): number {
  return bindings.find((b) => b.kind === "immediate")?.words ?? 0;
}

// Scratch buffers of the warm-up dispatch: zeroed indirect arguments, a parameter block and one
// storage buffer per binding (a buffer may not be bound both read-only and writable in one
// dispatch). 64 KiB covers any fixed-size array a kernel declares; nothing is read or written.
interface Scratch {
  indirect: GPUBuffer;
  uniform: GPUBuffer;
  storage: GPUBuffer[];
}

function scratchBuffers(device: GPUDevice): Scratch {
  return {
    indirect: device.createBuffer({ size: 12, usage: GPUBufferUsage.INDIRECT, label: "warm/args" }),
    uniform: device.createBuffer({
      size: PARAMS_BINDING_BYTES,
      usage: GPUBufferUsage.UNIFORM,
      label: "warm/params",
    }),
    storage: [],
  };
}

function storageScratch(device: GPUDevice): GPUBuffer {
  return device.createBuffer({ size: 65536, usage: GPUBufferUsage.STORAGE, label: "warm/data" });
}

/** "WGSL error in kernel X at 12:5: message", the source line and a caret under the column. */
export function formatCompileErrors(
  label: string,
  code: string,
  errors: readonly GPUCompilationMessage[],
): string {
  const lines = code.split("\n");
  const out = [`WGSL compile error in kernel "${label}":`];
  for (const m of errors) {
    out.push(`  line ${m.lineNum}:${m.linePos}: ${m.message}`);
    const text = lines[m.lineNum - 1];
    if (m.lineNum > 0 && text !== undefined) {
      const gutter = `${m.lineNum} | `;
      out.push(`    ${gutter}${text}`);
      const width = Math.max(1, Math.min(m.length || 1, text.length - m.linePos + 1));
      out.push(`    ${" ".repeat(gutter.length + Math.max(0, m.linePos - 1))}${"^".repeat(width)}`);
    }
  }
  return out.join("\n");
}
