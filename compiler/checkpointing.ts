// `--checkpoint-every k`: a reversible loop of L blocks becomes L/k segments of k blocks,
//   scan(L/k) { scan(k) { block } }
// The inner loop stays reversible (its backward rebuilds inputs from outputs); the outer body —
// a whole loop — is not an invertible op, so autodiff keeps what its backward reads: each
// segment's output. Memory is O(N·D·L/k) and rebuilding restarts from a stored, exact value every
// k blocks, which bounds the floating-point drift.
import { Builder } from "./ir/builder.js";
import { scanAttrs } from "./ir/ops/control.js";
import { Graph, Value, tensorType } from "./ir/types.js";
import { isReversibleScan } from "./drift.js";

export class CheckpointingError extends Error {}

export function segmentReversibleScans(g: Graph, every: number): Graph {
  if (!g.ops.some((op) => isReversibleScan(op) && scanAttrs(op.attrs).count > every)) return g;
  const out = new Graph(g.name, g.inputs);
  const b = new Builder(out);
  const env = new Map<Value, Value>(g.inputs.map((v) => [v, v]));
  for (const op of g.ops) {
    const ins = op.inputs.map((v) => env.get(v)!);
    const a = scanAttrs(op.attrs);
    if (!isReversibleScan(op) || a.count <= every) {
      const outs = b.emit(op.opcode, ins, op.attrs, op.regions);
      op.outputs.forEach((v, i) => env.set(v, outs[i]!));
      continue;
    }
    if (a.count % every !== 0) {
      throw new CheckpointingError(
        `--checkpoint-every ${every} does not divide the ${a.count} blocks of \`${op.regions[0]!.name}\``,
      );
    }
    const segments = a.count / every;
    const nc = a.numCarry;
    const carryIn = ins.slice(0, nc);
    const xs = ins
      .slice(nc, nc + a.numXs)
      .map((x) => b.op("reshape", [x], { shape: [segments, every, ...x.shape.slice(1)] }));
    const consts = ins.slice(nc + a.numXs);
    // Outer body: one segment = the original loop over k blocks.
    const outerIns = [
      ...carryIn.map((v) => new Value(tensorType(v.shape), v.hint)),
      ...xs.map((x) => new Value(tensorType(x.shape.slice(1)), x.hint)),
      ...consts.map((v) => new Value(tensorType(v.shape), v.hint)),
    ];
    const segment = new Graph(`${op.regions[0]!.name}_segment`, outerIns);
    const sb = new Builder(segment, op.loc);
    segment.outputs = sb.emit("scan", outerIns, { ...op.attrs, count: every }, op.regions);
    const outs = b.emit("scan", [...carryIn, ...xs, ...consts], { ...op.attrs, count: segments }, [
      segment,
    ]);
    // Per-iteration outputs (model state) come back as [segments, k, …]: one row per block again.
    op.outputs.forEach((v, i) =>
      env.set(v, i < nc ? outs[i]! : b.op("reshape", [outs[i]!], { shape: [...v.shape] })),
    );
  }
  out.outputs = g.outputs.map((v) => env.get(v)!);
  return out;
}
