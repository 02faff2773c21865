// What machine a result set comes from: adapter, CPU model, cores, memory. Every figure and
// table states it, and the result files are named after its slug.
import { readFileSync } from "node:fs";
import { cpus, totalmem, type as osType, release } from "node:os";
import type { AdapterDescription } from "../../compiler/target.js";
import type { MachineInfo } from "../types.js";

export function cpuModel(): string {
  try {
    const text = readFileSync("/proc/cpuinfo", "utf8");
    const m = /^model name\s*:\s*(.+)$/m.exec(text);
    if (m) return m[1]!.trim();
  } catch {
    // not Linux: fall back to Node's view
  }
  return cpus()[0]?.model?.trim() || "unknown CPU";
}

/** Memory the kernel could give a new process now (MemAvailable), or free memory elsewhere. */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // fall through
  }
  return totalmem();
}

const slugPart = (s: string) =>
  s
    .toLowerCase()
    .replace(/\(r\)|\(tm\)|\d+-core|processor|cpu|@.*$/g, " ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");

/** e.g. "llvmpipe-amd-epyc-2c": the adapter's first word, the CPU model, the core count. */
export function machineSlug(adapter: string, cpu: string, cores: number): string {
  const a = slugPart(adapter.split(/[\s:/]+/).find((w) => w.length > 0) ?? "adapter");
  const c = slugPart(cpu).split("-").slice(0, 4).join("-");
  return `${a || "adapter"}-${c || "cpu"}-${cores}c`;
}

export function describeMachine(
  adapter: AdapterDescription | undefined,
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
): MachineInfo {
  const cpu = cpuModel();
  const cores = cpus().length;
  const adapterText = adapter?.text ?? "no WebGPU adapter";
  return {
    slug: machineSlug(adapter?.description || adapter?.device || "none", cpu, cores),
    adapter: adapterText,
    adapterClass: adapter?.class ?? "none",
    cpu,
    cores,
    memoryBytes: totalmem(),
    os: `${osType()} ${release()}`,
    node: process.version,
    limits,
  };
}

/** One line for figure captions and table headers. */
export function machineLine(m: MachineInfo): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return `${m.adapter}; ${m.cpu}, ${m.cores} cores, ${gib} GiB RAM`;
}
