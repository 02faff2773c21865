// Before code generation, rev_blocks become their plain statements: on the device a reversible
// block is just its updates in order (the derived inverse and backward were built from the
// statements earlier, by autodiff). Scans and fixpoints stay: they are the runtime's loops.
import { expandRevBlock } from "../autodiff/control.js";
import { Builder } from "../ir/builder.js";
import { inlineGraph } from "../ir/inline.js";
import { Graph, type Op } from "../ir/types.js";

function hasRevBlock(g: Graph): boolean {
  return g.ops.some((op) => op.opcode === "rev_block" || op.regions.some(hasRevBlock));
}

/** A graph with every rev_block (at any depth) replaced by its statements. */
export function expandRevBlocks(g: Graph): Graph {
  if (!hasRevBlock(g)) return g;
  const out = new Graph(g.name, g.inputs);
  const b = new Builder(out);
  const env = new Map(g.inputs.map((v) => [v, v]));
  for (const op of g.ops) {
    const ins = op.inputs.map((v) => env.get(v)!);
    b.loc = op.loc;
    let outs;
    if (op.opcode === "rev_block") {
      outs = inlineGraph(b, expandRevBlocks(expandRevBlock(op)), ins);
    } else {
      outs = b.emit(op.opcode, ins, op.attrs, op.regions.map(expandRevBlocks));
    }
    op.outputs.forEach((v, i) => {
      outs[i]!.hint ??= v.hint;
      env.set(v, outs[i]!);
    });
  }
  out.outputs = g.outputs.map((v) => env.get(v)!);
  return out;
}

export type { Op };
