// The browser host of platform.ts: there is no file system, so files live in memory for the page's
// lifetime (a checkpoint saved to stop a run is what resumes it), settings come from nowhere, and
// the thread count is the browser's.
import type { AtomicData } from "./util/atomic-write.js";

export type { AtomicData };

const files = new Map<string, Uint8Array>();

class FileError extends Error {
  constructor(
    readonly code: string,
    path: string,
  ) {
    super(`${code}: ${path} (in-memory files of this page)`);
  }
}

export function readFileBytes(path: string): Uint8Array {
  const bytes = files.get(path);
  if (!bytes) throw new FileError("ENOENT", path);
  return bytes;
}

/** Concatenates the chunks as the Node writer would lay them out on disk. */
function toBytes(data: AtomicData): Uint8Array {
  const chunks = typeof data === "string" || ArrayBuffer.isView(data) ? [data] : data;
  const parts = chunks.map((c) =>
    typeof c === "string"
      ? new TextEncoder().encode(c)
      : new Uint8Array(c.buffer, c.byteOffset, c.byteLength),
  );
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Replacing a map entry is atomic: a reader sees the old file or the new one, never a mix. */
export function writeFileAtomicSync(path: string, data: AtomicData): void {
  files.set(path, toBytes(data));
}

export async function writeFileAtomic(path: string, data: AtomicData): Promise<void> {
  writeFileAtomicSync(path, data);
}

export function envVar(_name: string): string | undefined {
  return undefined;
}

export function hardwareThreads(): number {
  // Typed structurally: the Node build's libraries have no DOM `navigator`.
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

/** A browser's WebGPU settles its promises from its own event loop without polling: no throttle. */
export function sleepWhileBusy(
  _busy: () => boolean,
  done: () => void,
  _stalled?: () => boolean,
  _sleepMs?: number,
): void {
  done();
}

/** The browser prints no native notices: the request runs as is. */
export function quietAdapterRequest<T>(request: () => T): T {
  return request();
}
