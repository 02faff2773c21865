// `revgnn compile`: check a program and print or write what the compiler makes of it.
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { compileFile, type CompiledModel } from "../compiler/compile.js";
import { CompileError } from "../grammar/diagnostics.js";
import { shapeToString } from "../compiler/ir/dims.js";
import { scanStoreReason } from "../compiler/inverse/rev-backward.js";
import { backwardGraph, inverseGraphs, kernelFile, kernelManifest } from "../compiler/emit.js";
import { isFixpoint, isScan } from "../compiler/ir/ops/control.js";
import { countOps, printGraph } from "../compiler/ir/print.js";
import type { Graph } from "../compiler/ir/types.js";
import { compileProgram, printPasses, type PipelineOptions } from "../compiler/pipeline.js";
import { nominalTarget } from "../compiler/target.js";
import {
  DEFAULT_OPTIMIZER,
  defaultOptimizer,
  defaultWeightDecay,
  type OptimizerKind,
} from "../compiler/optimizers.js";
import { parseProgram } from "../grammar/index.js";
import { readFileSync } from "node:fs";
import { writeFileAtomicSync } from "../runtime/util/atomic-write.js";
import { reportError, UsageError } from "./errors.js";
import { exactBits, refuseContradiction } from "./train-cmd.js";

import type { Emit } from "./emits.js";
export { EMITS, type Emit } from "./emits.js";

export interface CompileCommandOptions {
  set: Record<string, string>;
  model?: string;
  emit: Emit;
  out?: string;
  // What changes the kernels of a training run, as `train` takes it (defaults as `train`'s).
  optimizer?: OptimizerKind;
  weightDecay?: number;
  storeActivations?: boolean;
  checkpointEvery?: number;
  /** Fixed-point bits of exact mode (`--exact [bits]`), or false. */
  exact?: number | boolean;
  /** Whose tuning: lavapipe's ("cpu", what `train` gets on this machine) or a GPU's. */
  adapter?: "cpu" | "gpu";
  /** Loops that would keep their activations are errors. */
  requireReversible?: boolean;
  /** The kernels of a run whose node features are bound sparse (`--sparse-features`). */
  sparseFeatures?: boolean;
}

/** The pipeline options `train` would use for the same command-line options. */
export function pipelineOptions(o: CompileCommandOptions): PipelineOptions {
  const kind = o.optimizer ?? DEFAULT_OPTIMIZER;
  return {
    optimizer: defaultOptimizer(kind, o.weightDecay ?? defaultWeightDecay(kind)),
    storeActivations: !!o.storeActivations,
    checkpointEvery: o.checkpointEvery,
    perOp: exactBits(o.exact) !== undefined,
    target: nominalTarget(o.adapter ?? "cpu"),
    sparseFeatures: !!o.sparseFeatures,
  };
}

function summary(m: CompiledModel, ms: number, o: PipelineOptions): string {
  const t = m.train;
  const lines = [`${m.name} (${m.source.file})`];
  lines.push(
    `  hyperparameters: ${Object.entries(t.hypers)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}`,
  );
  lines.push(
    `  inputs: ${t.inputs.map((i) => `${i.name} ${i.role} ${shapeToString(i.shape)}`).join("; ")}`,
  );
  lines.push(`  parameters: ${t.params.length} tensors`);
  if (t.states.length > 0)
    lines.push(`  model state: ${t.states.length} tensors (not trained; updated by each step)`);
  for (const r of t.repeats)
    lines.push(`  repeat ${r.label} × ${r.count}${r.shared ? " (weights tied)" : ""}`);
  const loops: string[] = [];
  const visit = (g: Graph) => {
    for (const op of g.ops) {
      if (isFixpoint(op)) {
        const a = op.attrs;
        loops.push(
          `  fixpoint (${a.solver}, tol ${a.tol}, at most ${a.maxIter} iterations): implicit differentiation — memory independent of the iterations`,
        );
      }
      if (isScan(op)) {
        const body = op.regions[0]!;
        const why = scanStoreReason(op);
        loops.push(
          why
            ? `  ${body.name}: stored activations (${why})`
            : `  ${body.name}: reversible — the backward rebuilds each block's input from its output`,
        );
      }
      op.regions.forEach(visit);
    }
  };
  visit(t.graph);
  lines.push(...loops);
  const ops = countOps(t.graph);
  lines.push(`  forward IR: ${[...ops.values()].reduce((a, b) => a + b, 0)} ops`);
  const programs = compileProgram(m, o);
  lines.push(
    `  kernels: ${programs.step.kernels.length} for a training step, ${programs.eval.kernels.length} for evaluation (independent of the repeat counts)`,
  );
  lines.push(`compiled in ${ms.toFixed(0)} ms`);
  return lines.join("\n");
}

