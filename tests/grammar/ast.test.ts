// Each construct of the grammar builds the AST of grammar/ast.ts, with exact spans for a few.
import { describe, expect, it } from "vitest";
import type * as ast from "../../grammar/ast.js";
import { parseProgram } from "../../grammar/index.js";
import { withoutSpans } from "./print.js";

function parseOk(text: string): ast.Program {
  const { program, diagnostics } = parseProgram(text, "t.gnn");
  expect(diagnostics).toEqual([]);
  return program;
}

/** The statements of a layer with the given body. */
function body(stmts: string): ast.Stmt[] {
  const decl = parseOk(`layer f(x: [N, d]) -> [N, d] {\n${stmts}\n}`).decls[0];
  return decl.body;
}

/** The expression bound by `let e = <text>`, without spans. */
function expr(text: string): unknown {
  const [stmt] = body(`let e = ${text}`);
  return withoutSpans((stmt as ast.LetStmt).value);
}

const name = (n: string) => ({ kind: "name", name: n });
const num = (text: string) => ({ kind: "number", value: Number(text), text });
const bin = (op: string, left: unknown, right: unknown) => ({ kind: "binary", op, left, right });
const call = (callee: string, ...args: unknown[]) => ({
  kind: "call",
  callee: { name: callee },
  args: args.map((value) => ({ value })),
});

describe("declarations", () => {
  it("builds a layer's signature, result type and body", () => {
    const [layer] = parseOk(
      "layer gcn_group(h: [N, d]; p: float = 0.5, k: int = -2, b: bool = true) -> [N, d] {\n  return h\n}",
    ).decls;
    expect(layer.kind).toBe("layer");
    if (layer.kind !== "layer") return;
    expect(layer.name).toEqual({
      name: "gcn_group",
      span: { file: "t.gnn", line: 1, col: 7, endLine: 1, endCol: 15, start: 6, end: 15 },
    });
    expect(withoutSpans(layer.args)).toEqual([
      {
        name: { name: "h" },
        type: {
          kind: "tensor_type",
          role: "tensor",
          dims: [
            { kind: "dim_name", name: "N" },
            { kind: "dim_name", name: "d" },
          ],
        },
      },
    ]);
    expect(withoutSpans(layer.hypers)).toEqual([
      {
        name: { name: "p" },
        type: "float",
        default: { kind: "lit_number", value: 0.5, isInt: false, text: "0.5" },
      },
      {
        name: { name: "k" },
        type: "int",
        default: { kind: "lit_number", value: -2, isInt: true, text: "-2" },
      },
      { name: { name: "b" }, type: "bool", default: { kind: "lit_bool", value: true } },
    ]);
    expect(layer.hypers[1].default?.span).toMatchObject({ col: 53, endCol: 54 });
    expect(layer.results).toHaveLength(1);
    expect(layer.reversible).toBe(false);
    expect(layer.body.map((s) => s.kind)).toEqual(["return"]);
    expect(layer.span).toMatchObject({ line: 1, col: 1, endLine: 3, endCol: 1 });
  });

  it("reads tuple results, reversible layers, models and empty signatures", () => {
    const p = parseOk(`
layer halves(x: [N, d]) -> ([N, d], [N, d]) { return (x, x) }
layer c(x1: [N, d], x2: [N, d]) reversible { x1 += x2 }
model M(x: [N, F], y: labels[N, K]; D: int) { loss ce(x, y) }
model E() {}
model H(; L: int = 4) {}`);
    expect(p.decls.map((d) => [d.kind, d.name.name])).toEqual([
      ["layer", "halves"],
      ["layer", "c"],
      ["model", "M"],
      ["model", "E"],
      ["model", "H"],
    ]);
    const [halves, c, m, e, h] = p.decls;
    expect(halves.kind === "layer" && halves.results.length).toBe(2);
    expect(c.kind === "layer" && [c.reversible, c.results.length]).toEqual([true, 0]);
    expect(m.args.map((a) => a.type.role)).toEqual(["tensor", "labels"]);
    expect(m.hypers[0]).not.toHaveProperty("default");
    expect([e.args, e.hypers, e.body]).toEqual([[], [], []]);
    expect(h.hypers.map((x) => x.name.name)).toEqual(["L"]);
  });

  it("reads tensor roles and dimension expressions with * and / binding tighter", () => {
    const [m] = parseOk("model M(y: multilabels[N, T], w: [(H + 1) / 2 * 2 - 1, 3]) {}").decls;
    expect(m.args[0].type.role).toBe("multilabels");
    const [d0, d1] = m.args[1].type.dims;
    const dn = (n: string) => ({ kind: "dim_name", name: n });
    const di = (v: number) => ({ kind: "dim_int", value: v });
    const db = (op: string, left: unknown, right: unknown) => ({
      kind: "dim_bin",
      op,
      left,
      right,
    });
    expect(withoutSpans(d0)).toEqual(
      db("-", db("*", db("/", db("+", dn("H"), di(1)), di(2)), di(2)), di(1)),
    );
    expect(withoutSpans(d1)).toEqual(di(3));
    // A parenthesised dimension's span includes its parentheses.
    const paren = (d0 as { left: { left: { left: ast.DimExpr } } }).left.left.left;
    expect(paren.span).toMatchObject({ col: 35, endCol: 41 });
  });
});

