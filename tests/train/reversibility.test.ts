// Exact reversibility and drift controls on the GPU:
//  - exact mode rebuilds every block's input bit for bit over 1000 blocks;
//  - in float32 mode, the backward's recomputation of a statement's function is bitwise identical
//    to the forward evaluation (same kernels, deterministic reductions, no atomics);
//  - `--checkpoint-every k` gives the stored-activation gradients (1e-10, float64) and restarts
//    rebuilding from exact values every k blocks.
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { segmentReversibleScans } from "../../compiler/checkpointing.js";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { Builder } from "../../compiler/ir/builder.js";
import { inlineGraph } from "../../compiler/ir/inline.js";
import { interpret } from "../../compiler/ir/interp.js";
import { revStatements } from "../../compiler/ir/ops/control.js";
import { maxAbsDiff, tensor } from "../../compiler/ir/tensor.js";
import { Graph, Value, tensorType } from "../../compiler/ir/types.js";
import { reverseRevBlock } from "../../compiler/inverse/rev-backward.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import { runOnce } from "../../driver/run-once.js";
import { measureDrift } from "../../driver/check.js";
import { initParameters } from "../../driver/init.js";
import { bindDims } from "../../driver/session.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import { gpu } from "../helpers/gpu.js";
import { randomModelCase } from "../helpers/model.js";

const tiny = syntheticDataset(60, 150, 6, 3, 9);

describe("exact reversibility", () => {
  it("exact mode rebuilds the input of every one of 1000 blocks bit for bit", async () => {
    const model = expectModel(
      compileFile("examples/revgcn.gnn", { set: { L: "1000", D: "8" }, exact: { bits: 12 } }),
    );
    const params = initParameters(model.train.params, bindDims(model.train.inputs, tiny), 4);
    const backend = new GpuBackend(await gpu());
    const [loop] = await measureDrift(backend, model, tiny, params, { seed: 4, perOp: true });
    expect(loop!.blocks).toBe(1000);
    expect(loop!.differing.every((d) => d === 0)).toBe(true);
    expect(Math.max(...loop!.largest)).toBeLessThan(2 ** 12);
  }, 600_000);

  it("float32 mode: the backward's recomputation equals the forward evaluation bit for bit", async () => {
    // One RevGCN block: the forward statements evaluated as the forward pass does, and the
    // backward's reversed walk over the same block — in one program, through different kernels.
    const model = expectModel(
      compileFile("examples/revgcn.gnn", { set: { L: "1", D: "9", C: "3" } }),
    );
    const scan = model.train.graph.ops.find((o) => o.opcode === "scan")!;
    const block = scan.regions[0]!.ops.find((o) => o.opcode === "rev_block")!;
    const ins = block.inputs.map((v) => new Value(tensorType(v.shape), v.hint));
    const g = new Graph("recompute", ins);
    const b = new Builder(g);
    const numVars = block.attrs.numVars as number;
    const vars = ins.slice(0, numVars);
    const consts = ins.slice(numVars);
    const forwardG: Value[] = [];
    revStatements(block.attrs).forEach((s, k) => {
      const [value] = inlineGraph(b, block.regions[k]!, [
        ...s.reads.map((r) => vars[r]!),
        ...consts,
      ]);
      forwardG.push(value!);
      vars[s.target] = b.op(s.combine, [vars[s.target]!, value!]);
    });
    const recomputed: Value[] = [];
    reverseRevBlock(
      b,
      block,
      vars,
      consts,
      vars.map((v) => b.fill(0.5, v.shape)),
      recomputed,
    );
    g.outputs = [...forwardG, ...recomputed];
    const dims = bindDims(model.train.inputs, tiny);
    const inputs = g.inputs.map((v) => {
      const n = v.shape.reduce<number>((a, d) => a * (typeof d === "number" ? d : dims[d]!), 1);
      return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + n) * 0.8);
    });
    const out = await runOnce(new GpuBackend(await gpu()), g, inputs, dims, tiny.graph, {
      seed: 1,
      step: 1,
    });
    // Walking back, statement k ≥ 2 reads x_{k−1} after its own update — an exact, unrebuilt
    // value — so its recomputation sees the forward's input bits and must give the forward's
    // output bits. (Statement 1 reads the rebuilt x_2…x_C, whose float32 rounding is the drift
    // that `check` measures, not a difference of recomputation.)
    const half = forwardG.length;
    expect(half).toBe(3);
    for (let k = 1; k < half; k++) {
      const a = Buffer.from(out.outputs[k]!.buffer);
      const r = Buffer.from(out.outputs[half + k]!.buffer);
      expect(a.equals(r), `statement ${k + 1}`).toBe(true);
    }
  });
});

describe("checkpointing every k blocks", () => {
  it("segmented reversible gradients equal stored-activation gradients (float64, 1e-10)", () => {
    const model = expectModel(
      compileFile("examples/revgcn.gnn", { set: { L: "12", D: "8" } }),
    ).train;
    const c = randomModelCase(model, 5);
    const lossOnly = (x: Graph) => ({ ...x, outputs: [x.outputs[0]!] }) as Graph;
    const wrt = model.params.map((_, i) => c.numData + i);
    const seg = segmentReversibleScans(model.graph, 4);
    expect(seg.ops.filter((o) => o.opcode === "scan")[0]!.attrs.count).toBe(3);
    const opts = { dims: c.dims, graph: c.graph, seed: 1, step: 1 };
    const a = interpret(vjpGraph(lossOnly(seg), wrt), [...c.inputs, tensor([], [1])], opts);
    const s = interpret(
      vjpGraph(lossOnly(model.graph), wrt, { scanPolicy: "store" }),
      [...c.inputs, tensor([], [1])],
      opts,
    );
    a.forEach((t, i) => expect(maxAbsDiff(t, s[i]!)).toBeLessThan(1e-10));
  });

  it("rebuilding restarts from the kept inputs: drift at a checkpoint is that of one segment", async () => {
    const model = expectModel(compileFile("examples/revgcn.gnn", { set: { L: "40", D: "8" } }));
    const params = initParameters(model.train.params, bindDims(model.train.inputs, tiny), 6);
    const backend = new GpuBackend(await gpu());
    const [plain] = await measureDrift(backend, model, tiny, params, { seed: 6 });
    const [kept] = await measureDrift(backend, model, tiny, params, {
      seed: 6,
      checkpointEvery: 10,
    });
    // The last block of each segment is rebuilt from its true output, as in the first segment.
    for (const l of [9, 19, 29])
      expect(kept!.relativeError[l]!).toBeLessThanOrEqual(kept!.relativeError[39]! * 10 + 1e-6);
    expect(Math.max(...kept!.relativeError)).toBeLessThanOrEqual(
      Math.max(...plain!.relativeError) + 1e-7,
    );
  }, 300_000);
});
