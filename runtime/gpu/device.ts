// Acquiring the WebGPU device in Node (dawn.node) and turning a missing adapter into advice on what
// to install on this OS. Everything after finding the adapter is shared with the browser
// (context.ts); this module re-exports it so that Node callers keep one import.
import { readFileSync } from "node:fs";
import { withoutBenignDawnWarnings } from "./dawn-stderr.js";
import { openDevice, type DeviceOptions, type GpuContext } from "./context.js";

export * from "./context.js";

export interface AcquireOptions extends DeviceOptions {
  /** Extra dawn.node options, e.g. "enable-dawn-features=…" or "backend=vulkan". */
  dawnOptions?: string[];
}

export class NoAdapterError extends Error {
  constructor(detail?: string) {
    super(noAdapterAdvice() + (detail ? `\n\nDawn said: ${detail}` : ""));
    this.name = "NoAdapterError";
  }
}

let globalsInstalled = false;

export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  // Loaded here, not at the top: commands that need no GPU (--help, compile, plan) never load
  // dawn.node.
  const { create, globals } = await import("webgpu");
  if (!globalsInstalled) {
    // dawn.node's GPUBufferUsage, GPUShaderStage, … constants live in `globals`.
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
  let gpu: GPU;
  let adapter: GPUAdapter | null;
  let spare: Promise<GPUAdapter | null>;
  try {
    // A missing Vulkan loader or a broken driver can make either call throw.
    // Dawn rounds GPU timestamps to 65.5 µs (a browser's defence against timing attacks), too
    // coarse for the profiler's per-kernel times; given options come later and may override it.
    gpu = create(["disable-dawn-features=timestamp_quantization", ...(options.dawnOptions ?? [])]);
    const request = { powerPreference: options.powerPreference ?? "high-performance" } as const;
    // Two adapters in the one filtered call: the second is the compile helper's (context.ts),
    // so the filter never runs again once driver threads are busy with files.
    const [first, second] = withoutBenignDawnWarnings(() => [
      gpu.requestAdapter(request),
      gpu.requestAdapter(request),
    ]);
    spare = second.catch(() => null);
    adapter = await first;
  } catch (err) {
    throw new NoAdapterError(err instanceof Error ? err.message : String(err));
  }
  if (!adapter) throw new NoAdapterError();

  return openDevice(gpu, adapter, options, () => spare);
}

/** What to install to get a WebGPU adapter, with the line for this OS first. */
export function noAdapterAdvice(): string {
  const os = detectOs();
  const lines: Record<string, string> = {
    "debian-12":
      "Debian 12 (bookworm), as root: enable bookworm-backports\n" +
      "    echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list\n" +
      "    apt-get update && apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1\n" +
      '  (bookworm\'s own Mesa 22.3 lavapipe is rejected by Dawn with "shaderUniform*ArrayDynamicIndexing required")',
    "debian-new":
      "Debian 13 / Ubuntu 24.04 or newer: apt-get install -y mesa-vulkan-drivers libvulkan1",
    "ubuntu-old":
      "Ubuntu 22.04 or older: Mesa >= 24 is needed (apt-get install mesa-vulkan-drivers libvulkan1 from the kisak-mesa PPA, or upgrade to 24.04)",
    fedora: "Fedora: dnf install -y mesa-vulkan-drivers vulkan-loader",
    macos: "macOS: Metal is built in; make sure you run on macOS 13+ with a Metal-capable GPU",
    windows: "Windows: D3D12 is built in; update the GPU driver if no adapter appears",
    vendor:
      "With an NVIDIA or AMD GPU: install the vendor's Vulkan driver (nvidia-driver / Mesa radv) and libvulkan1",
  };
  const order = [os, ...Object.keys(lines).filter((k) => k !== os)].filter((k) => k in lines);
  const first = lines[order[0]!]!;
  const rest = order.slice(1).map((k) => `  ${lines[k]}`);
  return (
    `No WebGPU adapter found: Dawn needs a Vulkan, Metal or D3D12 driver.\n` +
    `  For this machine (${os}): ${first}\n` +
    `Elsewhere:\n${rest.join("\n")}`
  );
}

function detectOs(): string {
  if (process.platform === "darwin") return "macos";
  if (process.platform === "win32") return "windows";
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const field = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(text)?.[1]?.replace(/"/g, "");
    const id = field("ID") ?? "";
    const version = Number.parseFloat(field("VERSION_ID") ?? "0");
    if (id === "debian") return version >= 13 ? "debian-new" : "debian-12";
    if (id === "ubuntu") return version >= 24 ? "debian-new" : "ubuntu-old";
    if (id === "fedora" || /fedora|rhel/.test(field("ID_LIKE") ?? "")) return "fedora";
  } catch {
    // No os-release: fall through to the generic advice.
  }
  return "linux";
}
