// Pooling over the graphs of a batch (ops/pool.ts): one invocation per (graph, column), looping
// over the graph's contiguous node range — the segmented-reduction pattern of segments.ts with node
// ranges for segments, so no atomics and a fixed summation order. Over `nodes` the single range is
// [0, N). The reduced expression is inlined, never stored.
import type { Op } from "../ir/types.js";
import { pooledRows, type PoolOver } from "../ir/ops/pool.js";
import type { Step } from "../contract.js";
import { emitter, loweringOf, WORKGROUP, type KernelContext } from "./context.js";
import type { Sink } from "./expr.js";
import { F32_MAX, gridOf, KernelBuilder } from "./kernel-builder.js";

/** out[g, c] = ⊕ over the nodes n of graph g of x[n, c]. */
export function poolKernel(ctx: KernelContext, op: Op): Step {
  const over: PoolOver = op.attrs.over === "nodes" ? "nodes" : "graphs";
  const kb = new KernelBuilder(`pool_${over}`);
  kb.implements.push(op.opcode);
  const x = op.inputs[0]!;
  const out = op.outputs[0]!;
  const rows = pooledRows(over);
  const width = x.shape[1]!;
  const W = kb.dim(width);
  const outer: Sink = { lines: [], indent: "  " };
  const inner: Sink = { lines: [], indent: "    " };
  const ex = emitter(ctx, kb, [outer, inner]);
  outer.lines.push(
    `  if (idx >= ${kb.dim(rows)} * ${W}) { return; }`,
    `  let seg = idx / ${W};`,
    `  let col = idx % ${W};`,
  );
  let range: [string, string];
  if (over === "graphs") {
    const ptr = kb.graph("graph_ptr");
    range = [`${ptr}[seg]`, `${ptr}[seg + 1u]`];
  } else range = ["0u", kb.dim("N")];
  const val = ex.at(x, { row: { kind: "index", expr: "k", level: 1 }, col: "col", colLevel: 0 });
  const sum = loweringOf(op, "segment").combine === "sum";
  const o = kb.value(out, "read_write");
  const body = [
    ...outer.lines,
    `  let k0 = ${range[0]};`,
    `  let k1 = ${range[1]};`,
    `  var acc = ${sum ? "0.0" : `-${F32_MAX}`};`,
    "  for (var k = k0; k < k1; k = k + 1u) {",
    ...inner.lines,
    sum ? `    acc = acc + ${val};` : `    acc = max(acc, ${val});`,
    "  }",
    // An empty graph pools to 0 (as an aggregation over no edges does).
    `  ${o}[${kb.offset(out)} + idx] = ${sum ? "acc" : "select(0.0, acc, k1 > k0)"};`,
  ];
  const name = ctx.name(`${sum ? "sum" : "max"}_over_${over}`, out.hint);
  const header = [`${op.opcode} over ${over}: each node range reduced in order, no atomics`];
  return {
    kind: "kernel",
    kernel: ctx.register(
      kb.finish(name, body.join("\n"), WORKGROUP, header, gridOf([rows, width])),
    ),
    writes: [out],
  };
}
