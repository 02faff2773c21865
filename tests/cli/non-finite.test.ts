// NaN and Inf never pass silently, through the command as a user meets it: a diverging run stops
// with the tensor, the epoch and what to try, exit 1, keeping its last good checkpoint; exact
// mode's range is checked before training and by `check` (exit 1 when exceeded); a feature beyond
// float32 is refused at load with file:line; --resume refuses non-finite weights and bad metadata
// in one line; and exact mode reports how much its grid changes the model.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { noStack, runCli } from "../helpers/cli.js";
import { loadSafetensors, saveSafetensors } from "../../runtime/checkpoint/safetensors.js";

const revgnn = (...args: string[]) => runCli(args);

const tiny = ["--data", "synthetic:12:30:4:3", "--set", "L=2", "--set", "D=8"];
const dir = mkdtempSync(join(tmpdir(), "revgnn-nonfinite-cli-"));
/** Error lines (Dawn's adapter warnings aside). */
const errors = (err: string) => err.split("\n").filter((l) => /^error: /.test(l));

describe("non-finite values through the CLI", () => {
  it("a diverging SGD run stops at the bad update, exit 1, keeping the last good checkpoint", () => {
    const save = join(dir, "sgd.safetensors");
    const report = join(dir, "sgd.json");
    const r = revgnn(
      "train",
      "examples/revgcn.gnn",
      ...tiny,
      "--optimizer",
      "sgd",
      "--lr",
      "1e30",
      "--epochs",
      "4",
      "--save",
      save,
      "--report",
      report,
    );
    noStack(r.err);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(
      /the update of epoch 2 \(optimizer step 2\) left non-finite values in W_in \(32 NaN of 32 values\), and \d+ more tensors .*stopping \(the last good checkpoint, of epoch 1, is kept in .*sgd\.safetensors\)\. Try a smaller --lr\./,
    );
    expect(r.out).toMatch(/^stopped: /);
    const ck = loadSafetensors(save);
    expect(ck.metadata.epoch).toBe("1");
    for (const [name, t] of ck.tensors) expect([...t.data].every(Number.isFinite), name).toBe(true);
    expect(JSON.parse(readFileSync(report, "utf8")).result.stopped).toBe("non-finite parameters");

    // --resume refuses the same checkpoint with one NaN weight, or a negative epoch: one line each.
    const f = loadSafetensors(save);
    const tamper = async (name: string, meta: Record<string, string>, nan: boolean) => {
      const tensors = new Map(
        [...f.tensors].map(([k, t]) => {
          const data = Float32Array.from(t.data as ArrayLike<number>);
          if (nan && k === "b_out") data[1] = NaN;
          return [k, { shape: t.shape, data }];
        }),
      );
      const path = join(dir, name);
      await saveSafetensors(path, tensors, { ...f.metadata, ...meta });
      return path;
    };
    return Promise.all([
      tamper("nan.safetensors", {}, true),
      tamper("neg.safetensors", { epoch: "-3" }, false),
    ]).then(([nan, neg]) => {
      for (const [path, message] of [
        [nan, "tensor b_out holds 1 NaN value of 3 (the first at index 1)"],
        [neg, 'metadata epoch is "-3", not a non-negative integer'],
      ] as const) {
        const res = revgnn(
          "train",
          "examples/revgcn.gnn",
          ...tiny,
          "--optimizer",
          "sgd",
          "--epochs",
          "4",
          "--resume",
          path,
        );
        noStack(res.err);
        expect(res.code, res.err).toBe(1);
        expect(errors(res.err)).toHaveLength(1);
        expect(errors(res.err)[0]).toContain(`${path}: ${message}`);
      }
    });
  }, 600_000);

  it("exact mode beyond its range: train refuses before training, check exits 1", () => {
    const save = join(dir, "exact23.safetensors");
    const t = revgnn("train", "examples/revgcn.gnn", ...tiny, "--exact", "23", "--save", save);
    noStack(t.err);
    expect(t.code, t.err).toBe(1);
    expect(t.err).toMatch(/error: the state reaches \S+, beyond the range ±2 of the 2\^-23 grid/);
    expect(t.err).not.toMatch(/^training epochs/m);
    expect(existsSync(save)).toBe(false);

    const c = revgnn("check", "examples/revgcn.gnn", ...tiny, "--exact", "23");
    noStack(c.err);
    expect(c.code, c.err).toBe(1);
    expect(c.out).toContain("EXCEEDED");
    expect(c.err).toContain("error: the state leaves the range ±2 of the 2^-23 grid");

    const ok = revgnn("check", "examples/revgcn.gnn", ...tiny, "--exact", "14");
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain("(bit-exact)");
    expect(ok.err).toMatch(
      /exact mode: 2\^-14 grid, range ±1024; at the initial weights the state reaches/,
    );
  }, 600_000);

  it("exact mode says how much its grid changes the model, and warns when it is too coarse", () => {
    const report = join(dir, "exact8.json");
    const r = revgnn(
      "train",
      "examples/revgcn.gnn",
      ...tiny,
      "--exact",
      "8",
      "--epochs",
      "1",
      "--report",
      report,
      "--quiet",
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /warning: the 2\^-8 grid changes the model's output by \S+ \(relative; warning above 0\.0001\)/,
    );
    const j = JSON.parse(readFileSync(report, "utf8"));
    expect(j.exact.bits).toBe(8);
    expect(j.exact.range_exceeded).toBe(false);
    expect(j.exact.output_relative_change).toBeGreaterThan(1e-4);
    expect(j.exact.warnings).toHaveLength(1);
  }, 600_000);

  it("a feature value beyond float32 is refused at load with file:line, exit 1", () => {
    const data = join(dir, "inf-data");
    const gz = (name: string, text: string) => {
      mkdirSync(join(data, name, ".."), { recursive: true });
      writeFileSync(join(data, name), gzipSync(text));
    };
    gz("raw/num-node-list.csv.gz", "3\n");
    gz("raw/num-edge-list.csv.gz", "2\n");
    gz("raw/edge.csv.gz", "0,1\n1,2\n");
    gz("raw/node-feat.csv.gz", "1,0\n0,1\n1,1e39\n");
    gz("raw/node-label.csv.gz", "0\n1\n0\n");
    for (const s of ["train", "valid", "test"]) gz(`split/public/${s}.csv.gz`, "0\n");
    const r = revgnn("train", "examples/revgcn.gnn", "--data", data, "--epochs", "1");
    noStack(r.err);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toContain(
      `${join(data, "raw/node-feat.csv.gz")}:3:2: feature value 1e39 is beyond float32's range (±3.4e38) and would become Infinity`,
    );
  }, 600_000);
});
