#!/usr/bin/env node
// The `revgnn` command: compile, train, plan (and check, bench), built on commander.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
// Each command's module is imported when the command runs, not here: the compiler's parser
// (chevrotain) and the benchmark's plotting (vega) take a third of a second each to load, which
// `--help` and a training run that needs neither should not pay.
import type { CompileCommandOptions } from "./compile-cmd.js";
import { EMITS } from "./emits.js";
import { parseDecimalText } from "../grammar/numbers.js";
import {
  DEFAULT_OPTIMIZER,
  optimizerKinds,
  optimizers,
  type Optimizer,
} from "../compiler/optimizers.js";
import { markPhase, phaseReport } from "../runtime/util/phases.js";

markPhase("modules loaded");

/** `--optimizer`, whose choices are the optimizer registry's (compiler/optimizers.ts). */
function optimizerOption(description: string): Option {
  return new Option("--optimizer <kind>", description)
    .choices(optimizerKinds())
    .default(DEFAULT_OPTIMIZER);
}

/** "default 5e-4 for adam/adamw, 0 for sgd": an optimizer default, grouped by value. */
function defaultsHelp(key: keyof Optimizer["defaults"]): string {
  const byValue = new Map<number, string[]>();
  for (const o of optimizers)
    byValue.set(o.defaults[key], [...(byValue.get(o.defaults[key]) ?? []), o.kind]);
  return `default ${[...byValue].map(([v, kinds]) => `${v} for ${kinds.join("/")}`).join(", ")}`;
}

const weightDecayHelp = () => `weight decay (${defaultsHelp("weightDecay")})`;

function collectSet(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected K=V, got "${value}"`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1).trim() };
}

interface NumberRule {
  integer?: boolean;
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
}

/**
 * Parses a numeric option and refuses, as a usage error (exit 2), a value the run could not use:
 * a negative learning rate or seed, zero partitions, a count beyond what a 32-bit index holds.
 */
function number(what: string, rule: NumberRule = {}) {
  const { integer = false, min = -Infinity, max = Infinity } = rule;
  const kind = integer ? "a whole number" : "a number";
  const range =
    min > -Infinity && max < Infinity
      ? ` from ${min} to ${max}`
      : min > -Infinity
        ? min === 0
          ? " (0 or more)"
          : ` of at least ${min}`
        : "";
  return (v: string) => {
    const n = parseDecimalText(v) ?? NaN;
    const whole = Number.isSafeInteger(n);
    if (!Number.isFinite(n) || (integer && !whole) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be ${kind}${range}.`);
    }
    return n;
  };
}

/** Node ids and edge positions are 32-bit on the GPU. */
const U32_MAX = 0xffffffff;
const count = (what: string, min: number) => number(what, { integer: true, min, max: U32_MAX });
// Seeds key the dropout streams as WGSL u32s.
const seed = () => number("--seed", { integer: true, min: 0, max: U32_MAX });
// Fixed-point bits of exact mode: beyond 23 the grid is finer than float32 near 1.
const exactBitsOption = () => number("--exact", { integer: true, min: 0, max: 23 });

const setOption = () =>
  new Option("--set <K=V>", "override a hyperparameter of the model (repeatable)")
    .argParser(collectSet)
    .default({});

const requireReversibleOption = () =>
  new Option(
    "--require-reversible",
    "error (located) when a loop cannot run reversibly and would keep its activations",
  ).default(false);

const backendOption = () =>
  new Option(
    "--backend <kind>",
    "gpu: WGSL kernels; interpreter: the float64 reference interpreter on the CPU (small graphs, no shader compilation)",
  )
    .choices(["gpu", "interpreter"])
    .default("gpu");

const program = new Command();
program
  .name("revgnn")
  .description(
    "Compile and train reversible graph neural networks hundreds to thousands of layers deep, on WebGPU",
  )
  // One line for a usage mistake, and where the options are listed (the whole help would bury it).
  .showHelpAfterError("(`revgnn <command> --help` lists the options)")
  .exitOverride();

