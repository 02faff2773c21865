// The CST visitor that builds grammar/ast.ts nodes. Each method receives its node's children and
// location (the visitor's IN parameter) and returns the AST for it, or undefined when error
// recovery left the node too incomplete to build; parents drop those. A partial AST only feeds
// error reporting (later passes run on error-free programs), so dropping is always safe.
//
// The methods call each other through `sub` rather than chevrotain's untyped `visit`, so that each
// returns its own AST type; the base visitor still checks that every grammar rule has a method.
//
// It also reports the syntax errors the grammar lets through on purpose (see parser.ts) and the
// ones that depend on a name rather than a token: reducers, `edges`, the argument lists of
// `reversible groups`, fixpoint options.
import { tokenMatcher, type CstNode, type CstNodeLocation, type IToken } from "./chevrotain.js";
import type * as ast from "./ast.js";
import { joinSpans, type DiagnosticBag } from "./diagnostics.js";
import { aggregationChoices, aggregationNamed } from "../compiler/lower/aggregations.js";
import type * as cst from "./cst.js";
import { parser } from "./parser.js";
import { locationSpan, tokenSpan } from "./spans.js";
import { IntLiteral } from "./tokens.js";

type Loc = CstNodeLocation | undefined;

const BaseVisitor = parser.getBaseCstVisitorConstructor<Loc, unknown>();

/** A token the parser made up during recovery: it has no text and no position. */
function isReal(tok: IToken | undefined): tok is IToken {
  return tok !== undefined && tok.isInsertedInRecovery !== true;
}

/** A dimension as source text, for usage examples in hints. */
function dimText(d: ast.DimExpr): string {
  switch (d.kind) {
    case "dim_int":
      return String(d.value);
    case "dim_name":
      return d.name;
    case "dim_bin":
      return `(${dimText(d.left)} ${d.op} ${dimText(d.right)})`;
  }
}

