// The parts of the PyTorch cross-check (`npm run crosscheck`) that need neither python nor a GPU:
// the relative error and its verdict, reading a gradient back from an SGD step, the tables, and
// what is exported for the twin. The cross-check itself is not run here.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { numElements } from "../../compiler/ir/dims.js";
import {
  FLOAT32_ROUNDOFF,
  agrees,
  compareTensors,
  crosscheckMarkdown,
  gradientFromStep,
  markdownSummaryTable,
  relativeError,
  textTable,
  worstTensor,
} from "../../bench/lib/gradcheck.js";
import { projectRoot } from "../../bench/lib/paths.js";
import { exportGraph, paramSpecs, writeParams } from "../../bench/lib/torch-export.js";
import {
  CORA_EMPTY_ROWS,
  crosscheckDataset,
  crosscheckModel,
} from "../../bench/sections/crosscheck.js";
import type { CrosscheckRow, CrosscheckSection } from "../../bench/types.js";
import { DEGENERATE_CASES, degenerateDataset } from "../../runtime/data/degenerate.js";
import { Rng } from "../../runtime/data/rng.js";
import { initParameters } from "../../driver/init.js";
import { bindDims } from "../../driver/session.js";
import { CROSSCHECK_DATASETS } from "../../bench/config.js";

const root = projectRoot();

describe("relativeError", () => {
  it("is max |a − b| over max |b|, not elementwise", () => {
    // An entry that is tiny in the reference does not blow the error up.
    const r = relativeError([1e-9, 2, -4], [0, 2, -3]);
    expect(r.maxAbsDiff).toBe(1);
    expect(r.maxRef).toBe(3);
    expect(r.error).toBeCloseTo(1 / 3, 15);
  });

  it("handles all-zero references and NaN", () => {
    expect(relativeError([0, 0], [0, 0]).error).toBe(0);
    expect(relativeError([0, 1e-30], [0, 0]).error).toBe(Infinity);
    expect(relativeError([NaN, 1], [1, 1]).error).toBeNaN();
    expect(() => relativeError([1], [1, 2])).toThrow(/1 values against 2/);
  });
});

describe("gradientFromStep", () => {
  /** What the SGD step computes on the GPU: p1 = fl(p0 − lr·g), one float32 rounding. */
  const step = (p0: Float32Array, g: Float32Array, lr: number) =>
    p0.map((p, i) => Math.fround(p - lr * g[i]!));

  it("recovers the gradient to within its floor, and a large lr lowers the floor", () => {
    const rng = new Rng(3);
    const n = 500;
    // Values of order 1 (a LayerNorm gain), gradients of order 1e-5: lr = 1 loses digits.
    const p0 = Float32Array.from({ length: n }, () => 1 + 0.1 * rng.normal());
    const g = Float32Array.from({ length: n }, () => 1e-5 * rng.normal());
    const maxG = Math.max(...Array.from(g, Math.abs));
    const errorAt = (lr: number) => {
      const { grad, floor } = gradientFromStep(p0, step(p0, g, lr), lr);
      const err = relativeError(grad, g).maxAbsDiff;
      expect(err).toBeLessThanOrEqual(floor);
      return { rel: err / maxG, floor: floor / maxG };
    };
    const one = errorAt(1);
    const big = errorAt(2 ** 20);
    expect(one.floor).toBeGreaterThan(1e-3);
    expect(one.rel).toBeGreaterThan(1e-4);
    expect(big.floor).toBeLessThan(4 * FLOAT32_ROUNDOFF);
    expect(big.rel).toBeLessThan(4 * FLOAT32_ROUNDOFF);
  });
});

const row = (
  schedule: CrosscheckRow["schedule"],
  errors: number[],
  dataset = "hub",
): CrosscheckRow => ({
  model: "RevGCN",
  dataset,
  schedule,
  loss: { got: 1, ref: 1, error: 1e-8 },
  tensors: compareTensors(
    ["W_in", "b_in"],
    errors.map((e) => [1 + e]),
    errors.map(() => [1]),
    [1e-8, 1e-8],
  ),
});