program
  .command("compile")
  .description("check a .gnn program and print or write the compiler's view of it")
  .argument("<file>", "the .gnn source")
  .addOption(setOption())
  .option("--model <name>", "which model of the file")
  .addOption(new Option("--emit <what>", "what to print").choices([...EMITS]).default("summary"))
  .option("--out <dir>", "write to files in this directory instead of standard output")
  // The options of `train` that change its kernels: with them, `--emit wgsl` writes exactly the
  // kernels that `train` dispatches (`--emit passes` shows the pipeline they configure).
  .addOption(optimizerOption("optimizer of the training step"))
  .option("--weight-decay <x>", weightDecayHelp(), number("--weight-decay", { min: 0 }))
  .option("--store-activations", "stored-activation backprop, even for reversible blocks", false)
  .option(
    "--sparse-features",
    "the kernels of a run on mostly-zero node features (train binds them sparse under 4 % non-zeros)",
    false,
  )
  .option(
    "--checkpoint-every <k>",
    "keep every k-th reversible block's input",
    count("--checkpoint-every", 1),
  )
  .option("--exact [bits]", "exact mode (fixed-point grid, one kernel per op)", exactBitsOption())
  .addOption(requireReversibleOption())
  .addOption(
    new Option(
      "--adapter <kind>",
      "kernels for a CPU driver (lavapipe: what `train` uses on a machine without a GPU) or a GPU",
    )
      .choices(["cpu", "gpu"])
      .default("cpu"),
  )
  .action(async (file: string, o: CompileCommandOptions) => {
    const { compileCommand } = await import("./compile-cmd.js");
    process.exitCode = compileCommand(file, o);
  });

program
  .command("train")
  .description("train a model on a dataset (OGB node-property layout, or synthetic:N:E:F:K)")
  .argument("<model>", "the .gnn source")
  .requiredOption("--data <dir|synthetic:N:E:F:K>", "dataset directory or a synthetic graph")
  .option("--split <name>", "split scheme under <dir>/split (default: the only one)")
  .addOption(setOption())
  .option("--model <name>", "which model of the file")
  .option("--epochs <n>", "training epochs", count("--epochs", 1), 200)
  .option("--lr <x>", `learning rate (${defaultsHelp("lr")})`, number("--lr", { min: 0 }))
  .addOption(optimizerOption("optimizer"))
  .option("--weight-decay <x>", weightDecayHelp(), number("--weight-decay", { min: 0 }))
  .option("--seed <n>", "random seed (weights, dropout, partitions)", seed(), 0)
  .option(
    "--partitions <p>",
    "mini-batch training on P random node partitions per epoch",
    count("--partitions", 1),
    1,
  )
  .option("--eval-every <k>", "evaluate every k epochs", count("--eval-every", 1), 1)
  .option("--save <file>", "checkpoint (safetensors), written atomically after each evaluation")
  .option("--init-save <file>", "write the initial weights")
  .option("--resume <file>", "continue a run from a checkpoint")
  .option("--report <file>", "write a JSON report of the run")
  .option(
    "--store-activations",
    "plain stored-activation backprop, even for reversible blocks",
    false,
  )
  .option(
    "--dense-features",
    "keep mostly-zero node features dense on the device (by default under 4 % non-zeros they are bound sparse)",
    false,
  )
  .option(
    "--checkpoint-every <k>",
    "keep every k-th reversible block's input (memory O(N·D·L/k), drift reset every k blocks)",
    count("--checkpoint-every", 1),
  )
  .option(
    "--exact [bits]",
    "exact reversibility: the residual stream on a fixed-point grid of 2^-bits (default 14)",
    exactBitsOption(),
  )
  .option(
    "--drift",
    "measure the reconstruction error of the reversible blocks at every evaluation (default: every 10th)",
    false,
  )
  .option(
    "--drift-threshold <x>",
    "warn when the first block's rebuilt input is off by more than this (relative; default 1e-3)",
    number("--drift-threshold", { min: 0 }),
  )
  .addOption(backendOption())
  .addOption(requireReversibleOption())
  .option("--quiet", "no progress output", false)
  .option("--profile", "time every kernel of a few steps after warm-up; print a table", false)
  .option("--profile-steps <n>", "steps to time with --profile", count("--profile-steps", 1), 3)
  .action(async (file: string, o) => {
    const { trainCommand } = await import("./train-cmd.js");
    process.exitCode = await trainCommand(file, o);
  });