describe("statements", () => {
  it("builds params with initializers and their arguments", () => {
    const [w, b, s] = body(
      "param W: [d, d] = glorot\nparam b: [d] = normal(0.02, 1)\nparam s: [d] = constant(-1.5)",
    );
    expect(withoutSpans(w)).toMatchObject({
      kind: "param",
      name: { name: "W" },
      init: { name: { name: "glorot" }, args: [] },
    });
    expect(withoutSpans((b as ast.ParamStmt).init.args)).toEqual([
      { kind: "lit_number", value: 0.02, isInt: false, text: "0.02" },
      { kind: "lit_number", value: 1, isInt: true, text: "1" },
    ]);
    expect((s as ast.ParamStmt).init.args[0]).toMatchObject({ value: -1.5, text: "-1.5" });
    // The initializer's span runs from its name through the closing parenthesis.
    expect((s as ast.ParamStmt).init.span).toMatchObject({ line: 4, col: 16, endCol: 29 });
  });

  it("builds let, var, tuple bindings, assignments and updates", () => {
    const stmts = body(
      "let a = x\nvar h = x; let (p, q) = split(x, 2)\nh = p\n(p, q) = halves(h)\nh += p; h -= p\nh *= p\nh /= p",
    );
    expect(withoutSpans(stmts)).toEqual([
      { kind: "let", mutable: false, targets: [{ name: "a" }], tuple: false, value: name("x") },
      { kind: "let", mutable: true, targets: [{ name: "h" }], tuple: false, value: name("x") },
      {
        kind: "let",
        mutable: false,
        targets: [{ name: "p" }, { name: "q" }],
        tuple: true,
        value: call("split", name("x"), num("2")),
      },
      { kind: "assign", targets: [{ name: "h" }], tuple: false, value: name("p") },
      {
        kind: "assign",
        targets: [{ name: "p" }, { name: "q" }],
        tuple: true,
        value: call("halves", name("h")),
      },
      { kind: "update", target: { name: "h" }, op: "+=", value: name("p") },
      { kind: "update", target: { name: "h" }, op: "-=", value: name("p") },
      { kind: "update", target: { name: "h" }, op: "*=", value: name("p") },
      { kind: "update", target: { name: "h" }, op: "/=", value: name("p") },
    ]);
    expect(stmts[1].span).toMatchObject({ line: 3, col: 1, endLine: 3, endCol: 9 });
  });

  it("builds repeat loops with counts, `shared` and labels", () => {
    const [a, b, c] = body(
      "repeat L { x += 1 }\nrepeat 2 * L shared { }\nrepeat L shared as blocks { }",
    );
    expect(withoutSpans(a)).toEqual({
      kind: "repeat",
      count: { kind: "dim_name", name: "L" },
      shared: false,
      body: [{ kind: "update", target: { name: "x" }, op: "+=", value: num("1") }],
    });
    expect(withoutSpans(b)).toMatchObject({ count: { kind: "dim_bin", op: "*" }, shared: true });
    expect(b).not.toHaveProperty("label");
    expect(withoutSpans(c)).toMatchObject({ shared: true, label: { name: "blocks" } });
  });

  it("builds return (one value or a tuple's items), loss and output", () => {
    const [r1, r2, l, o] = body("return x\nreturn (x, -x)\nloss ce(x, y)\noutput x");
    expect(withoutSpans(r1)).toEqual({ kind: "return", values: [name("x")] });
    expect(withoutSpans(r2)).toEqual({
      kind: "return",
      values: [name("x"), { kind: "unary", op: "-", operand: name("x") }],
    });
    expect(withoutSpans(l)).toEqual({ kind: "loss", value: call("ce", name("x"), name("y")) });
    expect(withoutSpans(o)).toEqual({ kind: "output", value: name("x") });
  });

  it("separates statements by newlines or `;`, and skips comments", () => {
    const stmts = body(
      "let a = x; let b = x /* a\ncomment */ let c = x // another\nlet d = x;;".slice(0, -1),
    );
    expect(stmts.map((s) => (s as ast.LetStmt).targets[0].name)).toEqual(["a", "b", "c", "d"]);
  });
});

