// examples/revgen-proteins.gnn on a miniature ogbn-proteins download (raw/edge-feat.csv.gz with 8
// features, no node features, multi-label targets, split `species`): the model binds to the
// layout as it is (its node features are computed in the model from the edge features) and a
// short run on the float64 interpreter is scored by ROC-AUC.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { loadOgbNodeDataset } from "../../runtime/data/ogb.js";
import { bindDims } from "../../driver/session.js";
import { trainInterpreted, type Progress } from "../../driver/trainer.js";
import { makeTempDir, removeDir, writeDataset } from "./helpers.js";

const root = makeTempDir();
afterAll(() => removeDir(root));
const silent: Progress = { start() {}, epoch() {}, message() {}, stop() {} };

/** n nodes on a ring with chords; 8 features per listed edge; 3 tasks. */
function miniProteins(n: number): Record<string, string> {
  const edges: string[] = [];
  const feats: string[] = [];
  for (let v = 0; v < n; v++) {
    for (const w of [(v + 1) % n, (v + 3) % n]) {
      edges.push(`${v},${w}`);
      feats.push(Array.from({ length: 8 }, (_, j) => (((v * 7 + w * 3 + j) % 10) / 10).toFixed(3)).join(","));
    }
  }
  const labels = Array.from({ length: n }, (_, v) => [v % 2, v % 3 === 0 ? 1 : 0, v % 5 < 2 ? 1 : 0].join(","));
  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${from + i}`).join("\n") + "\n";
  return {
    "raw/num-node-list.csv.gz": `${n}\n`,
    "raw/num-edge-list.csv.gz": `${edges.length}\n`,
    "raw/edge.csv.gz": edges.join("\n") + "\n",
    "raw/edge-feat.csv.gz": feats.join("\n") + "\n",
    "raw/node-label.csv.gz": labels.join("\n") + "\n",
    "split/species/train.csv.gz": ids(0, 20),
    "split/species/valid.csv.gz": ids(20, 25),
    "split/species/test.csv.gz": ids(25, n),
  };
}

describe("revgen-proteins on the ogbn-proteins layout", () => {
  it("binds e to the 8 edge features and T to the tasks, and trains scored by ROC-AUC", async () => {
    const ds = await loadOgbNodeDataset(writeDataset(join(root, "ogbn_proteins"), miniProteins(30)));
    expect(ds.numFeatures).toBe(0);
    const m = expectModel(compileFile("examples/revgen-proteins.gnn", { set: { L: "2", D: "8" } }));
    const dims = bindDims(m.train.inputs, ds);
    expect(dims).toMatchObject({ N: 30, E: 120, T: 3 });
    const r = await trainInterpreted(
      m,
      ds,
      {
        epochs: 2,
        lr: 0.01,
        optimizer: defaultOptimizer("adam", 0),
        seed: 1,
        partitions: 1,
        evalEvery: 1,
        storeActivations: false,
      },
      silent,
    );
    expect(r.metric).toBe("rocauc");
    expect(r.epochs).toHaveLength(2);
    for (const e of r.epochs) {
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.test).toBeGreaterThanOrEqual(0);
      expect(e.test).toBeLessThanOrEqual(1);
    }
  });
});
