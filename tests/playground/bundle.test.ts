// The Cora the page trains on is the Node loader's, array for array: the bundle the build writes
// decodes to the same graph, features, labels and split.
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/load.js";
import { decodeDatasetBundle, encodeDatasetBundle } from "../../playground/src/dataset-bundle.js";

const concat = (chunks: Uint8Array[]) => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
};

/** Same type and bytes (vitest's deep equality walks 3.9M floats one by one: minutes). */
const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  a.constructor === b.constructor &&
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;

describe("the page's Cora bundle", () => {
  it("decodes to the arrays the Node loader makes, and is compact", async () => {
    const cora = await loadDataset("data/cora");
    const bytes = concat(encodeDatasetBundle(cora));
    expect(bytes.length).toBeLessThan(1_000_000); // sparse features: not 15.5 MB dense
    const back = decodeDatasetBundle(bytes);
    const g = cora.graph;
    expect([back.graph.numNodes, back.graph.numEdges]).toEqual([g.numNodes, g.numEdges]);
    for (const k of ["dstRowPtr", "srcIdx", "srcColPtr", "dstIdx", "cscToCsr", "inDegree"] as const)
      expect(same(back.graph[k], g[k]), k).toBe(true);
    expect(same(back.features, cora.features)).toBe(true);
    expect(back.labels.kind).toBe("single");
    expect(same(back.labels.y, cora.labels.y)).toBe(true);
    expect(back.split.name).toBe(cora.split.name);
    for (const k of ["train", "valid", "test"] as const)
      expect(same(back.split[k], cora.split[k]), k).toBe(true);
    expect(back.numFeatures).toBe(cora.numFeatures);
    expect(back.featureNormalization).toBe(cora.featureNormalization);
  });
});
