// Every example model: derived gradients against finite differences in float64 (relative error
// < 1e-6, dropout on — masks are a deterministic hash), and for reversible models the memory-free
// backward against stored-activation backprop (1e-10).
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { vjpGraph } from "../../compiler/autodiff/core.js";
import { interpret } from "../../compiler/ir/interp.js";
import { maxAbsDiff, tensor } from "../../compiler/ir/tensor.js";
import { verifyGraph } from "../../compiler/ir/verify.js";
import { gradcheck } from "../../compiler/gradcheck/finite-differences.js";
import { compileExample, randomModelCase } from "../helpers/model.js";

const examples = readdirSync("examples").filter((f) => f.endsWith(".gnn"));

/**
 * Known failures, kept visible (a fix makes `it.fails` fail, so this list must then shrink). Empty:
 * revgat-heads.gnn's 1.6e-5 was round-off against a_dst's gradient of norm 1e-7 (gradcheck now
 * measures such gradients against the stencil's resolution).
 */
const KNOWN_FAILURES = new Set<string>();

describe("example models: derived gradients", () => {
  it("there are examples", () => expect(examples.length).toBeGreaterThanOrEqual(7));

  for (const file of examples) {
    const test = KNOWN_FAILURES.has(file) ? it.fails : it;
    test(`${file}: finite differences and reversible = stored`, () => {
      const model = compileExample(file, { L: "2", D: "8" });
      const m = model.train;
      const c = randomModelCase(m, 41);
      const opts = { dims: c.dims, graph: c.graph, seed: 5, step: 3 };
      // Loss only: the prediction output gets a zero cotangent.
      const lossOnly = { ...m.graph, outputs: [m.graph.outputs[0]!] } as typeof m.graph;
      const wrt = m.params.map((_, i) => c.numData + i);
      const fd = gradcheck(lossOnly, c.inputs, wrt, opts);
      expect(fd.maxRelError).toBeLessThan(1e-6);

      const rev = vjpGraph(lossOnly, wrt, { scanPolicy: "auto" });
      const sto = vjpGraph(lossOnly, wrt, { scanPolicy: "store" });
      verifyGraph(rev);
      verifyGraph(sto);
      const a = interpret(rev, [...c.inputs, tensor([], [1])], opts);
      const s = interpret(sto, [...c.inputs, tensor([], [1])], opts);
      a.forEach((t, i) => expect(maxAbsDiff(t, s[i]!)).toBeLessThan(1e-10));
    });
  }
});