export function compileCommand(file: string, o: CompileCommandOptions): number {
  const t0 = performance.now();
  if (o.emit === "ast") {
    const text = readFileSync(file, "utf8");
    const parsed = parseProgram(text, file);
    if (parsed.diagnostics.length)
      return reportError(new CompileError(parsed.diagnostics), new Map([[file, text]]));
    return emitText(
      o,
      basename(file) + ".ast.json",
      JSON.stringify(parsed.program, (k, v) => (k === "span" ? undefined : v), 2) + "\n",
    );
  }
  const bits = exactBits(o.exact);
  const options = pipelineOptions(o);
  refuseContradiction(o);
  const r = compileFile(file, {
    set: o.set,
    model: o.model,
    exact: bits !== undefined ? { bits } : undefined,
    requireReversible: o.requireReversible,
  });
  if (!r.model) return reportError(new CompileError(r.diagnostics), r.sources);
  const m = r.model;
  const ms = performance.now() - t0;
  switch (o.emit) {
    case "summary":
      return emitText(o, `${m.name}.summary.txt`, summary(m, ms, options) + "\n");
    case "ir":
      return emitText(o, `${m.name}.ir`, printGraph(m.train.graph));
    case "backward":
      return emitText(o, `${m.name}.backward.ir`, printGraph(backwardGraph(m)));
    case "inverse": {
      const invs = inverseGraphs(m);
      if (!invs.length) {
        console.error(`${m.name} has no reversible loop`);
        return 1;
      }
      return emitText(
        o,
        `${m.name}.inverse.ir`,
        invs.map((i) => `// inverse of ${i.label}\n${printGraph(i.graph)}`).join("\n"),
      );
    }
    case "passes":
      return emitText(o, `${m.name}.passes.txt`, printPasses(options, m));
    case "params":
      return emitText(
        o,
        `${m.name}.params.txt`,
        [
          ...m.train.params.map((p) => `${p.name}\t${shapeToString(p.shape)}\t${p.init.kind}`),
          // Model state (running statistics) after the parameters, marked: it is not trained.
          ...m.train.states.map(
            (p) => `${p.name}\t${shapeToString(p.shape)}\t${p.init.kind}\tstate`,
          ),
        ].join("\n") + "\n",
      );
    case "wgsl": {
      if (!o.out) throw new UsageError("--emit wgsl writes one file per kernel: give --out DIR");
      const p = compileProgram(m, options);
      const programs = { step: p.step, eval: p.eval };
      mkdirSync(o.out, { recursive: true });
      let written = 0;
      for (const program of ["step", "eval"] as const) {
        for (const k of programs[program].kernels) {
          writeFileAtomicSync(join(o.out, kernelFile(program, k.name)), k.code);
          written++;
        }
      }
      writeFileAtomicSync(
        join(o.out, "manifest.json"),
        JSON.stringify(kernelManifest(m, programs), null, 2) + "\n",
      );
      console.log(`wrote ${written} kernels and manifest.json to ${o.out}`);
      return 0;
    }
  }
  return 0;
}

function emitText(o: CompileCommandOptions, name: string, text: string): number {
  if (!o.out) {
    process.stdout.write(text);
    return 0;
  }
  mkdirSync(o.out, { recursive: true });
  writeFileAtomicSync(join(o.out, name), text);
  console.log(`wrote ${join(o.out, name)}`);
  return 0;
}
