// Reconstruction drift of reversible stacks. Rebuilding activations in floating point drifts from
// the true ones; this builds the program that measures it: the forward pass keeping every block's
// true input and output (stored activations, for the measurement only), then the backward walk
// rebuilding each block's input from its output with the derived inverse — from the rebuilt
// value, or from the true output at checkpoint boundaries (`--checkpoint-every k`) — and, per
// block, the error of the rebuilt input against the true one.
import { Builder } from "./ir/builder.js";
import { inlineGraph } from "./ir/inline.js";
import { isScan, scanAttrs } from "./ir/ops/control.js";
import { Graph, Value, tensorType, type Op } from "./ir/types.js";
import { inverseBody, scanStoreReason } from "./inverse/rev-backward.js";

export interface DriftScan {
  label: string;
  count: number;
}

export interface DriftGraph {
  /**
   * inputs  [the model's inputs…, one checkpoint-flag vector [L] per reversible loop]
   * outputs [loss, then per loop: ‖rebuilt − true‖² [L], ‖true‖² [L], elements that differ [L],
   *          largest |value| of the true input [L]]
   */
  graph: Graph;
  scans: DriftScan[];
}

export function isReversibleScan(op: Op): boolean {
  return isScan(op) && scanStoreReason(op) === undefined;
}

const fresh = (v: Value, hint?: string) => new Value(tensorType(v.shape), hint ?? v.hint);

/**
 * A copy of `model` with each reversible loop replaced by what `rewrite` emits for it (its
 * outputs, then measurements): the shared frame of the diagnostic graphs (drift, exact mode's
 * range). Inputs: the model's, then `extraInputs`; outputs: the model's first (the loss), then
 * every loop's measurements in program order.
 */
export function mapReversibleScans(
  model: Graph,
  name: string,
  extraInputs: Value[],
  rewrite: (
    b: Builder,
    op: Op,
    ins: Value[],
    scanIndex: number,
  ) => { outputs: Value[]; measures: Value[] },
): { graph: Graph; scans: DriftScan[] } {
  const scans = model.ops.filter(isReversibleScan);
  const inputs = model.inputs.map((v) => fresh(v));
  const g = new Graph(`${model.name}_${name}`, [...inputs, ...extraInputs]);
  const b = new Builder(g);
  const env = new Map<Value, Value>(model.inputs.map((v, i) => [v, inputs[i]!]));
  const measures: Value[] = [];
  for (const op of model.ops) {
    const ins = op.inputs.map((v) => env.get(v)!);
    const r = isReversibleScan(op)
      ? rewrite(b, op, ins, scans.indexOf(op))
      : { outputs: b.emit(op.opcode, ins, op.attrs, op.regions), measures: [] };
    op.outputs.forEach((v, i) => env.set(v, r.outputs[i]!));
    measures.push(...r.measures);
  }
  g.outputs = [env.get(model.outputs[0]!)!, ...measures];
  return {
    graph: g,
    scans: scans.map((op) => ({ label: op.regions[0]!.name, count: scanAttrs(op.attrs).count })),
  };
}

export function driftGraph(model: Graph): DriftGraph {
  const flags = model.ops
    .filter(isReversibleScan)
    .map((op) => new Value(tensorType([scanAttrs(op.attrs).count]), "checkpoint_flags"));
  return mapReversibleScans(model, "drift", flags, (b, op, ins, flagIndex) => {
    const a = scanAttrs(op.attrs);
    const nc = a.numCarry;
    const body = op.regions[0]!;
    // Forward, keeping each block's input and output.
    const kept = new Graph(body.name, body.inputs);
    kept.ops.push(...body.ops);
    kept.outputs = [...body.outputs, ...body.inputs.slice(0, nc), ...body.outputs.slice(0, nc)];
    const fwd = b.emit("scan", ins, op.attrs, [kept]);
    // After the loop's own outputs (carried, then per-block model states): the kept ones.
    const own = body.outputs.length;
    const statesIn = fwd.slice(own, own + nc);
    const statesOut = fwd.slice(own + nc, own + 2 * nc);

    // Backward walk with the derived inverse.
    const inv = inverseBody(body, nc);
    const carry = body.outputs.slice(0, nc).map((v) => fresh(v, "rebuilt"));
    const xs = body.inputs.slice(nc, nc + a.numXs).map((v) => fresh(v));
    const trueIn = carry.map((v) => fresh(v, "true_input"));
    const trueOut = carry.map((v) => fresh(v, "true_output"));
    const flag = new Value(tensorType([]), "at_checkpoint");
    const consts = body.inputs.slice(nc + a.numXs).map((v) => fresh(v));
    const walk = new Graph(`${body.name}_rebuild`, [
      ...carry,
      ...xs,
      ...trueIn,
      ...trueOut,
      flag,
      ...consts,
    ]);
    const wb = new Builder(walk);
    // At a checkpoint the stored output replaces the rebuilt one (exactly: 1·s + 0·c = s).
    const start = carry.map((c, j) =>
      wb.add(wb.mul(flag, trueOut[j]!), wb.mul(wb.sub(wb.fill(1), flag), c)),
    );
    const rebuilt = inlineGraph(wb, inv, [...start, ...xs, ...consts]);
    let err = wb.fill(0);
    let norm = wb.fill(0);
    let differ = wb.fill(0);
    let largest = wb.fill(0);
    rebuilt.forEach((r, j) => {
      const t = trueIn[j]!;
      err = wb.add(err, wb.op("sum_all", [wb.unary("square", wb.sub(r, t))]));
      norm = wb.add(norm, wb.op("sum_all", [wb.unary("square", t)]));
      differ = wb.add(differ, wb.op("sum_all", [wb.sub(wb.fill(1), wb.op("eq", [r, t]))]));
      largest = wb.op("maximum", [largest, maxAbs(wb, t)]);
    });
    walk.outputs = [...rebuilt, err, norm, differ, largest];
    const back = b.emit(
      "scan",
      [
        ...fwd.slice(0, nc),
        ...ins.slice(nc, nc + a.numXs),
        ...statesIn,
        ...statesOut,
        flags[flagIndex]!,
        ...ins.slice(nc + a.numXs),
      ],
      { count: a.count, numCarry: nc, numXs: a.numXs + 2 * nc + 1, reverse: true },
      [walk],
    );
    return { outputs: fwd.slice(0, op.outputs.length), measures: back.slice(nc) };
  });
}

/** max |x| over a matrix, as a scalar. */
function maxAbs(b: Builder, x: Value): Value {
  const rows = b.op("row_max", [b.unary("abs", x)]);
  const flat = b.op("reshape", [rows], { shape: [1, rows.shape[0]!] });
  return b.op("reshape", [b.op("row_max", [flat])], { shape: [] });
}

/** Checkpoint flags for a loop of `count` blocks keeping every k-th block's input. */
export function checkpointFlags(count: number, every: number | undefined): Float32Array {
  const f = new Float32Array(count);
  if (every && every > 0) for (let l = 0; l < count - 1; l++) if ((l + 1) % every === 0) f[l] = 1;
  return f;
}
