// Golden baselines of what the compiler emits: the IR of a model, its derived backward and
// inverse, and the WGSL of its evaluation kernels. A change to any pass shows up here as a
// readable diff of the emitted text; accept an intended change with `npx vitest run -u`.
// (In CI, vitest never writes snapshots: a missing or different baseline fails.)
import { describe, expect, it } from "vitest";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { printGraph } from "../../compiler/ir/print.js";
import { backwardGraph, inverseGraphs } from "../../compiler/emit.js";
import { compileProgram } from "../../compiler/pipeline.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { nominalTarget } from "../../compiler/target.js";

const models = [
  { file: "examples/revgcn.gnn", set: { L: "2", D: "8" } },
  { file: "examples/affine-coupling.gnn", set: {} },
];

describe.each(models)("$file", ({ file, set }) => {
  const name = file.replace(/^examples\/|\.gnn$/g, "");
  const model = expectModel(compileFile(file, { set }));

  it("forward IR", async () => {
    await expect(printGraph(model.train.graph)).toMatchFileSnapshot(`../golden/${name}.ir`);
  });

  it("derived backward IR", async () => {
    await expect(printGraph(backwardGraph(model))).toMatchFileSnapshot(
      `../golden/${name}.backward.ir`,
    );
  });

  it("derived inverse IR", async () => {
    const text = inverseGraphs(model)
      .map((i) => `// inverse of ${i.label}\n${printGraph(i.graph)}`)
      .join("\n");
    expect(text).not.toBe("");
    await expect(text).toMatchFileSnapshot(`../golden/${name}.inverse.ir`);
  });

  it("WGSL of the evaluation kernels, deterministic", async () => {
    // Portable kernels (no adapter tuning): the baseline reads the same on every machine.
    const portable = {
      optimizer: defaultOptimizer("adam", 0),
      storeActivations: false,
      target: {},
    };
    const wgsl = (p = compileProgram(model, portable).eval) =>
      p.kernels.map((k) => `// ==== ${k.name}\n${k.code}`).join("\n");
    const text = wgsl();
    // Names and text do not depend on anything but the program (no counters leak across runs).
    expect(wgsl()).toBe(text);
    await expect(text).toMatchFileSnapshot(`../golden/${name}.eval.wgsl`);
  });
});

describe("kernels tuned for a CPU driver (lavapipe)", () => {
  const model = expectModel(compileFile("examples/revgcn.gnn", { set: { L: "2", D: "32" } }));
  const step = compileProgram(model, {
    optimizer: defaultOptimizer("adam", 0),
    storeActivations: false,
    target: nominalTarget("cpu"),
  }).step;

  it("graph aggregations compute four columns per invocation, sharing the per-edge work", async () => {
    const segments = step.kernels.filter((k) => /^k\d+_sum_by_(dst|src)/.test(k.name));
    expect(segments.length).toBeGreaterThan(0);
    for (const k of segments) expect(k.code).toContain("let col = (idx % ");
    await expect(
      segments.map((k) => `// ==== ${k.name}\n${k.code}`).join("\n"),
    ).toMatchFileSnapshot("../golden/revgcn.cpu-aggregations.wgsl");
  });

  it("weight gradients Xᵀ·dY narrow the workgroup to the rows they have", () => {
    const sizes = step.kernels
      .filter((k) => k.code.includes("template: matmul_tn_subgroup\n"))
      .map((k) => Number(/@workgroup_size\((\d+)\)/.exec(k.code)![1]));
    // W_in's gradient (M = F = 1433 rows) keeps the tuning's 32 invocations; the blocks' weights
    // (M = 16 or 32 rows at 4 per invocation) need one subgroup of 8.
    expect(new Set(sizes)).toEqual(new Set([8, 32]));
  });
});
