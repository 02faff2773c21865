// `revgnn compile --emit wgsl` writes byte for byte the kernels a training run compiles and
// dispatches, for the same options: the CLI's files on one side, on the other every kernel the
// runtime hands to the device's pipeline cache during a one-epoch `train()` on lavapipe (a step
// and an evaluation on a tiny synthetic graph). The only kernel of a run not written is the
// runtime's own non-finite check (driver/finite.ts), which is not a compiled program's.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { immediateBytesFor, nominalTarget } from "../../compiler/target.js";
import { compileForRun } from "../../cli/train-cmd.js";
import { syntheticDataset } from "../../runtime/data/synthetic.js";
import { GpuBackend } from "../../runtime/exec/backend.js";
import type { CompiledKernel } from "../../runtime/gpu/pipelines.js";
import { train } from "../../driver/trainer.js";
import { runCli } from "../helpers/cli.js";
import { gpu } from "../helpers/gpu.js";
import type { KernelSpec } from "../../compiler/contract.js";
import {
  defaultOptimizer,
  defaultWeightDecay,
  type OptimizerKind,
} from "../../compiler/optimizers.js";

/**
 * A backend that remembers every kernel the runtime compiles: WGSL → the kernel names it was
 * compiled under (names are per program; the text is what the device gets).
 */
class RecordingBackend extends GpuBackend {
  readonly compiled = new Map<string, Set<string>>();
  override compile(spec: KernelSpec): Promise<CompiledKernel> {
    const names = this.compiled.get(spec.code) ?? new Set<string>();
    this.compiled.set(spec.code, names.add(spec.name));
    return super.compile(spec);
  }
}

interface Case {
  label: string;
  file: string;
  set: Record<string, string>;
  optimizer: OptimizerKind;
  storeActivations?: boolean;
  checkpointEvery?: number;
  exact?: number;
  /** Train on mostly-zero features (bound sparse); compile with --sparse-features. */
  sparse?: boolean;
}

const cases: Case[] = [
  {
    label: "RevGCN, Adam (train's defaults)",
    file: "examples/revgcn.gnn",
    set: {},
    optimizer: "adam",
  },
  {
    label: "RevGCN, SGD, stored activations",
    file: "examples/revgcn.gnn",
    set: {},
    optimizer: "sgd",
    storeActivations: true,
  },
  {
    label: "RevGCN, AdamW, checkpoint every 2 blocks",
    file: "examples/revgcn.gnn",
    set: { L: "4" },
    optimizer: "adamw",
    checkpointEvery: 2,
  },
  {
    label: "RevGCN, exact mode",
    file: "examples/revgcn.gnn",
    set: {},
    optimizer: "adam",
    exact: 14,
  },
  { label: "RevGAT, Adam", file: "examples/revgat.gnn", set: {}, optimizer: "adam" },
  {
    label: "RevGCN, Adam, sparse features",
    file: "examples/revgcn.gnn",
    set: {},
    optimizer: "adam",
    sparse: true,
  },
];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const setArgs = (set: Record<string, string>) =>
  Object.entries({ D: "8", L: "2", ...set }).flatMap(([k, v]) => ["--set", `${k}=${v}`]);

/** What `revgnn compile --emit wgsl` writes for a case: [file, WGSL]. */
function emitted(c: Case): [string, string][] {
  const out = mkdtempSync(join(tmpdir(), "revgnn-emit-"));
  dirs.push(out);
  const args = ["compile", c.file, ...setArgs(c.set), "--emit", "wgsl", "--out", out];
  args.push("--optimizer", c.optimizer, "--adapter", "cpu");
  if (c.storeActivations) args.push("--store-activations");
  if (c.checkpointEvery) args.push("--checkpoint-every", String(c.checkpointEvery));
  if (c.exact !== undefined) args.push("--exact", String(c.exact));
  if (c.sparse) args.push("--sparse-features");
  const r = runCli(args);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  const files = readdirSync(out).filter((f) => f.endsWith(".wgsl"));
  return files.map((f) => [f, readFileSync(join(out, f), "utf8")]);
}

