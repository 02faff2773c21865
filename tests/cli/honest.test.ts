// Nothing silent (issue 13): a loop that keeps its activations is announced, located, and refused
// under --require-reversible; rebuilt inputs that drift are warned about; DEQ solves are shown;
// and `--backend interpreter` trains and checks with the float64 reference interpreter, agreeing
// with the GPU to float32 precision.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { noStack, runCli } from "../helpers/cli.js";

const revgnn = (...args: string[]) => runCli(args);
const dir = mkdtempSync(join(tmpdir(), "revgnn-honest-"));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

// Jumping knowledge summed into a carried variable: not a reversible update.
const jk = write(
  "jk.gnn",
  `model JkSum(x: [N, F], y: labels[N, K]; D: int = 8, L: int = 3) {
  param W_in: [F, D] = glorot
  param W_out: [D, K] = glorot
  var h = x @ W_in
  var jk = zeros_like(h)
  repeat L as blocks {
    h = reversible groups 2 gcn_group(p = 0.0) (h)
    jk += h
  }
  loss cross_entropy(jk @ W_out, y)
}
`,
);

// Weight-tied linear couplings without normalisation: the forward map's condition number grows
// geometrically with depth, so rebuilding the first block's input in float32 drifts (float64:
// 8.6e-3 at L = 24, ~1e-10 at L = 12; float32 at L = 12: far over 1e-3).
const drifty = write(
  "drifty.gnn",
  `layer shear(x1: [N, d], x2: [N, d]) reversible {
  x2 += gcn_conv(x1)
  x1 += gcn_conv(x2)
}

model Drifty(x: [N, F], y: labels[N, K]; D: int = 16, L: int = 12) {
  param W_in: [F, D] = glorot
  param W_out: [D, K] = glorot
  var h = x @ W_in
  repeat L shared as blocks {
    let (a, b) = split(h, 2)
    let (a2, b2) = shear(a, b)
    h = concat(a2, b2)
  }
  loss cross_entropy(layer_norm(h) @ W_out, y)
}
`,
);

const tiny = "synthetic:200:800:16:4";
const report = (name: string) => join(dir, `${name}.json`);
const readReport = (name: string) => JSON.parse(readFileSync(report(name), "utf8"));

describe("loops that keep their activations", () => {
  const located =
    /jk\.gnn:6:3: error: loop `blocks` \(3 blocks\) cannot run reversibly: the state passes through `add`/;

  for (const command of ["compile", "train", "check"]) {
    it(`${command} --require-reversible refuses them, located, exit 1`, () => {
      const data = command === "compile" ? [] : ["--data", tiny];
      const r = revgnn(command, jk, ...data, "--require-reversible");
      noStack(r.err);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(located);
      // The source line and a caret under the repeat, then the hint.
      expect(r.err).toContain(" 6 |   repeat L as blocks {");
      expect(r.err).toContain("   |   ^");
      expect(r.err).toMatch(/hint: --require-reversible refuses loops/);
    });
  }

  it("--require-reversible with --store-activations is a usage error", () => {
    const r = revgnn("train", jk, "--data", tiny, "--require-reversible", "--store-activations");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/contradict/);
  });

  it("train says once, located, which loop keeps its activations and why", () => {
    const r = revgnn("train", jk, "--data", tiny, "--epochs", "1", "--backend", "interpreter");
    expect(r.code, r.err).toBe(0);
    const warnings = r.err.match(/warning: loop `blocks` \(3 blocks\) keeps its activations/g);
    expect(warnings).toHaveLength(1);
    expect(r.err).toMatch(/jk\.gnn:6:3: warning: .*the state passes through `add`/);
  }, 120_000);

  it("a model whose loops all run reversibly is not warned about", () => {
    const r = revgnn(
      "train",
      "examples/revgcn.gnn",
      "--data",
      tiny,
      "--set",
      "L=2",
      "--set",
      "D=8",
      "--epochs",
      "1",
      "--backend",
      "interpreter",
      "--require-reversible",
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/keeps its activations/);
  }, 120_000);
});

