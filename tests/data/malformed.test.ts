// A corpus of broken datasets: each case breaks one file of a valid tiny dataset in one way and
// asserts the DataError names the exact file, line (and field) and says what is wrong.

import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/errors.js";
import { loadOgbNodeDataset, type OgbLoadOptions } from "../../runtime/data/ogb.js";
import { TINY, makeTempDir, removeDir, writeDataset } from "./helpers.js";

interface Case {
  name: string;
  files: Record<string, string | Uint8Array | null>;
  opts?: OgbLoadOptions;
  /** File named by the error, relative to the dataset dir ("" = the dir itself). */
  file: string;
  line?: number;
  field?: number;
  message: string;
}

const gz = (s: string): Uint8Array => gzipSync(Buffer.from(s));
const truncatedGz = (): Uint8Array => {
  const full = gz("0,1\n1,2\n".repeat(2000));
  return full.subarray(0, Math.floor(full.length / 2));
};

const CASES: Case[] = [
  {
    name: "bad number",
    files: { "raw/node-feat.csv.gz": "1,0,1\n0,0,1\n2,0.5x,1\n0,0,0\n1,1,0\n0,3,0\n" },
    file: "raw/node-feat.csv.gz",
    line: 3,
    field: 2,
    message: "`0.5x` is not a number",
  },
  {
    name: "ragged row",
    files: { "raw/node-feat.csv.gz": "1,0,1\n0,0,1\n2,1,1\n0,0\n1,1,0\n0,3,0\n" },
    file: "raw/node-feat.csv.gz",
    line: 4,
    message: "row has 2 fields; the first row had 3",
  },
  {
    name: "too many fields in an edge row",
    files: { "raw/edge.csv.gz": "0,1\n1,2,5\n2,0\n3,4\n4,3\n" },
    file: "raw/edge.csv.gz",
    line: 2,
    message: "row has 3 fields; expected 2 (src,dst)",
  },
  {
    name: "node id out of range in the edge list",
    files: { "raw/edge.csv.gz": "0,1\n1,2\n2,0\n3,6\n4,3\n" },
    file: "raw/edge.csv.gz",
    line: 4,
    field: 2,
    message: "node id 6 is out of range: the graph has 6 nodes (raw/num-node-list.csv.gz)",
  },
  {
    name: "node id out of range in a split",
    files: { "split/public/test.csv.gz": "4\n3000\n" },
    file: "split/public/test.csv.gz",
    line: 2,
    field: 1,
    message: "node id 3000 is out of range: the graph has 6 nodes (raw/num-node-list.csv.gz)",
  },
  {
    name: "negative node id",
    files: { "raw/edge.csv.gz": "-1,1\n1,2\n2,0\n3,4\n4,3\n" },
    file: "raw/edge.csv.gz",
    line: 1,
    field: 1,
    message: "node id -1 is negative",
  },
  {
    name: "non-integer node id",
    files: { "split/public/train.csv.gz": "0\n1.5\n" },
    file: "split/public/train.csv.gz",
    line: 2,
    field: 1,
    message: "node id `1.5` is not an integer",
  },
  {
    name: "header row",
    files: { "raw/edge.csv.gz": "src,dst\n0,1\n" },
    file: "raw/edge.csv.gz",
    line: 1,
    field: 1,
    message: "`src` is not a number (OGB raw files have no header row)",
  },
  {
    name: "missing split scheme",
    files: {
      "split/public/train.csv.gz": null,
      "split/public/valid.csv.gz": null,
      "split/public/test.csv.gz": null,
      "split/time/train.csv.gz": "0\n",
      "split/time/valid.csv.gz": "1\n",
      "split/time/test.csv.gz": "2\n",
    },
    opts: { split: "public" },
    file: "",
    message: "split `public` not found: expected split/public/train.csv.gz (available: time)",
  },
  {
    name: "several split schemes and none chosen",
    files: {
      "split/time/train.csv.gz": "0\n",
      "split/time/valid.csv.gz": "1\n",
      "split/time/test.csv.gz": "2\n",
    },
    file: "",
    message: "several splits present; choose one (available: public, time)",
  },
  {
    name: "missing split file",
    files: { "split/public/valid.csv.gz": null },
    file: "split/public/valid.csv.gz",
    message: "missing file: split/public/valid.csv.gz",
  },
  {
    name: "missing raw file",
    files: { "raw/edge.csv.gz": null },
    file: "raw/edge.csv.gz",
    message: "missing file: raw/edge.csv.gz",
  },
  {
    name: "zero-byte file",
    files: { "raw/node-label.csv.gz": new Uint8Array(0) },
    file: "raw/node-label.csv.gz",
    message: "file is empty",
  },
  {
    name: "gzip of nothing",
    files: { "raw/edge.csv.gz": gz("") },
    file: "raw/edge.csv.gz",
    message: "file is empty",
  },
  {
    name: "gzip of blank lines",
    files: { "split/public/train.csv.gz": gz("\n\n") },
    file: "split/public/train.csv.gz",
    message: "file is empty",
  },
  {
    name: "not gzip at all",
    files: { "raw/edge.csv.gz": Buffer.from("0,1\n1,2\n") },
    file: "raw/edge.csv.gz",
    message: "not a valid gzip file",
  },
  {
    name: "truncated gzip",
    files: { "raw/edge.csv.gz": truncatedGz(), "raw/num-edge-list.csv.gz": null },
    file: "raw/edge.csv.gz",
    message: "gzip data is truncated",
  },
  {
    name: "too few label rows",
    files: { "raw/node-label.csv.gz": "0\n1\n2\n1\n0\n" },
    file: "raw/node-label.csv.gz",
    message: "has 5 rows; the graph has 6 nodes (raw/num-node-list.csv.gz)",
  },
  {
    name: "too many feature rows",
    files: { "raw/node-feat.csv.gz": TINY["raw/node-feat.csv.gz"] + "1,1,1\n" },
    file: "raw/node-feat.csv.gz",
    line: 7,
    message: "has 7 rows; the graph has 6 nodes",
  },
  {
    name: "edge count disagrees with num-edge-list",
    files: { "raw/num-edge-list.csv.gz": "7\n" },
    file: "raw/edge.csv.gz",
    message: "has 5 edges but raw/num-edge-list.csv.gz says 7",
  },
  {
    name: "node listed twice in a split",
    files: { "split/public/train.csv.gz": "0\n1\n0\n" },
    file: "split/public/train.csv.gz",
    line: 3,
    message: "node 0 is listed twice in the train set",
  },
  {
    name: "splits overlap",
    files: { "split/public/valid.csv.gz": "2\n1\n" },
    file: "split/public/valid.csv.gz",
    line: 2,
    message: "node 1 is in both the train and the valid set",
  },
  {
    name: "blank line in the middle",
    files: { "raw/node-feat.csv.gz": "1,0,1\n\n0,0,1\n2,1,1\n0,0,0\n1,1,0\n0,3,0\n" },
    file: "raw/node-feat.csv.gz",
    line: 2,
    message: "blank line",
  },
  {
    name: "empty feature field",
    files: { "raw/node-feat.csv.gz": "1,0,1\n0,,1\n2,1,1\n0,0,0\n1,1,0\n0,3,0\n" },
    file: "raw/node-feat.csv.gz",
    line: 2,
    field: 2,
    message: "empty field",
  },
  {
    name: "NaN feature",
    files: { "raw/node-feat.csv.gz": "1,0,1\n0,0,1\n2,1,1\n0,0,0\n1,nan,0\n0,3,0\n" },
    file: "raw/node-feat.csv.gz",
    line: 5,
    field: 2,
    message: "`nan` (missing value) is not allowed here",
  },
  {
    name: "fractional class label",
    files: { "raw/node-label.csv.gz": "0\n1\n2\n1.5\n0\n2\n" },
    file: "raw/node-label.csv.gz",
    line: 4,
    field: 1,
    message: "class label 1.5 is not a non-negative integer",
  },
  {
    name: "multi-label target other than 0/1",
    files: { "raw/node-label.csv.gz": "0,1\n1,1\n0,0\n1,2\n0,0\n1,1\n" },
    file: "raw/node-label.csv.gz",
    line: 4,
    field: 2,
    message: "multi-label target 2 must be 0, 1 or missing",
  },
  {
    name: "several graphs in num-node-list",
    files: { "raw/num-node-list.csv.gz": "3\n3\n" },
    file: "raw/num-node-list.csv.gz",
    message: "holds 2 graphs",
  },
  {
    name: "negative feature with explicit row normalisation",
    files: { "raw/node-feat.csv.gz": "1,0,1\n0,0,1\n2,1,1\n0,-1e-3,0\n1,1,0\n0,3,0\n" },
    opts: { normalizeFeatures: "row" },
    file: "raw/node-feat.csv.gz",
    line: 4,
    field: 2,
    message: "is negative; row normalisation needs non-negative features",
  },
];

