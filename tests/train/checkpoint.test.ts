// Checkpoints hold a run's last good state: writing refuses non-finite tensors (and leaves the
// previous file as it was), reading refuses non-finite tensors and metadata a run never writes
// (negative or fractional counters, a log or best result that does not fit the epoch).
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evalShape } from "../../compiler/ir/dims.js";
import { loadSafetensors, saveSafetensors } from "../../runtime/checkpoint/safetensors.js";
import {
  CheckpointError,
  describeNonFinite,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointState,
} from "../../driver/checkpoint.js";
import { initParameters } from "../../driver/init.js";
import { model } from "../helpers/train.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";

const m = model("examples/revgcn.gnn", { L: "2", D: "8" });
const dims = { N: 12, E: 30, F: 4, K: 3 };
const shapes = m.train.params.map((p) => evalShape(p.shape, dims));
const sgd = defaultOptimizer("sgd", 0);
const good = (): CheckpointState => ({
  params: initParameters(m.train.params, dims, 1),
  states: [],
  epoch: 3,
  step: 3,
  log: [1, 2, 3].map((epoch) => ({ epoch, loss: 1 / epoch, seconds: 0.1 })),
  best: { valid: 0.5, test: 0.4, epoch: 2 },
  seed: 0,
  data: "synthetic",
});
const load = (path: string) => loadCheckpoint(path, m, shapes, sgd);
const dir = mkdtempSync(join(tmpdir(), "revgnn-ck-"));

/** A copy of a good checkpoint with one metadata entry or tensor changed. */
async function tampered(
  name: string,
  meta: Record<string, string>,
  tensor?: { name: string; index: number; value: number },
): Promise<string> {
  const src = join(dir, "good.safetensors");
  await saveCheckpoint(src, m, sgd, good(), shapes);
  const f = loadSafetensors(src);
  const tensors = new Map(
    [...f.tensors].map(([k, t]) => {
      const data = Float32Array.from(t.data as ArrayLike<number>);
      if (tensor?.name === k) data[tensor.index] = tensor.value;
      return [k, { shape: t.shape, data }];
    }),
  );
  const path = join(dir, `${name}.safetensors`);
  await saveSafetensors(path, tensors, { ...f.metadata, ...meta });
  return path;
}

describe("checkpoints and non-finite values", () => {
  it("describes NaN and infinite values with their count and first index", () => {
    expect(describeNonFinite(Float32Array.of(1, 2))).toBeUndefined();
    expect(describeNonFinite(Float32Array.of(1, NaN, Infinity, NaN))).toBe(
      "2 NaN and 1 infinite values of 4 (the first at index 1)",
    );
    expect(describeNonFinite([0, -Infinity])).toBe("1 infinite value of 2 (the first at index 1)");
  });

  it("a good checkpoint round-trips", async () => {
    const path = join(dir, "a.safetensors");
    await saveCheckpoint(path, m, sgd, good(), shapes);
    const ck = load(path);
    expect(ck.epoch).toBe(3);
    expect(ck.best).toEqual({ valid: 0.5, test: 0.4, epoch: 2 });
    expect(ck.log).toHaveLength(3);
  });

  it("refuses to write non-finite weights and keeps the previous file", async () => {
    const path = join(dir, "keep.safetensors");
    await saveCheckpoint(path, m, sgd, good(), shapes);
    const before = readFileSync(path);
    const bad = good();
    bad.params[1]![2] = NaN;
    await expect(saveCheckpoint(path, m, sgd, bad, shapes)).rejects.toThrow(
      new RegExp(
        `keep\\.safetensors: not written: tensor ${m.train.params[1]!.name} holds 1 NaN value`,
      ),
    );
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it("refuses to resume from non-finite weights or optimizer state", async () => {
    const w = m.train.params[0]!.name;
    const p = await tampered("nan", {}, { name: w, index: 5, value: NaN });
    expect(() => load(p)).toThrow(CheckpointError);
    expect(() => load(p)).toThrow(
      `tensor ${w} holds 1 NaN value of ${shapes[0]!.reduce((a, b) => a * b)} (the first at index 5); this checkpoint comes from a diverged run`,
    );
    const adam = defaultOptimizer("adam", 0);
    const st = good();
    st.states = [...st.params, ...st.params].map((a) => new Float32Array(a.length));
    const path = join(dir, "adam.safetensors");
    await saveCheckpoint(path, m, adam, st, shapes);
    const f = loadSafetensors(path);
    const tensors = new Map(
      [...f.tensors].map(([k, t]) => {
        const data = Float32Array.from(t.data as ArrayLike<number>);
        if (k === `optimizer.v.${w}`) data[0] = Infinity;
        return [k, { shape: t.shape, data }];
      }),
    );
    await saveSafetensors(path, tensors, f.metadata);
    expect(() => loadCheckpoint(path, m, shapes, adam)).toThrow(
      `tensor optimizer.v.${w} holds 1 infinite value`,
    );
  });

  it("refuses metadata that no run writes, in one line", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ epoch: "-1" }, 'metadata epoch is "-1", not a non-negative integer'],
      [{ epoch: "2.5" }, 'metadata epoch is "2.5", not a non-negative integer'],
      [{ step: "" }, 'metadata step is "", not a non-negative integer'],
      [{ seed: "x" }, 'metadata seed is "x", not a non-negative integer'],
      [{ log: "[{" }, "metadata log is not valid JSON"],
      [{ log: '[{"epoch": 7, "loss": 1}]' }, "metadata log is not a list of epochs 1..3"],
      [
        { best: '{"valid": 1, "test": 1, "epoch": 9}' },
        "metadata best is not {valid, test, epoch}",
      ],
      [{ optimizer: "{" }, "metadata optimizer is not valid JSON"],
    ];
    for (const [i, [meta, message]] of cases.entries()) {
      const p = await tampered(`meta${i}`, meta);
      let err: unknown;
      try {
        load(p);
      } catch (e) {
        err = e;
      }
      expect(err, message).toBeInstanceOf(CheckpointError);
      expect((err as Error).message).toContain(`${p}: ${message}`);
      expect((err as Error).message).not.toContain("\n");
    }
    // NaN metrics are written as null by JSON and are fine.
    expect(
      load(await tampered("nullbest", { best: '{"valid": null, "test": null, "epoch": 1}' })).epoch,
    ).toBe(3);
  });
});
