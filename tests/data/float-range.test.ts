// Values beyond float32's range are refused at load, with file:line:field: stored in a
// Float32Array they would silently become ±Infinity (1e39 → Infinity), and one infinite feature
// makes every weight it meets NaN — which lavapipe's max/relu then hide from the loss.

import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../runtime/data/csv.js";
import { DataError } from "../../runtime/data/errors.js";
import { loadOgbNodeDataset } from "../../runtime/data/ogb.js";
import { TINY, makeTempDir, removeDir, writeDataset } from "./helpers.js";

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");

describe("float CSV values must be finite in float32", () => {
  it("accepts the largest float32 values and tiny ones, refuses what would round to Infinity", () => {
    const t = parseCsv(bytes("3.4028234e38,-3.4028234e38\n1e-50,-1e-46\n"), {
      file: "f",
      kind: "float",
    });
    expect(Array.from(t.data).every(Number.isFinite)).toBe(true);
    for (const [text, field] of [
      ["1,1e39", 2],
      ["-3.5e38,0", 1],
      ["1,1e400", 2], // already Infinity as a double
      ["0,3.4028236e38", 2], // finite as a double, rounds up to Infinity in float32
    ] as const) {
      const err = (() => {
        try {
          parseCsv(bytes(`0,0\n${text}\n`), {
            file: "f.csv",
            kind: "float",
            what: "feature value",
          });
        } catch (e) {
          return e;
        }
      })();
      expect(err, text).toBeInstanceOf(DataError);
      expect((err as DataError).line).toBe(2);
      expect((err as DataError).field).toBe(field);
      expect((err as DataError).message).toMatch(
        /^f\.csv:2:\d: feature value \S+ is beyond float32's range .*Infinity; rescale the data$/,
      );
    }
  });
});

describe("the OGB loader refuses non-finite features with file:line", () => {
  const root = makeTempDir();
  afterAll(() => removeDir(root));

  it("node features", async () => {
    const dir = writeDataset(join(root, "node"), {
      ...TINY,
      "raw/node-feat.csv.gz": "1,0,1\n0,0,1\n2,1,1\n0,1e39,0\n1,1,0\n0,3,0\n",
    });
    await expect(loadOgbNodeDataset(dir)).rejects.toThrow(
      `${join(dir, "raw/node-feat.csv.gz")}:4:2: feature value 1e39 is beyond float32's range`,
    );
  });

  it("edge features", async () => {
    const dir = writeDataset(join(root, "edge"), {
      ...TINY,
      "raw/edge-feat.csv.gz": "0.5\n1\n-4e40\n0\n1\n",
    });
    await expect(loadOgbNodeDataset(dir)).rejects.toThrow(
      `${join(dir, "raw/edge-feat.csv.gz")}:3:1: edge feature value -4e40 is beyond float32's range (±3.4e38) and would become -Infinity`,
    );
  });
});