describe("--backend interpreter", () => {
  const revgcn = ["examples/revgcn.gnn", "--data", tiny, "--set", "L=4", "--set", "D=16"];

  it("trains 3 epochs with the GPU's losses (float64 against float32: 1e-4 relative)", () => {
    const cpu = revgnn(
      "train",
      ...revgcn,
      "--epochs",
      "3",
      "--backend",
      "interpreter",
      "--report",
      report("cpu"),
    );
    expect(cpu.code, cpu.err).toBe(0);
    const gpu = revgnn("train", ...revgcn, "--epochs", "3", "--report", report("gpu"));
    expect(gpu.code, gpu.err).toBe(0);
    const a = readReport("cpu");
    const b = readReport("gpu");
    expect(a.backend).toBe("interpreter");
    expect(b.backend).toBe("gpu");
    expect(a.memory).toBeUndefined();
    const losses = (j: { log: { loss: number }[] }) => j.log.map((e) => e.loss);
    expect(losses(a)).toHaveLength(3);
    losses(a).forEach((l, i) =>
      expect(Math.abs(l - losses(b)[i]!) / Math.abs(losses(b)[i]!)).toBeLessThan(1e-4),
    );
    // The loss moved: the comparison is of training, not of the initial weights only.
    expect(losses(a)[2]).not.toBeCloseTo(losses(a)[0]!, 3);
    expect(a.result.valid).toBeCloseTo(b.result.valid, 6);
  }, 600_000);

  it("check runs on it: float64 rebuilds, gradients agree", () => {
    const r = revgnn("check", ...revgcn, "--backend", "interpreter", "--report", report("check"));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/backend: the float64 reference interpreter/);
    const j = readReport("check");
    expect(Math.max(...j.loops[0].relativeError)).toBeLessThan(1e-12);
    for (const g of j.gradients) expect(g.relativeDifference).toBeLessThan(1e-10);
  }, 120_000);

  it("writes checkpoints a run resumes from", () => {
    const ck = join(dir, "ck.safetensors");
    const args = [...revgcn, "--backend", "interpreter", "--save", ck];
    const first = revgnn("train", ...args, "--epochs", "2");
    expect(first.code, first.err).toBe(0);
    const resumed = revgnn(
      "train",
      ...args,
      "--epochs",
      "3",
      "--resume",
      ck,
      "--report",
      report("resumed"),
    );
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/resumed from .* after epoch 2/);
    expect(readReport("resumed").log.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2, 3]);
  }, 120_000);

  it("refuses a graph it would take minutes over, saying what to do", () => {
    const r = revgnn(
      "train",
      "examples/revgcn.gnn",
      "--data",
      "data/cora",
      "--backend",
      "interpreter",
    );
    noStack(r.err);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /--backend interpreter: a training step here .* over the interpreter's limit/,
    );
    expect(r.err).toMatch(/smaller graph/);
  }, 120_000);

  it("refuses --exact (a device mode)", () => {
    const r = revgnn("train", ...revgcn, "--backend", "interpreter", "--exact");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--exact needs the GPU backend/);
  });
});

describe("DEQ solves are shown", () => {
  it("iterations and residual of the forward and backward solves, per epoch", () => {
    const r = revgnn(
      "train",
      "examples/deq-gcn.gnn",
      "--data",
      "synthetic:100:400:8:3",
      "--set",
      "D=8",
      "--epochs",
      "2",
      "--backend",
      "interpreter",
      "--report",
      report("deq"),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/epoch 2 .* deq fwd \d+ it \d\.\de-\d+ bwd \d+ it \d\.\de-\d+/);
    const log = readReport("deq").log as {
      fixpoints: Record<string, { iterations: number; residual: number }>;
    }[];
    expect(log).toHaveLength(2);
    for (const e of log) {
      for (const kind of ["forward", "backward", "eval"]) {
        expect(e.fixpoints[kind]!.iterations).toBeGreaterThan(1);
        // Converged: within the model's tolerance (tol = 1e-4).
        expect(e.fixpoints[kind]!.residual).toBeLessThanOrEqual(1e-4);
      }
    }
  }, 120_000);

  it("the GPU reports the same solves", () => {
    const r = revgnn(
      "train",
      "examples/deq-gcn.gnn",
      "--data",
      "synthetic:100:400:8:3",
      "--set",
      "D=8",
      "--epochs",
      "1",
      "--report",
      report("deq-gpu"),
    );
    expect(r.code, r.err).toBe(0);
    const [e] = readReport("deq-gpu").log;
    expect(e.fixpoints.forward.iterations).toBeGreaterThan(1);
    expect(e.fixpoints.backward.iterations).toBeGreaterThan(1);
    expect(e.fixpoints.forward.residual).toBeLessThanOrEqual(1e-4);
  }, 600_000);
});

describe("rebuild drift", () => {
  it("a drifting model warns, with the remedies, and the report has the samples", () => {
    const r = revgnn("train", drifty, "--data", tiny, "--epochs", "2", "--report", report("drift"));
    expect(r.code, r.err).toBe(0);
    const warned = r.err.match(
      /warning: at epoch 1 the reversibly rebuilt input of the first block/g,
    );
    expect(warned, r.err).toHaveLength(1);
    expect(r.err).toMatch(/--checkpoint-every/);
    expect(r.err).toMatch(/--exact/);
    const d = readReport("drift").drift;
    expect(d.samples[0].epoch).toBe(1);
    expect(d.samples[0].input).toBeGreaterThan(1e-3);
    expect(d.threshold).toBe(1e-3);
  }, 600_000);

  it("the same model in float64 stays under the threshold: no warning", () => {
    const r = revgnn("train", drifty, "--data", tiny, "--epochs", "1", "--backend", "interpreter");
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/reversibly rebuilt input/);
  }, 120_000);

  it("the default RevGCN on Cora does not warn", () => {
    const r = revgnn(
      "train",
      "examples/revgcn.gnn",
      "--data",
      "data/cora",
      "--epochs",
      "3",
      "--drift",
      "--report",
      report("cora"),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/reversibly rebuilt input/);
    const d = readReport("cora").drift;
    expect(d.samples).toHaveLength(3);
    for (const s of d.samples) expect(s.input).toBeLessThan(1e-3);
  }, 600_000);
});