program
  .command("plan")
  .description("predict the peak GPU memory of a training step, by category, without a GPU")
  .argument("<model>", "the .gnn source")
  .addOption(setOption())
  .option("--model <name>", "which model of the file")
  .requiredOption("--nodes <N>", "number of nodes", count("--nodes", 1))
  .requiredOption("--edges <E>", "number of directed edges", count("--edges", 0))
  .option("--features <F>", "input features (default 128)", count("--features", 0))
  .option("--classes <K>", "classes or tasks (default 40)", count("--classes", 1))
  .option(
    "--graphs <G>",
    "graphs in the batch, for graph-level models (default 1)",
    count("--graphs", 1),
  )
  .addOption(optimizerOption("optimizer"))
  .option(
    "--partitions <p>",
    "plan mini-batch training on P partitions",
    count("--partitions", 1),
    1,
  )
  .option("--store-activations", "plan stored-activation backprop", false)
  .option(
    "--checkpoint-every <k>",
    "plan keeping every k-th block input",
    count("--checkpoint-every", 1),
  )
  .option("--exact [bits]", "plan exact mode (one kernel per op)", exactBitsOption())
  .addOption(
    new Option("--adapter <kind>", "plan for the kernels of a CPU driver (lavapipe) or a GPU")
      .choices(["cpu", "gpu"])
      .default("gpu"),
  )
  .action(async (file: string, o) => {
    const { planCommand } = await import("./train-cmd.js");
    process.exitCode = await planCommand(file, o);
  });

program
  .command("check")
  .description(
    "one step both ways: per-block reconstruction error of rebuilt activations, and gradient agreement with stored activations",
  )
  .argument("<model>", "the .gnn source")
  .requiredOption("--data <dir|synthetic:N:E:F:K>", "dataset directory or a synthetic graph")
  .option("--split <name>", "split scheme under <dir>/split")
  .addOption(setOption())
  .option("--model <name>", "which model of the file")
  .option("--seed <n>", "random seed of the initial weights and dropout", seed(), 0)
  .option("--weights <file>", "check at these weights (a checkpoint) instead of the initial ones")
  .option(
    "--checkpoint-every <k>",
    "rebuild from a kept input every k blocks",
    count("--checkpoint-every", 1),
  )
  .option(
    "--exact [bits]",
    "exact reversibility on a fixed-point grid of 2^-bits (default 14)",
    exactBitsOption(),
  )
  .option("--report <file>", "write the per-block errors and gradient differences as JSON")
  .option("--profile", "time every kernel of the check's steps; print a table", false)
  .addOption(backendOption())
  .addOption(requireReversibleOption())
  .action(async (file: string, o) => {
    const { checkCommand } = await import("./check-cmd.js");
    process.exitCode = await checkCommand(file, o);
  });

program
  .command("gradcheck")
  .description(
    "derived gradients against central finite differences (float64 interpreter, no GPU) on a small random graph",
  )
  .argument("<model>", "the .gnn source")
  .addOption(setOption())
  .option("--model <name>", "which model of the file")
  .option("--nodes <N>", "nodes of the random graph", count("--nodes", 1), 9)
  .option("--edges <E>", "directed edges of the random graph", count("--edges", 0), 24)
  .option("--features <F>", "input features", count("--features", 1), 5)
  .option("--classes <K>", "classes or tasks", count("--classes", 1), 3)
  .option(
    "--sample <n>",
    "entries checked per parameter tensor (all when fewer)",
    count("--sample", 1),
    24,
  )
  .option("--seed <n>", "random seed of the graph, inputs, weights and dropout", seed(), 0)
  .option(
    "--tolerance <x>",
    "largest relative error accepted",
    number("--tolerance", { min: 0 }),
    1e-6,
  )
  .option("--store-activations", "also check the stored-activation schedule", false)
  .action(async (file: string, o) => {
    const { gradcheckCommand } = await import("./gradcheck-cmd.js");
    process.exitCode = gradcheckCommand(file, o);
  });

program
  .command("bench")
  .description(
    "the benchmark suite: memory and time against depth, PyTorch, kernel efficiency, compile time, scale, cold and warm start",
  )
  .option("--quick", "a reduced suite, a few minutes (Cora only)", false)
  .option("--out <dir>", "where to write results (default bench/results)")
  .action(async (o: { quick: boolean; out?: string }) => {
    const { benchCommand } = await import("./bench-cmd.js");
    process.exitCode = await benchCommand(o);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage errors (already printed by commander) exit 2.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const { reportError } = await import("./errors.js");
    process.exitCode = reportError(err);
  }
}
markPhase("command done");
const phases = phaseReport();
if (phases) console.error(phases);
