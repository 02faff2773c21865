// Parameter blocks as immediates (compiler/codegen/params-placement.ts): a block that fits the
// target's immediate bytes becomes `var<immediate>` with no binding, one that does not stays a
// uniform binding, and a program computes the same on lavapipe either way.
import { describe, expect, it } from "vitest";
import { placeParams } from "../../compiler/codegen/params-placement.js";
import { KernelBuilder, gridOf } from "../../compiler/codegen/kernel-builder.js";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { compileProgram } from "../../compiler/pipeline.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { immediateBytesFor, nominalTarget } from "../../compiler/target.js";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { graphView, interpret } from "../../compiler/ir/interp.js";
import { randomCsr, randomTensor, rng } from "../../compiler/gradcheck/random.js";
import type { KernelSpec } from "../../compiler/contract.js";
import type { Value } from "../../compiler/ir/types.js";
import { gpu, runOnGpu } from "../helpers/gpu.js";

/** A generated kernel whose parameter block has `words` words. */
function kernelWithParams(words: number): KernelSpec {
  const kb = new KernelBuilder("map");
  const dims = Array.from({ length: words }, (_, i) => kb.dim(`S${i}`));
  return kb.finish("k1_test", `  let x = ${dims.join(" + ")};`, 64, [], gridOf(["N"]));
}

describe("parameter placement", () => {
  it("moves a block that fits into immediates, and only the declaration changes", () => {
    const spec = kernelWithParams(16);
    const placed = placeParams(spec, 64);
    expect(placed.bindings[0]).toEqual({ name: "P", kind: "immediate", words: 16 });
    expect(placed.code).toContain("var<immediate> P: Params;");
    expect(placed.code).not.toContain("var<uniform>");
    expect(placed.code.replace("var<immediate> P: Params;", "")).toBe(
      spec.code.replace("@group(0) @binding(0) var<uniform> P: Params;", ""),
    );
  });

  it("keeps a block too large for the immediates, and everything where there are none", () => {
    const big = kernelWithParams(17);
    expect(placeParams(big, 64)).toBe(big);
    const small = kernelWithParams(2);
    expect(placeParams(small, 0)).toBe(small);
  });

  it("the CPU target's program: most kernels take immediates, templates padded to 16 bytes", () => {
    const model = expectModel(compileFile("examples/revgcn.gnn", { set: { L: "2", D: "8" } }));
    const programs = compileProgram(model, {
      optimizer: defaultOptimizer("adam", 0),
      target: nominalTarget("cpu"),
    });
    const kernels = programs.step.kernels;
    const immediate = kernels.filter((k) => k.bindings.some((b) => b.kind === "immediate"));
    expect(immediate.length).toBeGreaterThan(kernels.length / 2);
    for (const k of immediate) {
      const words = k.bindings.find((b) => b.kind === "immediate")!.words!;
      expect(words * 4).toBeLessThanOrEqual(64);
      if (k.custom) expect(words % 4).toBe(0);
    }
    const gpu = compileProgram(model, {
      optimizer: defaultOptimizer("adam", 0),
      target: nominalTarget("gpu"),
    });
    expect(gpu.step.kernels.some((k) => k.bindings.some((b) => b.kind === "immediate"))).toBe(
      false,
    );
  });

  it("a GCN layer computes the same with immediates and with uniforms", async () => {
    const N = 9;
    const g = newGraph("layer", [
      ["N", 6],
      [6, 5],
    ]);
    const [x, W] = g.inputs as [Value, Value];
    const b = new Builder(g);
    const h = b.op("matmul", [x, W], { transA: false, transB: false });
    const msg = b.op("gather", [b.unary("relu", h)], { side: "src", loops: true });
    g.outputs = [b.op("segment_sum", [msg], { by: "dst", loops: true })];
    const csr = randomCsr(N, 20, rng(7));
    const inputs = [randomTensor([N, 6], rng(1)), randomTensor([6, 5], rng(2))];
    const [want] = interpret(g, inputs, { dims: { N, E: 20 }, graph: graphView(csr) });
    // lavapipe offers 64 bytes of immediates, and its tuning asks for them.
    const ctx = await gpu();
    expect(immediateBytesFor(ctx.tuning, ctx.limits)).toBe(64);
    const viaImmediates = await runOnGpu(g, inputs, { N }, csr);
    const viaUniforms = await runOnGpu(g, inputs, { N }, csr, { immediateBytes: 0 });
    expect(Array.from(viaImmediates.outputs[0]!)).toEqual(Array.from(viaUniforms.outputs[0]!));
    viaImmediates.outputs[0]!.forEach((v, i) => expect(v).toBeCloseTo(want!.data[i]!, 4));
  });
});
