// Before code generation, rev_blocks become their plain statements: on the device a reversible
// block is just its updates in order (the derived inverse and backward were built from the
// statements earlier, by autodiff). Scans and fixpoints stay: they are the runtime's loops.
import { expandRevBlock } from "../autodiff/control.js";
import { Builder } from "../ir/builder.js";
import { inlineGraph } from "../ir/inline.js";
import { isRevBlock } from "../ir/ops/control.js";
import { Graph, Op } from "../ir/types.js";

function hasRevBlock(g: Graph): boolean {
  return g.ops.some((op) => isRevBlock(op) || op.regions.some(hasRevBlock));
}

/**
 * A graph with every rev_block (at any depth) replaced by its statements. Ops that neither are
 * nor contain rev_blocks keep their results, so values outside blocks keep their identity (the
 * runtime attaches memory categories to some of them: parameter gradients, for instance).
 */
export function expandRevBlocks(g: Graph): Graph {
  if (!hasRevBlock(g)) return g;
  const out = new Graph(g.name, g.inputs);
  const b = new Builder(out);
  const env = new Map(g.inputs.map((v) => [v, v]));
  for (const op of g.ops) {
    const ins = op.inputs.map((v) => env.get(v)!);
    if (isRevBlock(op)) {
      b.loc = op.loc;
      const outs = inlineGraph(b, expandRevBlocks(expandRevBlock(op)), ins);
      op.outputs.forEach((v, i) => {
        outs[i]!.hint ??= v.hint;
        env.set(v, outs[i]!);
      });
      continue;
    }
    out.ops.push(
      new Op(op.opcode, ins, op.outputs, op.attrs, op.regions.map(expandRevBlocks), op.loc),
    );
    for (const v of op.outputs) env.set(v, v);
  }
  out.outputs = g.outputs.map((v) => env.get(v)!);
  return out;
}
