// Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename it
// over the target, fsync the directory. A reader (or a resumed run after a crash or a full disk)
// sees either the old file or the complete new one, never a torn checkpoint or report. A write
// killed before its rename leaves its temporary file behind; the next write of the same target
// removes those of processes that no longer run.

import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Data to write: a string (UTF-8), bytes, or a list of chunks written back to back. */
export type AtomicData = string | ArrayBufferView | readonly (string | ArrayBufferView)[];

function tmpPathFor(path: string): string {
  const rand = Math.floor(Math.random() * 0x100000000).toString(16);
  return join(dirname(path), `.${basename(path)}.${process.pid}.${rand}.tmp`);
}

/** Whether a process with this id runs (EPERM: it does, as another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files that writes of `path` by processes no longer running left behind
 * (a run killed mid-save): `.<name>.<pid>.<hex>.tmp` next to the target. A live process's file
 * may be a write in progress and is kept. Best effort: a failure here never stops the write.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || running(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
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
  removeStaleTemps(path);
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
  removeStaleTemps(path);
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
