// Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename it
// over the target, fsync the directory. A reader (or a resumed run after a crash or a full disk)
// sees either the old file or the complete new one, never a torn checkpoint or report.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Data to write: a string (UTF-8), bytes, or a list of chunks written back to back. */
export type AtomicData = string | ArrayBufferView | readonly (string | ArrayBufferView)[];

function tmpPathFor(path: string): string {
  const rand = Math.floor(Math.random() * 0x100000000).toString(16);
  return join(dirname(path), `.${basename(path)}.${process.pid}.${rand}.tmp`);
}

function toChunks(data: AtomicData): Uint8Array[] {
  const list = typeof data === "string" || ArrayBuffer.isView(data) ? [data] : data;
  return list.map((c) =>
    typeof c === "string"
      ? Buffer.from(c, "utf8")
      : new Uint8Array(c.buffer, c.byteOffset, c.byteLength),
  );
}

export async function writeFileAtomic(path: string, data: AtomicData): Promise<void> {
  const tmp = tmpPathFor(path);
  const fh = await open(tmp, "wx");
  try {
    try {
      for (const chunk of toChunks(data)) {
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  syncDir(dirname(path));
}

export function writeFileAtomicSync(path: string, data: AtomicData): void {
  const tmp = tmpPathFor(path);
  const fd = openSync(tmp, "wx");
  try {
    try {
      for (const chunk of toChunks(data)) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  syncDir(dirname(path));
}

/** Persists the rename itself. Best effort: some platforms (Windows) cannot fsync a directory. */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here; the data itself is already synced
  }
}
