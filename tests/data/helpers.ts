// Test helpers: tiny OGB-layout datasets written to a temp dir, one file at a time.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

/** A valid 6-node dataset; tests override single files to break it in one precise way. */
export const TINY: Record<string, string> = {
  "raw/num-node-list.csv.gz": "6\n",
  "raw/num-edge-list.csv.gz": "5\n",
  "raw/edge.csv.gz": "0,1\n1,2\n2,0\n3,4\n4,3\n",
  "raw/node-feat.csv.gz": "1,0,1\n0,0,1\n2,1,1\n0,0,0\n1,1,0\n0,3,0\n",
  "raw/node-label.csv.gz": "0\n1\n2\n1\n0\n2\n",
  "split/public/train.csv.gz": "0\n1\n",
  "split/public/valid.csv.gz": "2\n3\n",
  "split/public/test.csv.gz": "4\n5\n",
};

export function makeTempDir(prefix = "revgnn-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `files` (path → text, gzipped when the path ends in .gz; null = leave out) under dir. */
export function writeDataset(dir: string, files: Record<string, string | Uint8Array | null>): string {
  for (const [rel, content] of Object.entries(files)) {
    if (content === null) continue;
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    writeFileSync(p, rel.endsWith(".gz") && typeof content === "string" ? gzipSync(bytes) : bytes);
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