describe("expressions", () => {
  it("gives * / @ precedence over + -, all left-associative", () => {
    expect(expr("2 * x @ W + b - c")).toEqual(
      bin("-", bin("+", bin("@", bin("*", num("2"), name("x")), name("W")), name("b")), name("c")),
    );
    expect(expr("a - b - c")).toEqual(bin("-", bin("-", name("a"), name("b")), name("c")));
    expect(expr("a / b * c")).toEqual(bin("*", bin("/", name("a"), name("b")), name("c")));
  });

  it("reads unary minus, numbers, parentheses and nested calls", () => {
    expect(expr("x / (1 + exp(-x))")).toEqual(
      bin(
        "/",
        name("x"),
        bin("+", num("1"), call("exp", { kind: "unary", op: "-", operand: name("x") })),
      ),
    );
    expect(expr("- -x")).toEqual({
      kind: "unary",
      op: "-",
      operand: { kind: "unary", op: "-", operand: name("x") },
    });
    expect(expr("-x * y")).toEqual(
      bin("*", { kind: "unary", op: "-", operand: name("x") }, name("y")),
    );
    expect(expr("1e-5")).toEqual({ kind: "number", value: 1e-5, text: "1e-5" });
    expect(expr("2.5E+3")).toEqual({ kind: "number", value: 2500, text: "2.5E+3" });
    expect(expr("f(g(h(x)), in_degree())")).toEqual(
      call("f", call("g", call("h", name("x"))), call("in_degree")),
    );
  });

  it("reads keyword arguments", () => {
    expect(expr("dropout(x, p = 0.5)")).toEqual({
      kind: "call",
      callee: { name: "dropout" },
      args: [{ value: name("x") }, { name: { name: "p" }, value: num("0.5") }],
    });
  });

  it("reads tuples, and gives a parenthesised expression the parentheses' span", () => {
    const [stmt] = body("let e = (a + b) * c");
    const value = (stmt as ast.LetStmt).value as ast.BinaryExpr;
    expect(value.span).toEqual({
      file: "t.gnn",
      line: 2,
      col: 9,
      endLine: 2,
      endCol: 19,
      start: 39,
      end: 50,
    });
    expect(value.left.span).toMatchObject({ col: 9, endCol: 15 });
    expect(expr("(a, b + 1, c)")).toEqual({
      kind: "tuple",
      items: [name("a"), bin("+", name("b"), num("1")), name("c")],
    });
  });

  it("reads endpoint indexing, with spans", () => {
    const [stmt] = body("let e = aggregate sum over edges (u -> v) { el[u] + er[v] }");
    const agg = (stmt as ast.LetStmt).value as ast.AggregateExpr;
    const msg = agg.message as ast.BinaryExpr;
    expect(withoutSpans(msg.left)).toEqual({
      kind: "index",
      target: name("el"),
      index: { name: "u" },
    });
    expect(msg.left.span).toMatchObject({ line: 2, col: 45, endCol: 49, start: 75, end: 80 });
  });

  it("continues a call only on the same line", () => {
    const stmts = body("h = f\n(a, b) = g(h)\nlet e = f (x)");
    expect(stmts.map((s) => s.kind)).toEqual(["assign", "assign", "let"]);
    expect(withoutSpans((stmts[0] as ast.AssignStmt).value)).toEqual(name("f"));
    expect(withoutSpans((stmts[2] as ast.LetStmt).value)).toEqual(call("f", name("x")));
  });

  it("builds aggregates: reducers, endpoints, self loops, lets and edge features", () => {
    const [stmt] = body(`let e = aggregate softmax(score) over edges (u -> v) with self_loops {
    let score = leaky_relu(el[u] + er[v], 0.2); let w = e
    w * h[u]
  }`);
    const agg = (stmt as ast.LetStmt).value as ast.AggregateExpr;
    expect(agg.kind).toBe("aggregate");
    expect(withoutSpans(agg.reducer)).toEqual({ name: "softmax", arg: name("score") });
    expect([agg.src.name, agg.dst.name, agg.selfLoops]).toEqual(["u", "v", true]);
    expect(agg.lets.map((l) => l.targets[0].name)).toEqual(["score", "w"]);
    expect(withoutSpans(agg.lets[1].value)).toEqual(name("e"));
    expect(withoutSpans(agg.message)).toEqual(
      bin("*", name("w"), { kind: "index", target: name("h"), index: { name: "u" } }),
    );
    expect(agg.span).toMatchObject({ line: 2, col: 9, endLine: 5, endCol: 3 });
    for (const reducer of ["sum", "mean", "max"]) {
      const [s] = body(`return aggregate ${reducer} over edges (a -> b) { x[a] }`);
      const r = ((s as ast.ReturnStmt).values[0] as ast.AggregateExpr).reducer;
      expect([r.name, r.arg]).toEqual([reducer, undefined]);
    }
  });

  it("builds reversible groups with and without keyword arguments", () => {
    expect(expr("reversible groups C gcn_group(p = p) (h)")).toEqual({
      kind: "groups",
      groups: { kind: "dim_name", name: "C" },
      layer: { name: "gcn_group" },
      hyperArgs: [{ name: { name: "p" }, value: name("p") }],
      input: name("h"),
      conditions: [],
    });
    expect(expr("reversible groups 2 f (h @ W)")).toEqual({
      kind: "groups",
      groups: { kind: "dim_int", value: 2 },
      layer: { name: "f" },
      hyperArgs: [],
      input: bin("@", name("h"), name("W")),
      conditions: [],
    });
    // Further inputs after the one to split: read-only inputs of every group (edge features).
    expect(expr("reversible groups C f(p = p) (h, e)")).toMatchObject({
      input: name("h"),
      conditions: [name("e")],
    });
    expect(expr("reversible groups (C * 2) f() (h)")).toMatchObject({
      groups: { kind: "dim_bin" },
      hyperArgs: [],
    });
  });

  it("builds fixpoints with options, lets and a body", () => {
    expect(
      expr("fixpoint z from h with tol = 1e-5, solver = anderson { let t = tanh(z); t + h }"),
    ).toEqual({
      kind: "fixpoint",
      variable: { name: "z" },
      init: name("h"),
      options: [
        { name: { name: "tol" }, value: num("1e-5") },
        { name: { name: "solver" }, value: name("anderson") },
      ],
      lets: [
        {
          kind: "let",
          mutable: false,
          targets: [{ name: "t" }],
          tuple: false,
          value: call("tanh", name("z")),
        },
      ],
      body: bin("+", name("t"), name("h")),
    });
    expect(expr("fixpoint z from x { z }")).toMatchObject({ options: [], lets: [] });
  });
});

describe("names", () => {
  it("keeps `edges`, `sum` and words that start with a keyword as ordinary names", () => {
    const stmts = body(
      "let edges = sum(x)\nlet letter = max(edges, mean(x))\nlet integer = 1; let as_ = 2; let layers = 3",
    );
    expect(stmts.map((s) => (s as ast.LetStmt).targets[0].name)).toEqual([
      "edges",
      "letter",
      "integer",
      "as_",
      "layers",
    ]);
  });
});
