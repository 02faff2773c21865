// `revgnn check`: reconstruction drift and gradient agreement of reversible loops, one step both
// ways (rebuilt activations against stored ones).
import { acquireGpu } from "../runtime/gpu/device.js";
import { GpuBackend } from "../runtime/exec/backend.js";
import { loadSafetensors } from "../runtime/checkpoint/safetensors.js";
import { checkReversibility } from "../driver/check.js";
import { writeFileAtomic } from "../runtime/util/atomic-write.js";
import { compileForRun, loadData } from "./train-cmd.js";
import { UsageError } from "./errors.js";
import { exactJson, exactReport } from "./exact-report.js";
import { CheckpointError, describeNonFinite } from "../driver/checkpoint.js";
import { initParameters } from "../driver/init.js";
import { bindDims } from "../driver/session.js";
import { checkOutputPaths } from "./output-paths.js";
import { formatProfile, summarizeProfile } from "../runtime/profile/profile.js";
import { interpreterRunner } from "../driver/graph-runner.js";
import { checkInterpretable } from "../driver/interpreter-session.js";
import { driftGraph } from "../compiler/drift.js";

export interface CheckCommandOptions {
  data: string;
  split?: string;
  set: Record<string, string>;
  model?: string;
  seed: number;
  checkpointEvery?: number;
  exact?: number | boolean;
  weights?: string;
  report?: string;
  /** Time every kernel of the check's steps (`--profile`). */
  profile?: boolean;
  /** Loops that would keep their activations are errors. */
  requireReversible?: boolean;
  /** WGSL kernels on the GPU (default) or the float64 reference interpreter. */
  backend?: "gpu" | "interpreter";
}

const e = (x: number) => x.toExponential(2);

