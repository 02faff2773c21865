// Prints an AST back to source text, for the round-trip tests: parse(print(ast)) must give the
// same AST (spans aside). Parentheses are printed only where precedence needs them, so a wrong
// precedence or associativity in the parser changes the AST of the reparsed text.
import type * as ast from "../../grammar/ast.js";

const exprPrec: Record<ast.BinaryExpr["op"], number> = { "+": 1, "-": 1, "*": 2, "/": 2, "@": 2 };
const UNARY = 3;
const POSTFIX = 4;

function prec(e: ast.Expr): number {
  if (e.kind === "binary") return exprPrec[e.op];
  return e.kind === "unary" ? UNARY : POSTFIX;
}

function paren(s: string, needed: boolean): string {
  return needed ? `(${s})` : s;
}

export function printDim(d: ast.DimExpr, parentPrec = 0, right = false): string {
  switch (d.kind) {
    case "dim_int":
      return String(d.value);
    case "dim_name":
      return d.name;
    case "dim_bin": {
      const p = exprPrec[d.op];
      const s = `${printDim(d.left, p)} ${d.op} ${printDim(d.right, p, true)}`;
      return paren(s, p < parentPrec || (right && p === parentPrec));
    }
  }
}

function printType(t: ast.TensorTypeExpr): string {
  const role = t.role === "tensor" ? "" : t.role;
  return `${role}[${t.dims.map((d) => printDim(d)).join(", ")}]`;
}

function printLiteral(l: ast.Literal): string {
  return l.kind === "lit_bool" ? String(l.value) : l.text;
}

function printArgs(args: ast.Arg[]): string {
  return args.map((a) => (a.name ? `${a.name.name} = ` : "") + printExpr(a.value)).join(", ");
}

function printBody(lets: ast.LetStmt[], value: ast.Expr, indent: string): string {
  const inner = indent + "  ";
  // The `;` keeps a value starting with `-` from continuing the last `let`.
  const lines = [...lets.map((l) => `${inner}${printStmt(l, inner)};`), inner + printExpr(value)];
  return `{\n${lines.join("\n")}\n${indent}}`;
}

export function printExpr(e: ast.Expr, parentPrec = 0, right = false, indent = "  "): string {
  switch (e.kind) {
    case "number":
      return e.text;
    case "name":
      return e.name;
    case "binary": {
      const p = exprPrec[e.op];
      const s = `${printExpr(e.left, p, false, indent)} ${e.op} ${printExpr(e.right, p, true, indent)}`;
      return paren(s, p < parentPrec || (right && p === parentPrec));
    }
    case "unary":
      return paren(`-${printExpr(e.operand, UNARY, false, indent)}`, UNARY < parentPrec);
    case "call":
      return `${e.callee.name}(${printArgs(e.args)})`;
    case "item":
      return `${paren(printExpr(e.target, 0, false, indent), prec(e.target) < POSTFIX)}[${e.index.text}]`;
    case "index":
      return `${paren(printExpr(e.target, 0, false, indent), prec(e.target) < POSTFIX)}[${e.index.name}]`;
    case "tuple":
      return `(${e.items.map((i) => printExpr(i, 0, false, indent)).join(", ")})`;
    case "aggregate": {
      const r = e.reducer.arg ? `${e.reducer.name}(${printExpr(e.reducer.arg)})` : e.reducer.name;
      const loops = e.selfLoops ? " with self_loops" : "";
      const head = `aggregate ${r} over edges (${e.src.name} -> ${e.dst.name})${loops}`;
      return `${head} ${printBody(e.lets, e.message, indent)}`;
    }
    case "groups": {
      const hypers = e.hyperArgs.length > 0 ? `(${printArgs(e.hyperArgs)}) ` : " ";
      const groups = printDim(e.groups, POSTFIX);
      const inputs = [e.input, ...e.conditions].map((x) => printExpr(x)).join(", ");
      return `reversible groups ${groups} ${e.layer.name}${hypers}(${inputs})`;
    }
    case "fixpoint": {
      const opts = e.options.length > 0 ? ` with ${printArgs(e.options)}` : "";
      const head = `fixpoint ${e.variable.name} from ${printExpr(e.init)}${opts}`;
      return `${head} ${printBody(e.lets, e.body, indent)}`;
    }
  }
}

function printPattern(targets: ast.Ident[], tuple: boolean): string {
  const names = targets.map((t) => t.name).join(", ");
  return tuple ? `(${names})` : names;
}

function printStmt(s: ast.Stmt, indent: string): string {
  const expr = (e: ast.Expr): string => printExpr(e, 0, false, indent);
  switch (s.kind) {
    case "param": {
      const args = s.init.args.length > 0 ? `(${s.init.args.map(printLiteral).join(", ")})` : "";
      const decay = s.decay ? `, decay = ${expr(s.decay)}` : "";
      const keyword = s.state ? "state" : "param";
      return `${keyword} ${s.name.name}: ${printType(s.type)} = ${s.init.name.name}${args}${decay}`;
    }
    case "let":
      return `${s.mutable ? "var" : "let"} ${printPattern(s.targets, s.tuple)} = ${expr(s.value)}`;
    case "assign":
      return `${printPattern(s.targets, s.tuple)} = ${expr(s.value)}`;
    case "update":
      return `${s.target.name} ${s.op} ${expr(s.value)}`;
    case "repeat": {
      const mods = (s.shared ? " shared" : "") + (s.label ? ` as ${s.label.name}` : "");
      return `repeat ${printDim(s.count)}${mods} ${printBlock(s.body, indent)}`;
    }
    case "return":
      return `return ${s.values.length === 1 ? expr(s.values[0]) : `(${s.values.map(expr).join(", ")})`}`;
    case "loss":
      return `loss ${expr(s.value)}`;
    case "output":
      return `output ${expr(s.value)}`;
  }
}

function printBlock(body: ast.Stmt[], indent: string): string {
  const inner = indent + "  ";
  return `{\n${body.map((s) => inner + printStmt(s, inner) + "\n").join("")}${indent}}`;
}

function printSignature(d: ast.Decl): string {
  const args = d.args.map((a) => `${a.name.name}: ${printType(a.type)}`).join(", ");
  const hypers = d.hypers
    .map((h) => `${h.name.name}: ${h.type}${h.default ? ` = ${printLiteral(h.default)}` : ""}`)
    .join(", ");
  return hypers ? `${args}; ${hypers}` : args;
}

export function printProgram(p: ast.Program): string {
  return p.decls
    .map((d) => {
      if (d.kind === "model")
        return `model ${d.name.name}(${printSignature(d)}) ${printBlock(d.body, "")}\n`;
      const results =
        d.results.length === 0
          ? ""
          : d.results.length === 1
            ? ` -> ${printType(d.results[0])}`
            : ` -> (${d.results.map(printType).join(", ")})`;
      const rev = d.reversible ? " reversible" : "";
      return `layer ${d.name.name}(${printSignature(d)})${results}${rev} ${printBlock(d.body, "")}\n`;
    })
    .join("\n");
}

/** The AST without spans, for comparing the trees of two texts. */
export function withoutSpans(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutSpans);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k]) => k !== "span")
      .map(([k, v]) => [k, withoutSpans(v)]),
  );
}
