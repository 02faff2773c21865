// The WebGPU device context shared by every host: limits raised to the adapter's maxima, optional
// features, the tuning the kernel templates read, and error/loss tracking. How the adapter is found
// differs between hosts and lives elsewhere: device.ts (Node, dawn.node) and device-browser.ts
// (a page or worker, `navigator.gpu`).
//
// Error model: nothing here ever hangs or returns a silently wrong result.
//  - Validation / out-of-memory errors: the command stream wraps each submitted batch in error
//    scopes; anything that escapes a scope lands in `onuncapturederror`. Both are rethrown by
//    `ctx.check()` / the next sync point (`stream.finish()`, `stream.readScalars()`).
//  - Device loss: `ctx.lost` settles, every await in the runtime races it (`ctx.guard`), and
//    `ctx.check()` throws DeviceLostError from then on.
import {
  chooseTuning,
  type AdapterClass,
  type AdapterDescription,
  type Tuning,
} from "../../compiler/target.js";
import { sleepWhileBusy } from "../platform.js";

export interface GpuFeatures {
  timestampQuery: boolean;
  subgroups: boolean;
  shaderF16: boolean;
}

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Request the optional features when the adapter has them (default true). */
  requestOptionalFeatures?: boolean;
  /** Override parts of the automatically chosen tuning (benchmarks, tests). */
  tuning?: Partial<Tuning>;
}

export interface GpuContext {
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly queue: GPUQueue;
  readonly adapterInfo: AdapterDescription;
  readonly features: GpuFeatures;
  /** The limits the device was created with (raised to the adapter's maxima). */
  readonly limits: GPUSupportedLimits;
  readonly tuning: Tuning;
  /** Throws the first pending uncaptured error or DeviceLostError; otherwise returns. */
  check(): void;
  /** Records an error found by an error scope so that the next `check()` throws it. */
  report(err: Error): void;
  /** Resolves like `p` unless the device is lost first, in which case it rejects. */
  guard<T>(p: Promise<T>): Promise<T>;
  /** True once the device is lost or destroyed. */
  readonly isLost: boolean;
  /** Called as kernels of a burst become ready (pipelines.ts): for a progress line. */
  onCompileProgress?: (done: number, total: number) => void;
  /**
   * A second device on the same adapter, with the same limits and features, that compiles
   * pipelines in parallel (pipelines.ts): created on first use, owned (and destroyed) by this
   * context; undefined where the host has no second adapter to give.
   */
  compileHelper(): Promise<GPUDevice | undefined>;
  destroy(): void;
}

/**
 * Finds the adapter for the compile helper's device. An adapter makes one device, so the helper
 * needs its own; in Node it is requested up front with the first (device.ts: Dawn's notices are
 * filtered by re-pointing fd 2, which must not happen while driver threads open cache files).
 */
export type HelperAdapterSource = () => Promise<GPUAdapter | null>;

export class DeviceLostError extends Error {
  constructor(reason: string, message: string) {
    super(`the GPU device was lost (${reason})${message ? `: ${message}` : ""}`);
    this.name = "DeviceLostError";
  }
}

export class GpuValidationError extends Error {
  constructor(kind: string, message: string, where?: string) {
    super(`GPU ${kind} error${where ? ` in ${where}` : ""}: ${message}`);
    this.name = "GpuValidationError";
  }
}

// Limits we raise to whatever the adapter allows: large graphs need big storage bindings, the
// generated fused kernels bind many buffers, and tuned templates use big workgroups.
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxUniformBuffersPerShaderStage",
  "maxDynamicUniformBuffersPerPipelineLayout",
  "maxBindingsPerBindGroup",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ["timestamp-query", "subgroups", "shader-f16"];

/**
 * Opens the revgnn device on an adapter found by the host's entry point (device.ts for dawn.node,
 * device-browser.ts for `navigator.gpu`): everything after finding the adapter is the same on both.
 */
export async function openDevice(
  gpu: GPU,
  adapter: GPUAdapter,
  options: DeviceOptions = {},
  helperAdapter: HelperAdapterSource = () => Promise.resolve(null),
): Promise<GpuContext> {
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const requiredFeatures =
    options.requestOptionalFeatures === false
      ? []
      : OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));

  const device = await adapter.requestDevice({
    label: "revgnn",
    requiredLimits,
    requiredFeatures,
  });
  const adapterInfo = describeAdapter(adapter.info);
  const features: GpuFeatures = {
    timestampQuery: device.features.has("timestamp-query"),
    subgroups: device.features.has("subgroups"),
    shaderF16: device.features.has("shader-f16"),
  };
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  const tuning = {
    ...chooseTuning(adapterInfo, device.limits, {
      enabled: features.subgroups,
      minSize: info.subgroupMinSize ?? 0,
      maxSize: info.subgroupMaxSize ?? 0,
    }),
    ...options.tuning,
  };
  return new Context(gpu, adapter, device, adapterInfo, features, tuning, helperAdapter);
}

