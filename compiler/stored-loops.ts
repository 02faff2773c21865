// Loops that keep their activations. A `repeat` whose body cannot run reversibly (it drops part of
// its state, accumulates it like `jk += h`, passes it through a plain residual) is trained with
// stored activations: memory O(L) instead of O(1) in depth. That is decided in autodiff; this
// module says so to the user, located at the `repeat`, and turns it into an error when a run
// requires every loop to be reversible (`--require-reversible`).
import type { Span } from "../grammar/ast.js";
import type { Diagnostic } from "../grammar/diagnostics.js";
import { scanStoreReason } from "./inverse/rev-backward.js";
import type { Graph } from "./ir/types.js";
import { isRevBlock, isScan } from "./ir/ops/control.js";

export interface StoredLoop {
  label: string;
  blocks: number;
  span?: Span;
  /** Why the backward cannot rebuild the loop's inputs (the reason autodiff acts on). */
  reason: string;
  /** Its body holds a reversible layer: the loop was written to run reversibly. */
  meantReversible: boolean;
}

function holdsReversibleLayer(g: Graph): boolean {
  return g.ops.some((op) => isRevBlock(op) || op.regions.some(holdsReversibleLayer));
}

/** Every loop of the graph (nested ones included) whose backward keeps its activations. */
export function loopsKeepingActivations(g: Graph): StoredLoop[] {
  const out: StoredLoop[] = [];
  const visit = (graph: Graph) => {
    for (const op of graph.ops) {
      const reason = isScan(op) ? scanStoreReason(op) : undefined;
      if (reason !== undefined) {
        const body = op.regions[0]!;
        out.push({
          label: body.name,
          blocks: op.attrs.count as number,
          span: op.loc,
          reason,
          meantReversible: holdsReversibleLayer(body),
        });
      }
      op.regions.forEach(visit);
    }
  };
  visit(g);
  return out;
}

/**
 * What a run says about a loop that keeps its activations: a warning when the loop holds
 * reversible layers (the user expected memory flat in depth), a note for a plain loop (ResGCN keeps
 * its residuals by design); an error under `--require-reversible`.
 */
export function storedLoopDiagnostic(loop: StoredLoop, required: boolean): Diagnostic {
  const what = `loop \`${loop.label}\` (${loop.blocks} blocks)`;
  if (required) {
    return {
      severity: "error",
      message: `${what} cannot run reversibly: ${loop.reason}`,
      span: loop.span,
      hint:
        "--require-reversible refuses loops that keep their activations: every carried variable " +
        "must be updated only by reversible layers and kept whole; without the option, the loop " +
        "trains with stored activations",
    };
  }
  return {
    severity: loop.meantReversible ? "warning" : "note",
    message: `${what} keeps its activations (memory grows with depth): ${loop.reason}`,
    span: loop.span,
    hint: "the backward cannot rebuild this loop's inputs, so it stores them; --require-reversible makes this an error",
  };
}