describe("malformed datasets give a DataError naming file and line", () => {
  const root = makeTempDir();
  afterAll(() => removeDir(root));

  CASES.forEach((c, i) => {
    it(c.name, async () => {
      const dir = writeDataset(join(root, `case${i}`), { ...TINY, ...c.files });
      const err = await loadOgbNodeDataset(dir, c.opts).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DataError);
      const de = err as DataError;
      const file = c.file ? join(dir, c.file) : dir;
      expect(de.file).toBe(file);
      expect(de.line).toBe(c.line);
      if (c.field !== undefined) expect(de.field).toBe(c.field);
      expect(de.message).toContain(c.message);
      const loc = c.line === undefined ? `${file}: ` : `${file}:${c.line}`;
      expect(de.message.startsWith(loc)).toBe(true);
    });
  });

  it("names a missing dataset directory", async () => {
    const dir = join(root, "nope");
    await expect(loadOgbNodeDataset(dir)).rejects.toThrow(`${dir}: dataset directory not found`);
  });

  it("the valid base dataset loads", async () => {
    const dir = writeDataset(join(root, "ok"), TINY);
    const ds = await loadOgbNodeDataset(dir);
    expect(ds.graph.numNodes).toBe(6);
    // 0-1-2 triangle and 3<->4 listed both ways: 6 + 2 directed edges, 2 merged duplicates.
    expect(ds.graph.numEdges).toBe(8);
    expect(ds.edgeStats?.duplicatesMerged).toBe(2);
  });
});
