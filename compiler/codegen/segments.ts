// Segment reductions over the graph: one invocation per (node, column), looping over the node's
// edges in the CSR (by destination) or the CSC (by source). The message is inlined, never stored.
import type { Op } from "../ir/types.js";
import type { Step } from "../contract.js";
import { emitter, loweringOf, WORKGROUP, type KernelContext } from "./context.js";
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
  const W = kb.dim(width);
  const outer: Sink = { lines: [], indent: "  " };
  const inner: Sink = { lines: [], indent: "    " };
  const ex = emitter(ctx, kb, [outer, inner]);
  outer.lines.push(
    `  if (idx >= ${kb.dim("N")} * ${W}) { return; }`,
    `  let node = idx / ${W};`,
    `  let col = idx % ${W};`,
  );
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
  const val = ex.at(m, { row: edge, col: "col", colLevel: 0 });
  const sum = loweringOf(op, "segment").combine === "sum";
  let selfTerm = "";
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
    selfTerm = ex.at(m, { row: selfEdge, col: "col", colLevel: 0 });
  }
  const o = kb.value(out, "read_write");
  const body = sum
    ? [
        ...outer.lines,
        `  var acc = ${loops ? selfTerm : "0.0"};`,
        `  for (var k = ${range[0]}; k < ${range[1]}; k = k + 1u) {`,
        ...inner.lines,
        `    acc = acc + ${val};`,
        "  }",
        `  ${o}[${kb.offset(out)} + idx] = acc;`,
      ]
    : [
        ...outer.lines,
        `  var acc = ${loops ? selfTerm : `-${F32_MAX}`};`,
        `  let k0 = ${range[0]};`,
        `  let k1 = ${range[1]};`,
        "  for (var k = k0; k < k1; k = k + 1u) {",
        ...inner.lines,
        `    acc = max(acc, ${val});`,
        "  }",
        // A node without edges (and without a self loop) aggregates 0, as in PyG.
        `  ${o}[${kb.offset(out)} + idx] = ${loops ? "acc" : "select(0.0, acc, k1 > k0)"};`,
      ];
  const name = ctx.name(`${sum ? "sum" : "max"}_by_${byDst ? "dst" : "src"}`, out.hint);
  const header = [
    `${op.opcode} by ${byDst ? "destination (CSR)" : "source (CSC)"}${loops ? " with self loops" : ""}: message inlined, never stored`,
  ];
  return {
    kind: "kernel",
    kernel: ctx.register(kb.finish(name, body.join("\n"), WORKGROUP, header, gridOf(["N", width]))),
    writes: [out],
  };
}
