// What a split must hold: a label on every training node (single- and multi-label alike), at least
// one training node; a split scheme that is a symbolic link is followed. Validation and test nodes
// may lack labels; the accuracy leaves them out.
import { symlinkSync, renameSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/errors.js";
import { loadDataset } from "../../runtime/data/load.js";
import { labelledCount } from "../../runtime/data/split-check.js";
import { TINY, makeTempDir, removeDir, writeDataset } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function dataset(files: Record<string, string | null>): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return writeDataset(dir, { ...TINY, ...files });
}

async function loadError(dir: string): Promise<DataError> {
  const err = await loadDataset(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  return err as DataError;
}

describe("split checks at load", () => {
  it("refuses a training node without a label (NaN), naming the split file's line", async () => {
    // Node 1 is the second line of train.csv.gz; its label (line 2 of node-label) is NaN.
    const dir = dataset({ "raw/node-label.csv.gz": "0\nNaN\n2\n1\n0\n2\n" });
    const err = await loadError(dir);
    expect(err.file).toBe(join(dir, "split/public/train.csv.gz"));
    expect(err.line).toBe(2);
    expect(err.message).toContain("training node 1 has no label");
    expect(err.message).toContain("node-label.csv.gz line 2");
  });

  it("refuses a multi-label training node with a missing target", async () => {
    const dir = dataset({
      "raw/node-label.csv.gz": "0,1\n1,1\n0,0\n1,0\n0,1\n1,1\n".replace("0,1\n1,1", "0,\n1,1"),
    });
    const err = await loadError(dir);
    expect(err.line).toBe(1);
    expect(err.message).toContain("training node 0 has no target for task 2 of 2");
  });

  it("accepts unlabelled validation and test nodes, and leaves them out of the count", async () => {
    const dir = dataset({ "raw/node-label.csv.gz": "0\n1\nNaN\n1\n\n2\n" });
    const ds = await loadDataset(dir);
    expect(labelledCount(ds.labels, ds.split.valid)).toBe(1);
    expect(labelledCount(ds.labels, ds.split.test)).toBe(1);
    expect(labelledCount(ds.labels, ds.split.train)).toBe(2);
  });

  it("refuses an empty train split", async () => {
    const dir = dataset({ "split/public/train.csv.gz": "" });
    const err = await loadError(dir);
    expect(err.file).toBe(join(dir, "split/public/train.csv.gz"));
    expect(err.message).toMatch(/empty/);
  });

  it("refuses a synthetic graph too small to have training nodes", async () => {
    await expect(loadDataset("synthetic:1:0:2:2")).rejects.toThrow(/train split is empty/);
  });

  it("follows a split scheme that is a symbolic link", async () => {
    const dir = dataset({});
    mkdirSync(join(dir, "shared"));
    renameSync(join(dir, "split/public"), join(dir, "shared/public"));
    symlinkSync(join(dir, "shared/public"), join(dir, "split/public"));
    const ds = await loadDataset(dir);
    expect(ds.split.name).toBe("public");
    expect(Array.from(ds.split.train)).toEqual([0, 1]);
  });
});
