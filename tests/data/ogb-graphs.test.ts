// The OGB graph-property layout (ogbg-*): a batch of graphs with local edge ids, graph labels and
// splits over graphs; every malformed file named with its line (and field).
import { afterEach, describe, expect, it } from "vitest";
import { loadDataset } from "../../runtime/data/load.js";
import { makeTempDir, removeDir, writeDataset } from "./helpers.js";

/** Three graphs of 3, 2 and 4 nodes (a triangle, an edge, a path), labelled 1, 0, 1. */
const GRAPHS: Record<string, string> = {
  "raw/num-node-list.csv.gz": "3\n2\n4\n",
  "raw/num-edge-list.csv.gz": "3\n1\n3\n",
  "raw/edge.csv.gz": "0,1\n1,2\n2,0\n0,1\n0,1\n1,2\n2,3\n",
  "raw/node-feat.csv.gz": "1,0\n1,1\n0,1\n2,0\n0,2\n1,0\n1,1\n0,1\n3,3\n",
  "raw/graph-label.csv.gz": "1\n0\n1\n",
  "split/scaffold/train.csv.gz": "0\n",
  "split/scaffold/valid.csv.gz": "1\n",
  "split/scaffold/test.csv.gz": "2\n",
};

let dirs: string[] = [];
afterEach(() => {
  dirs.forEach(removeDir);
  dirs = [];
});

function dataset(overrides: Record<string, string | null> = {}): string {
  const dir = makeTempDir();
  dirs.push(dir);
  return writeDataset(dir, { ...GRAPHS, ...overrides });
}

describe("OGB graph-property layout", () => {
  it("loads the graphs as one batch with contiguous nodes, labels and the split over graphs", async () => {
    const ds = await loadDataset(dataset());
    expect(ds.targets).toBe("graphs");
    expect([...ds.graph.graphPtr!]).toEqual([0, 3, 5, 9]);
    expect(ds.graph.numNodes).toBe(9);
    // Symmetrised: 7 undirected edges, 14 directed; the third graph's path is 5-6-7-8.
    expect(ds.graph.numEdges).toBe(14);
    const neighbours = (v: number) => [
      ...ds.graph.srcIdx.subarray(ds.graph.dstRowPtr[v]!, ds.graph.dstRowPtr[v + 1]!),
    ];
    expect(neighbours(6)).toEqual([5, 7]);
    expect(neighbours(3)).toEqual([4]);
    expect(ds.numFeatures).toBe(2);
    expect(ds.labels).toEqual({ kind: "single", numClasses: 2, y: Int32Array.from([1, 0, 1]) });
    expect([...ds.split.train]).toEqual([0]);
    expect([...ds.split.valid]).toEqual([1]);
    expect([...ds.split.test]).toEqual([2]);
  });

  const bad: [string, Record<string, string | null>, RegExp][] = [
    [
      "an edge id beyond its own graph",
      { "raw/edge.csv.gz": "0,1\n1,2\n2,0\n0,2\n0,1\n1,2\n2,3\n" },
      /raw\/edge\.csv\.gz:4:2: node id 2 is out of range: graph 1 has 2 nodes/,
    ],
    [
      "fewer edges than the counts add up to",
      { "raw/edge.csv.gz": "0,1\n1,2\n2,0\n0,1\n" },
      /raw\/edge\.csv\.gz: has 4 edges but raw\/num-edge-list\.csv\.gz adds up to 7/,
    ],
    [
      "a count list of another length",
      { "raw/num-edge-list.csv.gz": "3\n1\n" },
      /num-edge-list\.csv\.gz: lists 2 graphs; raw\/num-node-list\.csv\.gz lists 3/,
    ],
    [
      "a label too many",
      { "raw/graph-label.csv.gz": "1\n0\n1\n0\n" },
      /graph-label\.csv\.gz:4: has 4 rows; expected 3/,
    ],
    [
      "a fractional class",
      { "raw/graph-label.csv.gz": "1\n0.5\n1\n" },
      /graph-label\.csv\.gz:2:1: class label 0\.5/,
    ],
    [
      "a graph id out of range in the split",
      { "split/scaffold/valid.csv.gz": "1\n7\n" },
      /valid\.csv\.gz:2:1: graph id 7 is out of range: the dataset has 3 graphs/,
    ],
    [
      "a graph in two sets",
      { "split/scaffold/valid.csv.gz": "0\n" },
      /valid\.csv\.gz:1:1: graph 0 is in both the train and the valid set/,
    ],
    [
      "node features for another node count",
      { "raw/node-feat.csv.gz": "1,0\n1,1\n" },
      /node-feat\.csv\.gz: has 2 rows; expected 9/,
    ],
    ["a missing count list", { "raw/num-edge-list.csv.gz": null }, /missing file: raw\/num-edge-list/],
  ];
  for (const [what, overrides, message] of bad) {
    it(`names the file and line: ${what}`, async () => {
      await expect(loadDataset(dataset(overrides))).rejects.toThrow(message);
    });
  }
});
