// The `revgnn` command as a user meets it: exit codes (0, 1 for a mistake in the program or data,
// 2 for a usage error), located messages and never a stack trace for a user's mistake, the files
// `compile --emit wgsl` writes, the report `train --report` writes, and compile time flat in L.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { noStack, runCli } from "../helpers/cli.js";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { pipelineOptions } from "../../cli/compile-cmd.js";
import { compileProgram } from "../../compiler/pipeline.js";

const revgnn = (...args: string[]) => runCli(args);

describe("revgnn command", () => {
  it("a broken program: located errors, exit 1, no stack trace", () => {
    const r = revgnn("compile", "tests/broken/check/several-errors.gnn");
    expect(r.code).toBe(1);
    expect(r.err).toContain("several-errors.gnn:9:16: error: `hx` is not defined");
    expect(r.err).toContain("^^");
    expect(r.err).toContain("3 errors");
    noStack(r.err);
  });

  it("a usage error exits 2", () => {
    expect(revgnn("compile", "examples/revgcn.gnn", "--emit", "nonsense").code).toBe(2);
    expect(revgnn("train", "examples/revgcn.gnn").code).toBe(2); // --data is required
  });

  it("a malformed dataset names the file and the line; exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-data-"));
    mkdirSync(join(dir, "raw"));
    mkdirSync(join(dir, "split", "public"), { recursive: true });
    const gz = (name: string, text: string) => {
      const { gzipSync } = require("node:zlib") as typeof import("node:zlib");
      writeFileSync(join(dir, name), gzipSync(text));
    };
    gz("raw/num-node-list.csv.gz", "3\n");
    gz("raw/num-edge-list.csv.gz", "2\n");
    gz("raw/edge.csv.gz", "0,1\n1,x\n");
    gz("raw/node-feat.csv.gz", "1,0\n0,1\n1,1\n");
    gz("raw/node-label.csv.gz", "0\n1\n0\n");
    for (const s of ["train", "valid", "test"]) gz(`split/public/${s}.csv.gz`, "0\n");
    const r = revgnn("train", "examples/revgcn.gnn", "--data", dir, "--epochs", "1");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/edge\.csv\.gz:2/);
    noStack(r.err);
  });

  it("compile --emit wgsl writes every kernel and a manifest", () => {
    const out = mkdtempSync(join(tmpdir(), "revgnn-wgsl-"));
    const r = revgnn("compile", "examples/revgcn.gnn", "--emit", "wgsl", "--out", out);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    const files = readdirSync(out).filter((f) => f.endsWith(".wgsl"));
    expect(files.length).toBeGreaterThan(10);
    for (const k of [...manifest.trainingStep, ...manifest.evaluation]) {
      expect(files).toContain(k.file);
      // One parameter block: first in generated kernels, last in the tuned templates; a
      // uniform binding, or (lavapipe's target, blocks up to 64 bytes) immediates.
      const isBlock = (b: { kind: string }) => b.kind === "uniform" || b.kind === "immediate";
      expect(k.bindings.filter(isBlock).length).toBe(1);
      const block = k.bindings[k.template ? k.bindings.length - 1 : 0];
      expect(isBlock(block)).toBe(true);
      const code = readFileSync(join(out, k.file), "utf8");
      if (block.kind === "immediate") {
        expect(block.bytes).toBeLessThanOrEqual(64);
        expect(code).toContain(`var<immediate> ${block.name}:`);
      } else expect(code).toContain(`@binding(${block.binding}) var<uniform> ${block.name}:`);
      expect(typeof k.invocations).toBe("string");
      expect(code).toMatch(/^\/\/ revgnn kernel /);
      expect(code).toContain("// implements IR ops:");
    }
  });

  it("compiling L = 1000 takes under 2 s and yields the kernels of L = 2", () => {
    const kernels = (L: string) => {
      const t0 = performance.now();
      const m = expectModel(compileFile("examples/revgcn.gnn", { set: { L } }));
      const p = compileProgram(m, pipelineOptions({ set: {}, emit: "wgsl" }));
      const kinds = [...p.step.kernels, ...p.eval.kernels].map((k) => k.kind).join(",");
      return {
        ms: performance.now() - t0,
        count: p.step.kernels.length + p.eval.kernels.length,
        kinds,
      };
    };
    kernels("2"); // warm-up (prelude parse, JIT)
    const small = kernels("2");
    const big = kernels("1000");
    expect(big.ms).toBeLessThan(2000);
    expect(big.count).toBe(small.count);
    // The same kernels; only sizes of whole stacks (the optimizer's [L, …] updates) differ.
    expect(big.kinds).toBe(small.kinds);
  });

  it("train --report writes the documented keys", () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-report-"));
    const report = join(dir, "r.json");
    const r = revgnn(
      "train",
      "examples/revgcn.gnn",
      "--data",
      "data/cora",
      "--set",
      "L=2",
      "--set",
      "D=16",
      "--epochs",
      "2",
      "--report",
      report,
      "--quiet",
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(report, "utf8"));
    expect(j.result.metric).toBe("accuracy");
    for (const k of ["valid", "test", "best_epoch"]) expect(typeof j.result[k]).toBe("number");
    expect(j.timing.step_seconds_median).toBeGreaterThan(0);
    for (const c of ["parameters", "optimizer", "activations", "workspace", "graph", "total"]) {
      expect(j.memory.peak[c]).toBeGreaterThan(0);
      expect(j.memory.plan[c]).toBeGreaterThan(0);
    }
    expect(j.log).toHaveLength(2);
    expect(typeof j.adapter.description).toBe("string");
  }, 600_000);

  it("train --checkpoint-every, --exact and --drift: the report has the drift, exact rebuilds exactly", () => {
    const dir = mkdtempSync(join(tmpdir(), "revgnn-drift-"));
    const run = (name: string, ...extra: string[]) => {
      const report = join(dir, `${name}.json`);
      const r = revgnn(
        "train",
        "examples/revgcn.gnn",
        "--data",
        "synthetic:300:1500:12:4",
        "--set",
        "L=8",
        "--set",
        "D=8",
        "--epochs",
        "2",
        "--drift",
        "--report",
        report,
        "--quiet",
        ...extra,
      );
      noStack(r.err);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(readFileSync(report, "utf8"));
      // The plan is made with the run's own options (kept inputs, one kernel per op).
      for (const c of ["parameters", "optimizer", "gradients", "activations", "workspace", "graph"])
        expect(Math.abs(j.memory.peak[c] - j.memory.plan[c]), `${name}: ${c}`).toBeLessThanOrEqual(
          0.1 * j.memory.plan[c],
        );
      return j;
    };
    const kept = run("kept", "--checkpoint-every", "4");
    expect(kept.training.checkpoint_every).toBe(4);
    expect(kept.drift.max_relative_reconstruction_error).toBeGreaterThanOrEqual(0);
    expect(kept.drift.max_relative_reconstruction_error).toBeLessThan(1e-2);
    const exact = run("exact", "--exact");
    expect(exact.training.exact_bits).toBe(14);
    expect(exact.drift.max_relative_reconstruction_error).toBe(0);
    expect(exact.drift.input_relative_reconstruction_error).toBe(0);
  }, 600_000);
});
