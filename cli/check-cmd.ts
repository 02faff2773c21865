// `revgnn check`: reconstruction drift and gradient agreement of reversible loops, one step both
// ways (rebuilt activations against stored ones).
import { acquireGpu } from "../runtime/gpu/device.js";
import { GpuBackend } from "../runtime/exec/backend.js";
import { loadSafetensors } from "../runtime/checkpoint/safetensors.js";
import { checkReversibility } from "../runtime/train/check.js";
import { writeFileAtomic } from "../runtime/util/atomic-write.js";
import { compileForRun, loadData } from "./train-cmd.js";
import { UsageError } from "./errors.js";
import { checkOutputPaths } from "./output-paths.js";

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
  const { bits, model } = compileForRun(file, o);
  const ds = await loadData(o);
  let params: Float32Array[] | undefined;
  if (o.weights) {
    const ck = loadSafetensors(o.weights);
    params = model.train.params.map((p) => {
      const t = ck.tensors.get(p.name);
      if (!t) throw new UsageError(`${o.weights}: no tensor ${p.name}`);
      return Float32Array.from(t.data as ArrayLike<number>);
    });
  }
  const backend = new GpuBackend(await acquireGpu());
  const r = await checkReversibility(backend, model, ds, {
    seed: o.seed,
    checkpointEvery: o.checkpointEvery,
    perOp: bits !== undefined,
    params,
  });
  if (r.loops.length === 0) {
    console.log(`${model.name} has no reversible loop: nothing is rebuilt`);
  }
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
    console.log(
      `  largest |value| of the state: ${big.toPrecision(4)}` +
        (range !== undefined
          ? ` (exact range ±${range}${big >= range ? ": EXCEEDED — use fewer --exact bits" : ""})`
          : ""),
    );
  }
  const worst = r.gradients.reduce(
    (a, b) => (b.relativeDifference > a.relativeDifference ? b : a),
    r.gradients[0]!,
  );
  console.log(
    `gradients, rebuilt vs stored activations: largest relative difference ${e(worst.relativeDifference)} (${worst.name})`,
  );
  if (o.report) {
    await writeFileAtomic(
      o.report,
      JSON.stringify(
        {
          model: model.name,
          hyperparameters: model.train.hypers,
          exact_bits: bits ?? null,
          checkpoint_every: o.checkpointEvery ?? null,
          ...r,
        },
        null,
        2,
      ) + "\n",
    );
    console.log(`report written to ${o.report}`);
  }
  return 0;
}
