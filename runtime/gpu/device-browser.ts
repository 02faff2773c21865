// Acquiring the WebGPU device in a page or a worker (`navigator.gpu`). Everything after finding
// the adapter is context.ts, shared with Node's dawn.node entry point (device.ts).
import { openDevice, type DeviceOptions, type GpuContext } from "./context.js";

/** The browser has no usable WebGPU: the message names what to enable. */
export class NoWebGpuError extends Error {
  constructor(detail: string) {
    super(`${detail}\n${NO_WEBGPU_ADVICE}`);
    this.name = "NoWebGpuError";
  }
}

export const NO_WEBGPU_ADVICE =
  "WebGPU is needed to train in the page (the compiler panels work without it). " +
  "Chrome / Edge 113+ have it on by default (on Linux, enable chrome://flags/#enable-unsafe-webgpu " +
  "and chrome://flags/#enable-vulkan); Firefox 141+ on Windows, or set dom.webgpu.enabled in " +
  "about:config; Safari 26+, or enable the WebGPU feature flag (Develop → Feature Flags). " +
  "The page must be served over https or from localhost.";

/** `navigator.gpu` without the DOM library's types (the runtime compiles without them). */
function browserGpu(): GPU | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu;
}

export async function acquireBrowserGpu(options: DeviceOptions = {}): Promise<GpuContext> {
  const gpu = browserGpu();
  if (!gpu) throw new NoWebGpuError("This browser exposes no navigator.gpu.");
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({
      powerPreference: options.powerPreference ?? "high-performance",
    });
  } catch (err) {
    throw new NoWebGpuError(`requestAdapter failed: ${err instanceof Error ? err.message : err}`);
  }
  if (!adapter) throw new NoWebGpuError("navigator.gpu found no adapter (WebGPU is blocked here).");
  // A page may ask for a second adapter whenever it likes (no output to filter here).
  const helperAdapter = () =>
    gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  return openDevice(gpu, adapter, options, helperAdapter);
}