/**
 * Host waits on a CPU adapter (lavapipe): while the host awaits the device and no awaited result
 * has come for HOST_WAIT_STALL_MS, the JS thread sleeps HOST_WAIT_SLEEP_MS per turn of the event
 * loop instead of spinning in dawn.node's setImmediate polling, which took one of the cores the
 * driver runs the kernels on. Measured on the 2-core machine (load average 10–11), 10 Cora epochs:
 * median step 359–554 ms spinning, 220–230 ms sleeping, 6.6 s of CPU against 4.6 s. Waits that
 * settle quickly one after another (a warm pipeline burst) never sleep.
 */
const HOST_WAIT_STALL_MS = 5;
const HOST_WAIT_SLEEP_MS = 2;

class Context implements GpuContext {
  readonly queue: GPUQueue;
  readonly limits: GPUSupportedLimits;
  private pending: Error | undefined;
  private lostError: DeviceLostError | undefined;
  private readonly lostPromise: Promise<never>;
  private destroyed = false;
  private helper?: Promise<GPUDevice | undefined>;
  /** Guarded promises not yet settled, and when one last settled (see HOST_WAIT_STALL_MS). */
  private waiting = 0;
  private lastSettled = 0;
  private sleeping = false;
  onCompileProgress?: (done: number, total: number) => void;

  constructor(
    readonly gpu: GPU,
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly adapterInfo: AdapterDescription,
    readonly features: GpuFeatures,
    readonly tuning: Tuning,
    private readonly helperAdapter: HelperAdapterSource,
  ) {
    this.queue = device.queue;
    this.limits = device.limits;
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.report(new GpuValidationError(errorKind(ev.error), ev.error.message));
    };
    this.lostPromise = device.lost.then((info) => {
      this.lostError = new DeviceLostError(
        this.destroyed ? "destroyed" : info.reason,
        info.message,
      );
      throw this.lostError;
    });
    // Nobody may be racing the promise when the device goes away; keep Node quiet about it.
    this.lostPromise.catch(() => undefined);
  }

  get isLost(): boolean {
    return this.lostError !== undefined || this.destroyed;
  }

  report(err: Error): void {
    this.pending ??= err;
  }

  check(): void {
    if (this.lostError) throw this.lostError;
    if (this.destroyed) throw new DeviceLostError("destroyed", "the GpuContext was destroyed");
    const err = this.pending;
    if (err) {
      this.pending = undefined;
      throw err;
    }
  }

  guard<T>(p: Promise<T>): Promise<T> {
    const raced = Promise.race([p, this.lostPromise]);
    if (this.adapterInfo.class !== "cpu") return raced;
    if (this.waiting++ === 0) this.lastSettled = performance.now();
    this.sleepWhileWaiting();
    return raced.finally(() => {
      this.waiting--;
      this.lastSettled = performance.now();
    });
  }

  private sleepWhileWaiting(): void {
    if (this.sleeping) return;
    this.sleeping = true;
    sleepWhileBusy(
      () => this.waiting > 0,
      () => (this.sleeping = false),
      () => performance.now() - this.lastSettled > HOST_WAIT_STALL_MS,
      HOST_WAIT_SLEEP_MS,
    );
  }

  compileHelper(): Promise<GPUDevice | undefined> {
    return (this.helper ??= this.openHelper().catch(() => undefined));
  }

  private async openHelper(): Promise<GPUDevice | undefined> {
    const adapter = await this.helperAdapter();
    if (!adapter || describeAdapter(adapter.info).text !== this.adapterInfo.text) return undefined;
    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) {
      const value = (this.limits as unknown as Record<string, number | undefined>)[name];
      if (typeof value === "number") requiredLimits[name] = value;
    }
    const device = await adapter.requestDevice({
      label: "revgnn/compile-helper",
      requiredLimits,
      requiredFeatures: [...this.device.features].filter((f): f is GPUFeatureName =>
        adapter.features.has(f),
      ),
    });
    if (this.destroyed) device.destroy();
    return this.destroyed ? undefined : device;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
    void this.helper?.then((d) => d?.destroy());
  }
}

export function errorKind(err: GPUError): string {
  if (err instanceof GPUValidationError) return "validation";
  if (err instanceof GPUOutOfMemoryError) return "out-of-memory";
  if (err instanceof GPUInternalError) return "internal";
  return "unknown";
}

export function describeAdapter(info: GPUAdapterInfo): AdapterDescription {
  const vendor = info.vendor ?? "";
  const architecture = info.architecture ?? "";
  const device = info.device ?? "";
  const description = info.description ?? "";
  const all = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const isFallback = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  let cls: AdapterClass = "unknown";
  if (
    /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|warp/.test(all) ||
    isFallback
  ) {
    cls = "cpu";
  } else if (/nvidia|radeon|amd|geforce|rtx|h100|h200|a100|arc/.test(all)) {
    cls = "discrete";
  } else if (/intel|apple|mali|adreno|qualcomm/.test(all)) {
    cls = "integrated";
  }
  const parts = [vendor, architecture, device, description].filter((s) => s.length > 0);
  const text = `${parts.join(" / ") || "unnamed adapter"} [${cls}]`;
  return { vendor, architecture, device, description, class: cls, isFallback, text };
}