function defined<T>(xs: (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}

export class AstBuilder extends BaseVisitor implements cst.ICstNodeVisitor<Loc, unknown> {
  constructor(
    private readonly file: string,
    private readonly diagnostics: DiagnosticBag,
  ) {
    super();
    this.validateVisitor();
  }

  /** Builds a child node with the method for its rule, passing the node's location. */
  private sub<C, R>(
    node: (CstNode & { children: C }) | undefined,
    build: (children: C, loc: Loc) => R,
  ): R | undefined {
    return node === undefined ? undefined : build.call(this, node.children, node.location);
  }

  private subAll<C, R>(
    nodes: (CstNode & { children: C })[] | undefined,
    build: (children: C, loc: Loc) => R | undefined,
  ): R[] {
    return defined((nodes ?? []).map((n) => this.sub(n, build)));
  }

  private span(loc: Loc): ast.Span {
    return locationSpan(loc, this.file);
  }

  private tokSpan(tok: IToken): ast.Span {
    return tokenSpan(tok, this.file);
  }

  private ident(tok: IToken | undefined): ast.Ident | undefined {
    return isReal(tok) ? { name: tok.image, span: this.tokSpan(tok) } : undefined;
  }

  // ---- declarations ------------------------------------------------------------------------------

  program(c: cst.ProgramCstChildren): ast.Program {
    return { kind: "program", file: this.file, decls: this.subAll(c.decl, this.decl) };
  }

  decl(c: cst.DeclCstChildren): ast.Decl | undefined {
    return this.sub(c.layerDecl?.[0], this.layerDecl) ?? this.sub(c.modelDecl?.[0], this.modelDecl);
  }

  layerDecl(c: cst.LayerDeclCstChildren, loc: Loc): ast.LayerDecl | undefined {
    const name = this.ident(c.Identifier?.[0]);
    if (!name) return undefined;
    const resultNode = c.resultTypes?.[0];
    if (resultNode && !c.Arrow) {
      this.diagnostics.error(
        `expected \`->\` before the result type of layer \`${name.name}\``,
        this.span(resultNode.location),
        `a layer's result type follows an arrow: \`layer ${name.name}(…) -> [N, d] { … }\``,
      );
    }
    const sig = this.sub(c.signature?.[0], this.signature);
    return {
      kind: "layer",
      name,
      args: sig?.args ?? [],
      hypers: sig?.hypers ?? [],
      results: this.sub(resultNode, this.resultTypes) ?? [],
      reversible: c.Reversible !== undefined,
      body: this.sub(c.block?.[0], this.block) ?? [],
      span: this.span(loc),
    };
  }

  modelDecl(c: cst.ModelDeclCstChildren, loc: Loc): ast.ModelDecl | undefined {
    const name = this.ident(c.Identifier?.[0]);
    if (!name) return undefined;
    const sig = this.sub(c.signature?.[0], this.signature);
    return {
      kind: "model",
      name,
      args: sig?.args ?? [],
      hypers: sig?.hypers ?? [],
      body: this.sub(c.block?.[0], this.block) ?? [],
      span: this.span(loc),
    };
  }

  signature(c: cst.SignatureCstChildren): { args: ast.TensorArg[]; hypers: ast.HyperArg[] } {
    return {
      args: this.subAll(c.tensorArg, this.tensorArg),
      hypers: this.subAll(c.hyperArg, this.hyperArg),
    };
  }

  tensorArg(c: cst.TensorArgCstChildren, loc: Loc): ast.TensorArg | undefined {
    const name = this.ident(c.Identifier?.[0]);
    const type = this.sub(c.tensorType?.[0], this.tensorType);
    return name && type ? { name, type, span: this.span(loc) } : undefined;
  }

  hyperArg(c: cst.HyperArgCstChildren, loc: Loc): ast.HyperArg | undefined {
    const name = this.ident(c.Identifier?.[0]);
    const typeKeyword = c.Int?.[0] ?? c.Float?.[0] ?? c.Bool?.[0];
    if (!name || !isReal(typeKeyword)) return undefined;
    const type = typeKeyword.image as ast.HyperType;
    const dflt = this.sub(c.literal?.[0], this.literal);
    return { name, type, ...(dflt && { default: dflt }), span: this.span(loc) };
  }

  literal(c: cst.LiteralCstChildren, loc: Loc): ast.Literal | undefined {
    const span = this.span(loc);
    if (c.True || c.False) return { kind: "lit_bool", value: c.True !== undefined, span };
    const num = c.NumberLiteral?.[0];
    if (!isReal(num)) return undefined;
    const text = (c.Minus ? "-" : "") + num.image;
    return {
      kind: "lit_number",
      value: Number(text),
      isInt: tokenMatcher(num, IntLiteral),
      text,
      span,
    };
  }

  resultTypes(c: cst.ResultTypesCstChildren): ast.TensorTypeExpr[] {
    return this.subAll(c.tensorType, this.tensorType);
  }

  // ---- types -------------------------------------------------------------------------------------

  tensorType(c: cst.TensorTypeCstChildren, loc: Loc): ast.TensorTypeExpr | undefined {
    const dims = this.subAll(c.dim, this.dim);
    if (dims.length === 0) return undefined;
    const role = c.Labels ? "labels" : c.Multilabels ? "multilabels" : "tensor";
    return { kind: "tensor_type", role, dims, span: this.span(loc) };
  }

  dim(c: cst.DimCstChildren): ast.DimExpr | undefined {
    return this.foldDims(this.subAll(c.dimProduct, this.dimProduct), c.AdditiveOp);
  }

  dimProduct(c: cst.DimProductCstChildren): ast.DimExpr | undefined {
    return this.foldDims(this.subAll(c.dimTerm, this.dimTerm), c.DimMulOp);
  }

  private foldDims(operands: ast.DimExpr[], ops: IToken[] = []): ast.DimExpr | undefined {
    if (operands.length !== ops.length + 1) return undefined;
    return operands.reduce((left, right, i) => ({
      kind: "dim_bin",
      op: ops[i - 1].image as "+" | "-" | "*" | "/",
      left,
      right,
      span: joinSpans(left.span, right.span),
    }));
  }

  dimTerm(c: cst.DimTermCstChildren, loc: Loc): ast.DimExpr | undefined {
    const span = this.span(loc);
    const int = c.IntLiteral?.[0];
    if (isReal(int)) return { kind: "dim_int", value: Number(int.image), span };
    const name = c.Identifier?.[0];
    if (isReal(name)) return { kind: "dim_name", name: name.image, span };
    // A parenthesised dimension keeps its parentheses in its span, like parenthesised expressions.
    const inner = this.sub(c.dim?.[0], this.dim);
    return inner && { ...inner, span };
  }

  // ---- statements --------------------------------------------------------------------------------

  block(c: cst.BlockCstChildren): ast.Stmt[] {
    return this.subAll(c.stmt, this.stmt);
  }

  stmt(c: cst.StmtCstChildren): ast.Stmt | undefined {
    return (
      this.sub(c.paramStmt?.[0], this.paramStmt) ??
      this.sub(c.letStmt?.[0], this.letStmt) ??
      this.sub(c.repeatStmt?.[0], this.repeatStmt) ??
      this.sub(c.returnStmt?.[0], this.returnStmt) ??
      this.sub(c.lossStmt?.[0], this.lossStmt) ??
      this.sub(c.outputStmt?.[0], this.outputStmt) ??
      this.sub(c.assignOrUpdateStmt?.[0], this.assignOrUpdateStmt) ??
      this.sub(c.tupleAssignStmt?.[0], this.tupleAssignStmt)
    );
  }

  paramStmt(c: cst.ParamStmtCstChildren, loc: Loc): ast.ParamStmt | undefined {
    const name = this.ident(c.Identifier?.[0]);
    const type = this.sub(c.tensorType?.[0], this.tensorType);
    const initName = this.ident(c.init?.[0]);
    if (!name || !type || !initName) return undefined;
    const close = c.RParen?.[0];
    const initSpan = isReal(close) ? joinSpans(initName.span, this.tokSpan(close)) : initName.span;
    const args = this.subAll(c.literal, this.literal);
    return {
      kind: "param",
      state: !!c.State?.length,
      name,
      type,
      init: { name: initName, args, span: initSpan },
      ...this.paramOption(c),
      span: this.span(loc),
    };
  }

  /** `, decay = e` after the initialiser; any other option name is reported here. */
  private paramOption(c: cst.ParamStmtCstChildren): { decay?: ast.Expr } {
    const option = this.ident(c.option?.[0]);
    const value = this.sub(c.optionValue?.[0], this.expression);
    if (!option || !value) return {};
    if (option.name !== "decay") {
      this.diagnostics.error(
        `unknown parameter option \`${option.name}\``,
        option.span,
        "a parameter's one option is its weight decay: `param W: [d, d] = glorot, decay = 0.01`",
      );
      return {};
    }
    return { decay: value };
  }

  letStmt(c: cst.LetStmtCstChildren, loc: Loc): ast.LetStmt | undefined {
    const pattern = this.sub(c.pattern?.[0], this.pattern);
    const value = this.sub(c.expression?.[0], this.expression);
    const op = c.UpdateOp?.[0];
    if (isReal(op) && pattern) {
      const keyword = c.Var ? "var" : "let";
      const what = c.Var ? "declares a new variable" : "introduces a new name";
      const hint = pattern.tuple
        ? `\`${keyword}\` binds names with \`=\`; an update such as \`${pattern.targets[0].name} ${op.image} …\` changes one variable`
        : `\`${keyword}\` ${what}; to update a variable write \`${pattern.text} ${op.image} …\``;
      this.diagnostics.error(
        `expected \`=\` after \`${keyword} ${pattern.text}\`, found \`${op.image}\``,
        this.tokSpan(op),
        hint,
      );
    }
    if (!pattern || !value) return undefined;
    return {
      kind: "let",
      mutable: c.Var !== undefined,
      targets: pattern.targets,
      tuple: pattern.tuple,
      value,
      span: this.span(loc),
    };
  }

  assignOrUpdateStmt(
    c: cst.AssignOrUpdateStmtCstChildren,
    loc: Loc,
  ): ast.AssignStmt | ast.UpdateStmt | undefined {
    const target = this.ident(c.Identifier?.[0]);
    const value = this.sub(c.expression?.[0], this.expression);
    if (!target || !value) return undefined;
    const span = this.span(loc);
    const op = c.UpdateOp?.[0];
    if (!op) return { kind: "assign", targets: [target], tuple: false, value, span };
    return isReal(op)
      ? { kind: "update", target, op: op.image as ast.UpdateStmt["op"], value, span }
      : undefined;
  }

  tupleAssignStmt(c: cst.TupleAssignStmtCstChildren, loc: Loc): ast.AssignStmt | undefined {
    const targets = this.sub(c.tuplePattern?.[0], this.tuplePattern);
    const value = this.sub(c.expression?.[0], this.expression);
    if (!targets || !value) return undefined;
    return { kind: "assign", targets, tuple: true, value, span: this.span(loc) };
  }

  /** The names bound by `x` or `(a, b)`, and the pattern as written, for messages. */
  pattern(
    c: cst.PatternCstChildren,
  ): { targets: ast.Ident[]; tuple: boolean; text: string } | undefined {
    const name = this.ident(c.Identifier?.[0]);
    if (name) return { targets: [name], tuple: false, text: name.name };
    const targets = this.sub(c.tuplePattern?.[0], this.tuplePattern);
    return targets && { targets, tuple: true, text: `(${targets.map((n) => n.name).join(", ")})` };
  }

  tuplePattern(c: cst.TuplePatternCstChildren): ast.Ident[] | undefined {
    const names = c.Identifier ?? [];
    const targets = defined(names.map((tok) => this.ident(tok)));
    return targets.length >= 2 && targets.length === names.length ? targets : undefined;
  }

  repeatStmt(c: cst.RepeatStmtCstChildren, loc: Loc): ast.RepeatStmt | undefined {
    const count = this.sub(c.dim?.[0], this.dim);
    if (!count) return undefined;
    const label = this.ident(c.Identifier?.[0]);
    return {
      kind: "repeat",
      count,
      shared: c.Shared !== undefined,
      ...(label && { label }),
      body: this.sub(c.block?.[0], this.block) ?? [],
      span: this.span(loc),
    };
  }

  returnStmt(c: cst.ReturnStmtCstChildren, loc: Loc): ast.ReturnStmt | undefined {
    const value = this.sub(c.expression?.[0], this.expression);
    if (!value) return undefined;
    return {
      kind: "return",
      values: value.kind === "tuple" ? value.items : [value],
      span: this.span(loc),
    };
  }

  lossStmt(c: cst.LossStmtCstChildren, loc: Loc): ast.LossStmt | undefined {
    const value = this.sub(c.expression?.[0], this.expression);
    return value && { kind: "loss", value, span: this.span(loc) };
  }

  outputStmt(c: cst.OutputStmtCstChildren, loc: Loc): ast.OutputStmt | undefined {
    const value = this.sub(c.expression?.[0], this.expression);
    return value && { kind: "output", value, span: this.span(loc) };
  }

  // ---- expressions -------------------------------------------------------------------------------

  expression(c: cst.ExpressionCstChildren): ast.Expr | undefined {
    return this.foldBinary(
      this.subAll(c.multiplicativeExpr, this.multiplicativeExpr),
      c.AdditiveOp,
    );
  }

  multiplicativeExpr(c: cst.MultiplicativeExprCstChildren): ast.Expr | undefined {
    return this.foldBinary(this.subAll(c.unaryExpr, this.unaryExpr), c.MultiplicativeOp);
  }

  /** Left-associative chains `a op b op c`; a chain missing an operand was cut by recovery. */
  private foldBinary(operands: ast.Expr[], ops: IToken[] = []): ast.Expr | undefined {
    if (operands.length !== ops.length + 1) return undefined;
    return operands.reduce((left, right, i) => ({
      kind: "binary",
      op: ops[i - 1].image as ast.BinaryExpr["op"],
      left,
      right,
      span: joinSpans(left.span, right.span),
    }));
  }

  unaryExpr(c: cst.UnaryExprCstChildren, loc: Loc): ast.Expr | undefined {
    if (c.Minus) {
      const operand = this.sub(c.unaryExpr?.[0], this.unaryExpr);
      return operand && { kind: "unary", op: "-", operand, span: this.span(loc) };
    }
    return this.sub(c.postfixExpr?.[0], this.postfixExpr);
  }

  postfixExpr(c: cst.PostfixExprCstChildren): ast.Expr | undefined {
    let expr = this.sub(c.primary?.[0], this.primary);
    const closers = c.RBracket ?? [];
    // The brackets in source order: a name reads a node at an endpoint, a number picks an item.
    const indices = [...(c.Identifier ?? []), ...(c.NumberLiteral ?? [])].sort(
      (a, b) => a.startOffset - b.startOffset,
    );
    indices.forEach((tok, i) => {
      const close = closers[i];
      if (!expr || !isReal(close)) {
        expr = undefined;
        return;
      }
      const span = joinSpans(expr.span, this.tokSpan(close));
      if (!c.Identifier?.includes(tok)) {
        if (!isReal(tok)) return void (expr = undefined);
        const index: ast.NumberExpr = {
          kind: "number",
          value: Number(tok.image),
          text: tok.image,
          span: this.tokSpan(tok),
        };
        expr = { kind: "item", target: expr, index, span };
        return;
      }
      const index = this.ident(tok);
      expr = index ? { kind: "index", target: expr, index, span } : undefined;
    });
    return expr;
  }

  primary(c: cst.PrimaryCstChildren): ast.Expr | undefined {
    const num = c.NumberLiteral?.[0];
    if (isReal(num))
      return { kind: "number", value: Number(num.image), text: num.image, span: this.tokSpan(num) };
    return (
      this.sub(c.nameOrCall?.[0], this.nameOrCall) ??
      this.sub(c.parenExpr?.[0], this.parenExpr) ??
      this.sub(c.aggregateExpr?.[0], this.aggregateExpr) ??
      this.sub(c.groupsExpr?.[0], this.groupsExpr) ??
      this.sub(c.fixpointExpr?.[0], this.fixpointExpr)
    );
  }

  nameOrCall(c: cst.NameOrCallCstChildren, loc: Loc): ast.Expr | undefined {
    const callee = this.ident(c.Identifier?.[0]);
    if (!callee) return undefined;
    const argList = c.argList?.[0];
    if (!argList) return { kind: "name", name: callee.name, span: callee.span };
    const args = this.sub(argList, this.argList);
    return args && { kind: "call", callee, args, span: this.span(loc) };
  }

  /** `(e)` is e itself, its span widened to the parentheses; `(a, b)` is a tuple. */
  parenExpr(c: cst.ParenExprCstChildren, loc: Loc): ast.Expr | undefined {
    const items = this.subAll(c.expression, this.expression);
    if (items.length === 0 || items.length !== (c.Comma?.length ?? 0) + 1) return undefined;
    const span = this.span(loc);
    return items.length === 1 ? { ...items[0], span } : { kind: "tuple", items, span };
  }

  argList(c: cst.ArgListCstChildren): ast.Arg[] | undefined {
    const args = this.subAll(c.arg, this.arg);
    return args.length === (c.arg?.length ?? 0) ? args : undefined;
  }

  arg(c: cst.ArgCstChildren, loc: Loc): ast.Arg | undefined {
    const value = this.sub(c.expression?.[0], this.expression);
    if (!value) return undefined;
    const name = this.ident(c.Identifier?.[0]);
    return { ...(name && { name }), value, span: this.span(loc) };
  }

  aggregateExpr(c: cst.AggregateExprCstChildren, loc: Loc): ast.AggregateExpr | undefined {
    const edges = c.edges?.[0];
    if (isReal(edges) && edges.image !== "edges") {
      this.diagnostics.error(
        `expected \`edges\` after \`over\`, found \`${edges.image}\``,
        this.tokSpan(edges),
        "an aggregate runs over the graph's edges: `aggregate sum over edges (u -> v) { … }`",
      );
    }
    const reducer = this.sub(c.reducer?.[0], this.reducer);
    const src = this.ident(c.src?.[0]);
    const dst = this.ident(c.dst?.[0]);
    const body = this.sub(c.exprBody?.[0], this.exprBody);
    if (!reducer || !src || !dst || !body) return undefined;
    return {
      kind: "aggregate",
      reducer,
      src,
      dst,
      selfLoops: c.SelfLoops !== undefined,
      lets: body.lets,
      message: body.value,
      span: this.span(loc),
    };
  }

  reducer(c: cst.ReducerCstChildren, loc: Loc): ast.AggregateExpr["reducer"] | undefined {
    const name = this.ident(c.Identifier?.[0]);
    if (!name) return undefined;
    const span = this.span(loc);
    const aggregation = aggregationNamed(name.name);
    if (!aggregation) {
      this.diagnostics.error(
        `unknown aggregation \`${name.name}\``,
        name.span,
        `an aggregation is ${aggregationChoices("`")}`,
      );
      return undefined;
    }
    const arg = this.sub(c.expression?.[0], this.expression);
    if (aggregation.argument && !c.LParen) {
      this.diagnostics.error(
        `\`${name.name}\` aggregation needs a ${aggregation.argument}`,
        name.span,
        `write \`aggregate ${name.name}(${aggregation.argument}) over edges (u -> v) { let ${aggregation.argument} = …; h[u] }\``,
      );
    } else if (!aggregation.argument && c.LParen) {
      this.diagnostics.error(
        `\`${name.name}\` aggregation takes no argument`,
        span,
        `only ${aggregationChoices("`", (a) => !!a.argument)} takes an argument; the value aggregated is the body's last expression`,
      );
    }
    return { name: name.name, ...(arg && { arg }), span };
  }

  groupsExpr(c: cst.GroupsExprCstChildren, loc: Loc): ast.GroupsExpr | undefined {
    const groups = this.sub(c.dimTerm?.[0], this.dimTerm);
    const layer = this.ident(c.Identifier?.[0]);
    const lists = c.argList ?? [];
    if (!groups || !layer || lists.length === 0 || lists.some((l) => l.recoveredNode)) {
      return undefined;
    }
    const hyperList = lists.length === 2 ? this.sub(lists[0], this.argList) : [];
    const inputList = this.sub(lists[lists.length - 1], this.argList);
    if (!hyperList || !inputList) return undefined;
    const usage = `write \`reversible groups ${dimText(groups)} ${layer.name}(p = …) (h)\``;
    const positional = hyperList.find((a) => !a.name);
    if (positional) {
      this.diagnostics.error(
        `the options of grouped layer \`${layer.name}\` must be keyword arguments`,
        positional.span,
        `${usage}: the first list holds \`name = value\` hyperparameters, the second the input`,
      );
    }
    const inputSpan = this.span(lists[lists.length - 1].location);
    const named = inputList.find((a) => a.name);
    if (inputList.length === 0 || named) {
      this.diagnostics.error(
        `grouped layer \`${layer.name}\` takes its input tensors by position`,
        named?.span ?? inputSpan,
        `${usage}: hyperparameters go in a first list; the last holds the input to split, then any read-only inputs such as edge features`,
      );
      return undefined;
    }
    return {
      kind: "groups",
      groups,
      layer,
      hyperArgs: hyperList,
      input: inputList[0].value,
      conditions: inputList.slice(1).map((a) => a.value),
      span: this.span(loc),
    };
  }

  fixpointExpr(c: cst.FixpointExprCstChildren, loc: Loc): ast.FixpointExpr | undefined {
    const variable = this.ident(c.Identifier?.[0]);
    const init = this.sub(c.expression?.[0], this.expression);
    const options = this.subAll(c.arg, this.arg);
    for (const opt of options.filter((o) => !o.name)) {
      this.diagnostics.error(
        "fixpoint options are written `name = value`",
        opt.span,
        "for example `fixpoint z from h with tol = 1e-5, max_iter = 50 { … }`",
      );
    }
    const body = this.sub(c.exprBody?.[0], this.exprBody);
    if (!variable || !init || !body) return undefined;
    return {
      kind: "fixpoint",
      variable,
      init,
      options,
      lets: body.lets,
      body: body.value,
      span: this.span(loc),
    };
  }

  /** `{ let…; value }`: no `var` there, since nothing in such a body could reassign it. */
  exprBody(c: cst.ExprBodyCstChildren): { lets: ast.LetStmt[]; value: ast.Expr } | undefined {
    for (const node of c.letStmt ?? []) {
      const kw = node.children.Var?.[0];
      if (isReal(kw)) {
        this.diagnostics.error(
          "`var` is not allowed here",
          this.tokSpan(kw),
          "the body of an aggregate or a fixpoint binds values with `let`",
        );
      }
    }
    const lets = this.subAll(c.letStmt, this.letStmt);
    const value = this.sub(c.expression?.[0], this.expression);
    return value && { lets, value };
  }
}
