// Segment reductions over the graph: one invocation per (node, column) — or per (node, run of
// consecutive columns) on CPU drivers — looping over the node's edges in the CSR (by
// destination) or the CSC (by source). The message is inlined, never stored.
import type { Op } from "../ir/types.js";
import type { Step } from "../contract.js";
import { columnRun, emitter, loweringOf, WORKGROUP, type KernelContext } from "./context.js";
import type { RowRef, Sink } from "./expr.js";
import { F32_MAX, gridOf, KernelBuilder } from "./kernel-builder.js";

/**
 * out[v, c] = ⊕ over the edges of v of message(e, c): by destination over the CSR, by source
 * over the CSC (the reversed graph: how gradients flow back to sources without atomics).
 */
export function segmentKernel(ctx: KernelContext, op: Op): Step {
  const kb = new KernelBuilder(op.attrs.by === "src" ? "segment_csc" : "segment_csr");
  kb.implements.push(op.opcode);
  const m = op.inputs[0]!;
  const out = op.outputs[0]!;
  const loops = !!op.attrs.loops;
  const byDst = op.attrs.by !== "src";
  const width = m.shape[1]!;
  // An invocation computes `per` consecutive columns (ctx.columnsPerInvocation): the per-edge
  // work that does not depend on the column (source index, degrees, normalisation) is emitted
  // once and shared, as the emitter memoises by coordinate.
  const per = ctx.columnsPerInvocation(width);
  const W = kb.dim(width);
  const runs = per === 1 ? W : kb.dim(Number(width) / per); // invocations per node
  const outer: Sink = { lines: [], indent: "  " };
  const inner: Sink = { lines: [], indent: "    " };
  const ex = emitter(ctx, kb, [outer, inner]);
  outer.lines.push(
    `  if (idx >= ${kb.dim("N")} * ${runs}) { return; }`,
    `  let node = idx / ${runs};`,
    per === 1 ? `  let col = idx % ${W};` : `  let col = (idx % ${runs}) * ${per}u;`,
  );
  const cols = columnRun("col", per);
  const accs = cols.map((_, j) => (per === 1 ? "acc" : `acc${j}`));
  const rowptr = kb.graph("csr_rowptr");
  let edge: RowRef;
  let range: [string, string];
  if (byDst) {
    const src = kb.graph("csr_src");
    range = [`${rowptr}[node]`, `${rowptr}[node + 1u]`];
    edge = {
      kind: "edge",
      src: `${src}[k]`,
      dst: "node",
      id: loops ? "(k + node)" : "k",
      level: 1,
      srcLevel: 1,
      dstLevel: 0,
    };
  } else {
    const colptr = kb.graph("csc_colptr");
    const dst = kb.graph("csc_dst");
    const eid = kb.graph("csc_eid");
    range = [`${colptr}[node]`, `${colptr}[node + 1u]`];
    edge = {
      kind: "edge",
      src: "node",
      dst: `${dst}[k]`,
      id: loops ? `(${eid}[k] + ${dst}[k])` : `${eid}[k]`,
      level: 1,
      srcLevel: 0,
      dstLevel: 1,
    };
  }
  const vals = cols.map((col) => ex.at(m, { row: edge, col, colLevel: 0 }));
  const sum = loweringOf(op, "segment").combine === "sum";
  let selfTerms: string[] = [];
  if (loops) {
    const selfEdge: RowRef = {
      kind: "edge",
      src: "node",
      dst: "node",
      id: `(${rowptr}[node + 1u] + node)`,
      level: 0,
      srcLevel: 0,
      dstLevel: 0,
    };
    selfTerms = cols.map((col) => ex.at(m, { row: selfEdge, col, colLevel: 0 }));
  }
  const o = kb.value(out, "read_write");
  const at = (j: number) => `${o}[${kb.offset(out)} + node * ${W} + ${cols[j]}]`;
  const init = (j: number) => (loops ? selfTerms[j]! : sum ? "0.0" : `-${F32_MAX}`);
  const update = (j: number) =>
    sum ? `${accs[j]} = ${accs[j]} + ${vals[j]};` : `${accs[j]} = max(${accs[j]}, ${vals[j]});`;
  // A node without edges (and without a self loop) takes 0 under max, as in PyG.
  const result = (j: number) => (sum || loops ? accs[j]! : `select(0.0, ${accs[j]}, k1 > k0)`);
  const body = [
    ...outer.lines,
    ...accs.map((a, j) => `  var ${a} = ${init(j)};`),
    `  let k0 = ${range[0]};`,
    `  let k1 = ${range[1]};`,
    "  for (var k = k0; k < k1; k = k + 1u) {",
    ...inner.lines,
    ...accs.map((_, j) => `    ${update(j)}`),
    "  }",
    ...accs.map(
      (_, j) => `  ${per === 1 ? `${o}[${kb.offset(out)} + idx]` : at(j)} = ${result(j)};`,
    ),
  ];
  const name = ctx.name(`${sum ? "sum" : "max"}_by_${byDst ? "dst" : "src"}`, out.hint);
  const header = [
    `${op.opcode} by ${byDst ? "destination (CSR)" : "source (CSC)"}${loops ? " with self loops" : ""}: message inlined, never stored`,
  ];
  return {
    kind: "kernel",
    kernel: ctx.register(
      kb.finish(
        name,
        body.join("\n"),
        WORKGROUP,
        header,
        per === 1 ? gridOf(["N", width]) : gridOf(["N", Number(width) / per]),
      ),
    ),
    writes: [out],
  };
}