describe("verdicts and tables", () => {
  it("takes the worst tensor, and NaN never agrees", () => {
    const r = row("reversible", [1e-7, 3e-2]);
    expect(worstTensor(r.tensors)?.tensor).toBe("b_in");
    expect(r.tensors[1]!.error).toBeCloseTo(3e-2, 10);
    expect(r.tensors[0]!.floor).toBe(1e-8);
    expect(agrees(r, 1e-4)).toBe(false);
    expect(agrees(row("stored", [1e-7, 2e-7]), 1e-4)).toBe(true);
    const nan = row("stored", [1e-7, NaN]);
    expect(worstTensor(nan.tensors)?.tensor).toBe("b_in");
    expect(agrees(nan, 1e-4)).toBe(false);
    expect(agrees({ ...row("stored", [0, 0]), loss: { got: 2, ref: 1, error: 1 } }, 1e-4)).toBe(
      false,
    );
  });

  const section: CrosscheckSection = {
    available: true,
    note: "canned.",
    torch: "1.13",
    threshold: 1e-4,
    seed: 0,
    lr: 2 ** 20,
    models: [],
    datasets: [],
    rows: [
      row("reversible", [1e-7, 3e-2]),
      row("stored", [1e-7, 2e-7]),
      row("torch-autograd-f32", [2e-7, 1e-7]),
    ],
    failures: [{ model: "ResGCN", dataset: "hub", reason: "python exit 1: boom" }],
    seconds: 1,
  };

  it("prints every tensor and a verdict per row group", () => {
    const text = textTable(section);
    expect(text).toMatch(
      /RevGCN on hub, revgnn, reversible \(default\): DIFFERS \(worst 3\.0e-2 in b_in/,
    );
    expect(text).toMatch(/RevGCN on hub, revgnn, --store-activations: agrees/);
    expect(text.split("\n").filter((l) => /\bW_in\b/.test(l) && !l.includes("=>"))).toHaveLength(3);
  });

  it("renders markdown: worst per schedule, over-threshold in bold, failures listed", () => {
    const summary = markdownSummaryTable(section).join("\n");
    expect(summary).toContain(
      "| RevGCN | hub | **3.0e-2 `b_in`** | 2.0e-7 `b_in` | 2.0e-7 `W_in` |",
    );
    expect(summary).not.toContain("RevStack"); // no column for a schedule that did not run
    const md = crosscheckMarkdown(section).join("\n");
    expect(md).toContain("ResGCN on hub: python exit 1: boom");
    expect(md).toContain("| RevGCN | hub | `b_in` | **3.0e-2** | 2.0e-7 | 1.0e-7 |");
    expect(crosscheckMarkdown({ ...section, available: false, note: "no torch" })).toContain(
      "Not run: no torch",
    );
  });
});

describe("export for the PyTorch twin", () => {
  it("writes the graph as loaded and the parameters in spec order", () => {
    const dir = mkdtempSync(join(tmpdir(), "crosscheck-test-"));
    try {
      const ds = degenerateDataset("all");
      const meta = exportGraph(dir, ds);
      expect(meta).toEqual({ nodes: 40, edges: ds.graph.numEdges, features: 12, classes: 3 });
      const size = (f: string) => statSync(join(dir, f)).size;
      expect(size("rowptr.bin")).toBe(4 * 41);
      expect(size("srcidx.bin")).toBe(4 * ds.graph.numEdges);
      expect(size("features.bin")).toBe(4 * 40 * 12);
      expect(size("labels.bin")).toBe(4 * 40);
      expect(size("train.bin")).toBe(4 * ds.split.train.length);
      expect(JSON.parse(readFileSync(join(dir, "graph.json"), "utf8"))).toEqual(meta);

      const model = crosscheckModel(root, "RevGCN");
      expect(model.train.hypers.p).toBe(0);
      const dims = bindDims(model.train.inputs, ds);
      const specs = paramSpecs(model, dims);
      const values = initParameters(model.train.params, dims, 0);
      writeParams(join(dir, "params.bin"), values);
      const total = specs.reduce((s, p) => s + numElements(p.shape), 0);
      expect(size("params.bin")).toBe(4 * total);
      const w = specs.find((p) => p.name === "blocks.group1.gcn_conv.W")!;
      expect(w).toEqual({ name: "blocks.group1.gcn_conv.W", shape: [3, 32, 32], stacked: true });
      expect(specs.find((p) => p.name === "W_in")).toEqual({
        name: "W_in",
        shape: [12, 64],
        stacked: false,
      });
      // The bytes are the values, back to back.
      const raw = readFileSync(join(dir, "params.bin"));
      const back = new Float32Array(raw.buffer, raw.byteOffset, total);
      expect(Array.from(back.subarray(0, values[0]!.length))).toEqual(Array.from(values[0]!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("covers Cora, issue 9's empty Cora rows and every degenerate graph", async () => {
    expect(CROSSCHECK_DATASETS).toEqual(["cora", "cora-empty-rows", ...DEGENERATE_CASES]);
    if (!existsSync(join(root, "data", "cora"))) return;
    const cora = await crosscheckDataset(root, "cora");
    const empty = await crosscheckDataset(root, "cora-empty-rows");
    const f = cora.numFeatures;
    const zeroRows: number[] = [];
    let changed = 0;
    for (let v = 0; v < cora.graph.numNodes; v++) {
      const a = empty.features.subarray(v * f, (v + 1) * f);
      if (a.every((x) => x === 0)) zeroRows.push(v);
      if (a.some((x, j) => x !== cora.features[v * f + j])) changed++;
    }
    const want = Array.from(
      { length: CORA_EMPTY_ROWS.to - CORA_EMPTY_ROWS.from + 1 },
      (_, i) => CORA_EMPTY_ROWS.from + i,
    );
    expect(zeroRows).toEqual(want);
    expect(changed).toBe(want.length);
    expect(empty.graph.srcIdx).toEqual(cora.graph.srcIdx);
  });
});
