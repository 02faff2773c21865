// What keeps a warm start short (README "Start-up"): the command's modules load only when it runs,
// chevrotain comes from its single-file bundle, a model's programs are built once per pipeline
// options, and REVGNN_TIMING=1 shows where the time goes. None of it may change what is compiled.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { compileFile, expectModel } from "../../compiler/compile.js";
import { compileProgram, type PipelineOptions } from "../../compiler/pipeline.js";
import { defaultOptimizer } from "../../compiler/optimizers.js";
import { nominalTarget } from "../../compiler/target.js";
import { DryRunBackend } from "../../runtime/exec/backend.js";
import { Session, type SessionOptions } from "../../driver/session.js";
import * as grammarChevrotain from "../../grammar/chevrotain.js";

const model = expectModel(compileFile("examples/revgcn.gnn"));
const target = nominalTarget("cpu");
const backend = () =>
  new DryRunBackend(
    undefined,
    undefined,
    undefined,
    undefined,
    target.tuning,
    16,
    target.immediateBytes,
  );
const options: SessionOptions = {
  optimizer: defaultOptimizer("adam", 0),
  storeActivations: false,
};
const codes = (s: Session<unknown, unknown>) => [
  ...s.stepProgram.kernels.map((k) => k.code),
  ...s.evalProgram.kernels.map((k) => k.code),
];

describe("warm start", () => {
  it("sessions of one model share its programs for equal options, and only then", () => {
    const a = new Session(backend(), model, options);
    const b = new Session(backend(), model, { ...options });
    expect(b.stepProgram).toBe(a.stepProgram);
    expect(b.evalProgram).toBe(a.evalProgram);
    const stored = new Session(backend(), model, { ...options, storeActivations: true });
    expect(stored.stepProgram).not.toBe(a.stepProgram);
    expect(codes(stored)).not.toEqual(codes(a));
    const sgd = new Session(backend(), model, {
      ...options,
      optimizer: defaultOptimizer("sgd", 0),
    });
    expect(sgd.stepProgram).not.toBe(a.stepProgram);
    // The shared programs are what a fresh compile of the same options builds, kernel for kernel.
    const fresh = compileProgram(model, { ...options, target } satisfies PipelineOptions);
    expect(codes(a)).toEqual([
      ...fresh.step.kernels.map((k) => k.code),
      ...fresh.eval.kernels.map((k) => k.code),
    ]);
  });

  it("the grammar's chevrotain is the package's single-file bundle, of the same release", async () => {
    const entry = createRequire(import.meta.url).resolve("chevrotain");
    const bundlePath = join(dirname(entry), "..", "chevrotain.mjs");
    const bundle = await import(pathToFileURL(bundlePath).href);
    expect(grammarChevrotain.CstParser).toBe(bundle.CstParser);
    const pkg = JSON.parse(readFileSync(join(dirname(entry), "../../package.json"), "utf8"));
    expect(bundle.VERSION).toBe(pkg.version);
  });

  it("cli/main.ts imports no command's module before the command runs", () => {
    const text = readFileSync("cli/main.ts", "utf8");
    // Type-only imports vanish from the JavaScript; any other would load the compiler or vega.
    const valueImports = [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s*"([^"]+)"/gms)].map(
      (m) => m[1]!,
    );
    expect(valueImports).toContain("commander");
    const commands = ["compile-cmd", "train-cmd", "check-cmd", "gradcheck-cmd", "bench-cmd"];
    expect(valueImports.filter((s) => commands.some((c) => s.endsWith(`/${c}.js`)))).toEqual([]);
  });

  it("REVGNN_TIMING=1 prints the phases of a command; nothing without it", () => {
    const timed = runCli(["compile", "examples/revgcn.gnn"], { env: { REVGNN_TIMING: "1" } });
    expect(timed.code).toBe(0);
    expect(timed.err).toMatch(/^\[timing\] modules loaded +at +\d+ ms/m);
    expect(timed.err).toMatch(/^\[timing\] command done +at +\d+ ms/m);
    const plain = runCli(["compile", "examples/revgcn.gnn"]);
    expect(plain.code).toBe(0);
    expect(plain.err).not.toContain("[timing]");
    const summary = (out: string) => out.replace(/compiled in \d+ ms/, "compiled in … ms");
    expect(summary(plain.out)).toBe(summary(timed.out));
  });
});