/** Every kernel one epoch of `train` compiles for a case, as `revgnn train` sets it up. */
async function trained(c: Case): Promise<Map<string, Set<string>>> {
  const ctx = await gpu();
  const { bits, model } = compileForRun(c.file, {
    set: Object.fromEntries(
      setArgs(c.set)
        .filter((_, i) => i % 2 === 1)
        .map((kv) => kv.split("=")),
    ),
    exact: c.exact,
  });
  const backend = new RecordingBackend(ctx);
  const dense = syntheticDataset(40, 160, 6, 3, 5);
  // One non-zero in 40: well under the 4 % at which train binds features sparse.
  const ds = c.sparse
    ? { ...dense, features: dense.features.map((v, i) => (i % 40 === 7 ? v : 0)) }
    : dense;
  const result = await train(
    backend,
    model,
    ds,
    {
      epochs: 1,
      lr: 0.01,
      optimizer: defaultOptimizer(c.optimizer, defaultWeightDecay(c.optimizer)),
      seed: 0,
      partitions: 1,
      evalEvery: 1,
      storeActivations: !!c.storeActivations,
      checkpointEvery: c.checkpointEvery,
      perOp: bits !== undefined,
      exactBits: bits,
    },
    { start() {}, epoch() {}, message() {}, stop() {} },
  );
  expect(result.epochs.length).toBe(1);
  return backend.compiled;
}

describe("compile --emit wgsl writes the kernels train dispatches", () => {
  it("runs on lavapipe, whose target --adapter cpu (the default) names exactly", async () => {
    const ctx = await gpu();
    expect({
      tuning: ctx.tuning,
      maxStorageBuffers: ctx.limits.maxStorageBuffersPerShaderStage,
      immediateBytes: immediateBytesFor(ctx.tuning, ctx.limits),
    }).toEqual(nominalTarget("cpu"));
  });

  const results = new Map<string, string[]>();
  for (const c of cases) {
    it(
      c.label,
      async () => {
        const files = emitted(c);
        const run = await trained(c);
        // The runtime's own check of the updated state: the one kernel no program holds.
        const own = [...run].filter(([, names]) => [...names].some((n) => n.startsWith("finite_")));
        expect(own.length).toBe(1);
        run.delete(own[0]![0]);
        expect(files.length).toBeGreaterThan(5);
        // The same texts, byte for byte: each written file was compiled, each compiled text written.
        const written = [...new Set(files.map(([, code]) => code))].sort();
        expect(written).toEqual([...run.keys()].sort());
        // …under the name its file says (`step.k3_matmul.wgsl`: kernel k3_matmul of the step).
        for (const [file, code] of files) {
          const name = file.replace(/^(step|eval)\./, "").replace(/\.wgsl$/, "");
          expect([...run.get(code)!], file).toContain(name);
        }
        results.set(c.label, written);
      },
      300_000,
    );
  }

  it("the comparison is not vacuous: the options change the kernels", () => {
    const [adam, sgd, , exact, , sparse] = cases.map((c) => results.get(c.label));
    if (!adam || !sgd || !exact || !sparse) return; // a case above failed and says why
    expect(sgd).not.toEqual(adam);
    expect(exact).not.toEqual(adam);
    expect(sparse).not.toEqual(adam);
  });
});

describe("compile --emit passes", () => {
  it("prints the pass list in order, with the options applied", () => {
    const r = runCli([
      "compile",
      "examples/revgcn.gnn",
      "--set",
      "L=4",
      "--emit",
      "passes",
      "--optimizer",
      "sgd",
      "--checkpoint-every",
      "2",
      "--exact",
    ]);
    expect(r.code).toBe(0);
    const names = [...r.out.matchAll(/^\s*\d+\. (\S+)/gm)].map((m) => m[1]);
    expect(names).toEqual([
      "checkpoint-segmentation",
      "training-step",
      "evaluation",
      "dead-code",
      "expand-reversible",
      "hoist-invariants",
      "codegen",
    ]);
    expect(r.out).toContain("k = 2");
    expect(r.out).toContain("sgd (weight decay 0)");
    expect(r.out).toContain("one kernel per op; cpu tuning");
  });

  it("a --checkpoint-every that does not divide the blocks is the user's mistake", () => {
    const r = runCli(["compile", "examples/revgcn.gnn", "--checkpoint-every", "2"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("--checkpoint-every 2 does not divide the 3 blocks");
  });
});