export async function checkCommand(file: string, o: CheckCommandOptions): Promise<number> {
  checkOutputPaths(
    [{ option: "--report", path: o.report }],
    [
      { option: "the model's source file", path: file },
      { option: "--weights", path: o.weights },
    ],
  );
  const interpreted = o.backend === "interpreter";
  if (interpreted && o.exact !== undefined && o.exact !== false)
    throw new UsageError(
      "--exact needs the GPU backend (the grid's report runs on the device); the interpreter computes in float64",
    );
  const { bits, model } = compileForRun(file, o);
  const ds = await loadData(o);
  // The measurement keeps every block's input: the largest of check's graphs.
  if (interpreted)
    checkInterpretable(driftGraph(model.train.graph).graph, bindDims(model.train.inputs, ds));
  let params: Float32Array[] | undefined;
  if (o.weights) {
    const ck = loadSafetensors(o.weights);
    params = model.train.params.map((p) => {
      const t = ck.tensors.get(p.name);
      if (!t) throw new UsageError(`${o.weights}: no tensor ${p.name}`);
      const data = Float32Array.from(t.data as ArrayLike<number>);
      const bad = describeNonFinite(data);
      if (bad) throw new CheckpointError(`${o.weights}: tensor ${p.name} holds ${bad}`);
      return data;
    });
  }
  const ctx = interpreted ? undefined : await acquireGpu();
  const engine = ctx ? new GpuBackend(ctx) : interpreterRunner;
  params ??= initParameters(model.train.params, bindDims(model.train.inputs, ds), o.seed);
  const exact =
    ctx && bits !== undefined
      ? await exactReport(
          file,
          o,
          model,
          ds,
          ctx,
          bits,
          params,
          o.weights ? `the weights of ${o.weights}` : "the initial weights",
        )
      : undefined;
  if (interpreted) console.log("backend: the float64 reference interpreter");
  // The profile covers the check's work: one training step with rebuilt activations and one
  // with stored ones (compilation happens before the first dispatch and is not timed).
  const timing = engine instanceof GpuBackend ? engine.timing : undefined;
  if (o.profile) timing?.start();
  const method = timing?.method;
  const r = await checkReversibility(engine, model, ds, {
    seed: o.seed,
    checkpointEvery: o.checkpointEvery,
    perOp: bits !== undefined,
    params,
  });
  const profile = method && timing ? summarizeProfile(await timing.stop(), 1, method) : undefined;
  if (r.loops.length === 0) {
    console.log(`${model.name} has no reversible loop: nothing is rebuilt`);
  }
  let exceeded = exact?.exceeded ?? false;
  for (const l of r.loops) {
    const err = l.relativeError;
    const differing = l.differing.reduce((a, b) => a + b, 0);
    console.log(
      `${l.label}: ${l.blocks} blocks${o.checkpointEvery ? `, input kept every ${o.checkpointEvery}` : ""}${bits !== undefined ? `, exact (2^-${bits} grid)` : ""}`,
    );
    console.log(
      `  relative error of the rebuilt block input: max ${e(Math.max(...err))}, first block (the stack's input) ${e(err[0]!)}`,
    );
    const marks = [
      ...new Set([
        0,
        1,
        Math.floor(l.blocks / 4),
        Math.floor(l.blocks / 2),
        Math.floor((3 * l.blocks) / 4),
        l.blocks - 1,
      ]),
    ].filter((b) => b < l.blocks);
    console.log(`  by block: ${marks.map((b) => `${b}: ${e(err[b]!)}`).join("  ")}`);
    console.log(
      `  elements not rebuilt bit for bit: ${differing}${differing === 0 ? " (bit-exact)" : ""}`,
    );
    const big = Math.max(...l.largest);
    const range = bits !== undefined ? 2 ** (24 - bits) : undefined;
    const over = range !== undefined && !(big < range);
    exceeded ||= over;
    console.log(
      `  largest |value| of the state: ${big.toPrecision(4)}` +
        (range !== undefined
          ? ` (exact range ±${range}${over ? ": EXCEEDED — use fewer --exact bits" : ""})`
          : ""),
    );
  }
  // NaN compares false: a non-finite difference must win the comparison, not hide.
  const rank = (x: number) => (Number.isFinite(x) ? x : Infinity);
  const worst = r.gradients.reduce(
    (a, b) => (rank(b.relativeDifference) > rank(a.relativeDifference) ? b : a),
    r.gradients[0]!,
  );
  console.log(
    `gradients, rebuilt vs stored activations: largest relative difference ${e(worst.relativeDifference)} (${worst.name})`,
  );
  if (profile) {
    console.log("(one check: a step with rebuilt activations and one with stored activations)");
    console.log(formatProfile(profile));
  }
  if (o.report) {
    await writeFileAtomic(
      o.report,
      JSON.stringify(
        {
          model: model.name,
          hyperparameters: model.train.hypers,
          exact_bits: bits ?? null,
          checkpoint_every: o.checkpointEvery ?? null,
          ...(exact ? { exact: exactJson(exact) } : {}),
          ...r,
          ...(profile ? { profile } : {}),
        },
        null,
        2,
      ) + "\n",
    );
    console.log(`report written to ${o.report}`);
  }
  // A check that found the state out of exact mode's range, or numbers that are not finite, has
  // failed: scripts (and CI) must see it in the exit status, not only in the text.
  const nonFinite =
    !Number.isFinite(r.loss) ||
    r.loops.some((l) => l.relativeError.some((x) => !Number.isFinite(x))) ||
    r.gradients.some((g) => !Number.isFinite(g.relativeDifference));
  if (exceeded) {
    console.error(
      `error: the state leaves the range ±${2 ** (24 - bits!)} of the 2^-${bits} grid: exact mode cannot hold this model at these weights; use fewer --exact bits`,
    );
    return 1;
  }
  if (nonFinite) {
    console.error(
      "error: the check produced non-finite values (NaN or Infinity): the weights or the data overflow in float32",
    );
    return 1;
  }
  return 0;
}
