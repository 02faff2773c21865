// `revgnn gradcheck`: a model's derived gradients against central finite differences, in float64
// on the reference interpreter, on a small random graph — what a researcher runs after writing a
// new operator or layer, before trusting any GPU number (`check` compares two derived backwards
// with each other; this compares the derivation with the mathematics). No GPU is used.
import { gradcheck, sampleEntries } from "../compiler/gradcheck/finite-differences.js";
import { randomModelCase } from "../compiler/gradcheck/model-case.js";
import { rng } from "../compiler/gradcheck/random.js";
import { compileForRun } from "./train-cmd.js";

export interface GradcheckCommandOptions {
  set: Record<string, string>;
  model?: string;
  nodes: number;
  edges: number;
  features: number;
  classes: number;
  /** Entries checked per parameter tensor (all when the tensor is smaller). */
  sample: number;
  seed: number;
  tolerance: number;
  /** Also check the stored-activation schedule (the reversible one is always checked). */
  storeActivations: boolean;
}

const e = (x: number) => (Number.isNaN(x) ? "NaN" : x.toExponential(2));

export function gradcheckCommand(file: string, o: GradcheckCommandOptions): number {
  const { model } = compileForRun(file, o);
  const m = model.train;
  const c = randomModelCase(m, o.seed + 1, {
    N: o.nodes,
    E: o.edges,
    F: o.features,
    K: o.classes,
  });
  const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
  const wrt = m.params.map((_, i) => c.numData + i);
  const opts = { dims: c.dims, graph: c.graph, seed: o.seed, step: 1 };
  const schedules = o.storeActivations ? (["auto", "store"] as const) : (["auto"] as const);
  console.log(
    `${model.name}: ${m.params.length} parameter tensors, derived gradients against five-point ` +
      `central differences (float64 interpreter, h = 1e-4) on a random graph of ${c.dims.N} nodes ` +
      `and ${c.graph.base.numEdges} edges, seed ${o.seed}; dropout on (the hash masks are the same ` +
      `in every evaluation)`,
  );
  let failed = 0;
  for (const schedule of schedules) {
    const rand = rng(o.seed + 7);
    const r = gradcheck(lossOnly, c.inputs, wrt, opts, { scanPolicy: schedule }, 1e-4, (_k, size) =>
      sampleEntries(size, o.sample, rand),
    );
    const label = schedule === "auto" ? "the model's schedule" : "stored activations";
    console.log(`\n${label}:`);
    const width = Math.max(...m.params.map((p) => p.name.length), "parameter".length);
    console.log(
      `${"parameter".padEnd(width)}  ${"checked".padStart(11)}  ${"rel. error".padStart(10)}  worst entry (derived vs numeric)`,
    );
    m.params.forEach((p, k) => {
      const check = r.perInput[k]!;
      const size = c.inputs[c.numData + k]!.data.length;
      const bad = !(check.relError <= o.tolerance);
      if (bad) failed++;
      const w = check.worst;
      console.log(
        `${p.name.padEnd(width)}  ${`${check.entries.length}/${size}`.padStart(11)}  ${e(check.relError).padStart(10)}  ` +
          `[${w.index}] ${w.derived.toPrecision(6)} vs ${w.numeric.toPrecision(6)}${bad ? "  ✗" : ""}`,
      );
    });
  }
  if (failed > 0) {
    console.error(
      `\n${failed} gradient${failed === 1 ? "" : "s"} off by more than ${e(o.tolerance)}. ` +
        "If only one seed fails, an entry may sit within h of a kink (relu, abs, max at 0): try " +
        "another --seed; if every seed fails, the derived gradient (a VJP rule) is wrong.",
    );
    return 1;
  }
  console.log(`\nevery gradient within ${e(o.tolerance)} of finite differences`);
  return 0;
}
