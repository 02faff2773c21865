// The hints that come with the common slips: the corpus test checks messages and places, this one
// what each slip's hint tells the user to write instead.
import { expect, it } from "vitest";
import { parseProgram } from "../../grammar/index.js";

const inLayer = (stmts: string) => `layer f(x: [N, d], h: [N, d]; L: int) -> [N, d] {\n${stmts}\n}`;

it.each([
  [
    "let with an update",
    inLayer("let h += x"),
    "found `+=`",
    "to update a variable write `h += …`",
  ],
  ["`:=`", inLayer("let y := x"), "did you mean `=`?", "names are bound with `let x = …`"],
  [
    "`=>`",
    inLayer("return aggregate sum over edges (u => v) { x[u] }"),
    "did you mean `->`?",
    "`(u -> v)`",
  ],
  [
    "no `->`",
    "layer f(x: [N, d]) [N, d] { return x }",
    "expected `->`",
    "`layer f(…) -> [N, d] { … }`",
  ],
  [
    "repeat without a count",
    inLayer("repeat { h += x }"),
    "expected a repeat count",
    "`repeat L { … }`",
  ],
  [
    "aggregate without over",
    inLayer("return aggregate sum { x[u] }"),
    "`over edges (u -> v)`",
    "aggregate sum over edges",
  ],
  [
    "aggregate without edges",
    inLayer("return aggregate sum over (u -> v) { x[u] }"),
    "expected `edges`",
    "",
  ],
  ["`* =`", inLayer("x * = h"), "did you mean `*=`?", "without a space"],
  ["call statement", inLayer("relu(x)"), "a call on its own", "bind its result with `let y = …`"],
  [
    "hyper before `;`",
    "model M(x: [N, F], D: int) { output x }",
    "expected a tensor type",
    "after a `;`",
  ],
  ["trailing comma", inLayer("let y = f(x,)"), "found `)`", "remove the trailing `,`"],
  [
    "index expression",
    inLayer("let y = x[u v]"),
    "to close the endpoint index",
    "by an edge endpoint",
  ],
  [
    "keyword as a name",
    inLayer("let labels = x"),
    "expected a name or a tuple",
    "`labels` is a keyword",
  ],
  [
    "misspelt modifier",
    inLayer("repeat L shard { h += x }"),
    "found `shard`",
    "did you mean `shared`?",
  ],
  [
    "misspelt keyword",
    inLayer("returnh"),
    "`returnh` is not a keyword; did you mean `return`?",
    "",
  ],
  [
    "glued keyword",
    inLayer("outputlogits"),
    "after `outputlogits`",
    "did you mean `output logits`?",
  ],
  [
    "glued keyword, call",
    inLayer("losscross_entropy(x, h)"),
    "a call on its own",
    "`loss cross_entropy`?",
  ],
])("%s", (_, text, message, hint) => {
  const { diagnostics } = parseProgram(text, "t.gnn");
  expect(diagnostics).toHaveLength(1);
  expect(diagnostics[0].message).toContain(message);
  expect(diagnostics[0].hint ?? "").toContain(hint);
});
