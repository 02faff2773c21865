// Tuple indexing: `let t = split(h, 2)` names the whole tuple and `t[i]` reads item i; a call of a
// layer returning several tensors is indexed the same way. The indexed program computes exactly
// what the unpacked one does.
import { describe, expect, it } from "vitest";
import { compileSource, expectModel } from "../../compiler/compile.js";
import { interpret } from "../../compiler/ir/interp.js";
import { parseProgram } from "../../grammar/index.js";
import { randomModelCase } from "../helpers/model.js";

const layer = `
layer two(x: [N, d]) -> ([N, d], [N, d]) {
  return (relu(x), tanh(x))
}
`;
const model = (body: string) => `${layer}
model M(x: [N, F], y: labels[N, K]; D: int = 8) {
  param W_in: [F, D] = glorot
  param W_out: [4, K] = glorot
${body}
  output m
  loss cross_entropy(m @ W_out, y)
}
`;

const indexed = model(`
  let t = split(x @ W_in, 2)
  let m = two(t[1])[0] * t[0] - two(t[0])[1]`);
const unpacked = model(`
  let (a, b) = split(x @ W_in, 2)
  let (r, _) = two(b)
  let (_, s) = two(a)
  let m = r * a - s`);

describe("tuple indexing", () => {
  it("parses t[0] as an item and x[u] as an endpoint read", () => {
    const r = parseProgram(
      "layer f(x: [N, d]) -> [N, d] { let t = split(x, 2)\n return t[1] }",
      "t.gnn",
    );
    expect(r.diagnostics).toEqual([]);
    const f = r.program.decls[0]!;
    const ret = f.kind === "layer" ? f.body.at(-1) : undefined;
    expect(ret && ret.kind === "return" && ret.values[0]).toMatchObject({
      kind: "item",
      target: { kind: "name", name: "t" },
      index: { kind: "number", value: 1 },
    });
  });

  it("computes what unpacking computes", () => {
    const a = expectModel(compileSource(indexed, "indexed.gnn")).train;
    const b = expectModel(compileSource(unpacked, "unpacked.gnn")).train;
    const c = randomModelCase(a, 5);
    const opts = { dims: c.dims, graph: c.graph };
    const [, ma] = interpret(a.graph, c.inputs, opts);
    const [, mb] = interpret(b.graph, c.inputs, opts);
    expect(Array.from(ma!.data)).toEqual(Array.from(mb!.data));
  });
});
