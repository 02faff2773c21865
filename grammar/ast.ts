// The abstract syntax tree of a .gnn program: what the CST visitor (grammar/ast-builder.ts) builds
// and what the resolver, checker and lowering read. Every node carries the source span it came
// from, so that any later pass can report an error at the user's text.

export interface Span {
  file: string;
  /** 1-based line and column of the first character. */
  line: number;
  col: number;
  /** 1-based line and column of the last character (inclusive). */
  endLine: number;
  endCol: number;
  /** 0-based character offsets into the file text, [start, end). */
  start: number;
  end: number;
}

export interface Program {
  kind: "program";
  file: string;
  decls: Decl[];
}

export type Decl = LayerDecl | ModelDecl;

export interface Ident {
  name: string;
  span: Span;
}

/** A dimension expression in a tensor type: `N`, `E`, `128`, `D / C`, `2 * d`. */
export type DimExpr =
  | { kind: "dim_int"; value: number; span: Span }
  | { kind: "dim_name"; name: string; span: Span }
  | { kind: "dim_bin"; op: "+" | "-" | "*" | "/"; left: DimExpr; right: DimExpr; span: Span };

/**
 * A tensor type. `role` says what a model input is:
 *  - "tensor": dense values (`[N, F]`, `[d]`, `[E, 8]` for edge features);
 *  - "labels": one class id per node out of K classes (`labels[N, K]`);
 *  - "multilabels": T binary targets per node (`multilabels[N, T]`).
 */
export interface TensorTypeExpr {
  kind: "tensor_type";
  role: "tensor" | "labels" | "multilabels";
  dims: DimExpr[];
  span: Span;
}

export interface TensorArg {
  name: Ident;
  type: TensorTypeExpr;
  span: Span;
}

export type HyperType = "int" | "float" | "bool";

export interface HyperArg {
  name: Ident;
  type: HyperType;
  default?: Literal;
  span: Span;
}

export type Literal =
  | { kind: "lit_number"; value: number; isInt: boolean; text: string; span: Span }
  | { kind: "lit_bool"; value: boolean; span: Span };

export interface LayerDecl {
  kind: "layer";
  name: Ident;
  args: TensorArg[];
  hypers: HyperArg[];
  /** One type for a single result, several for a tuple result; absent for a reversible layer,
   *  whose results are the final values of its arguments. */
  results: TensorTypeExpr[];
  reversible: boolean;
  body: Stmt[];
  span: Span;
}

export interface ModelDecl {
  kind: "model";
  name: Ident;
  args: TensorArg[];
  hypers: HyperArg[];
  body: Stmt[];
  span: Span;
}

// ---- statements --------------------------------------------------------------------------------

export type Stmt =
  ParamStmt | LetStmt | AssignStmt | UpdateStmt | RepeatStmt | ReturnStmt | LossStmt | OutputStmt;

/**
 * `param W: [d, d] = glorot` ; init is a name with optional numeric arguments: normal(0.02).
 * `param W: [d, d] = glorot, decay = 0.01` gives the parameter its own weight decay.
 */
export interface ParamStmt {
  kind: "param";
  /**
   * `state mu: [d] = zeros`: model state, not a trained parameter — no gradient, no optimizer
   * state, no decay; its one update (`mu = …`) is an output of the training step's forward pass.
   */
  state: boolean;
  name: Ident;
  type: TensorTypeExpr;
  init: { name: Ident; args: Literal[]; span: Span };
  /** This parameter's weight decay (a compile-time number), instead of the run's. */
  decay?: Expr;
  span: Span;
}

/** `let x = e`, `var h = e`, `let (a, b) = e`. */
export interface LetStmt {
  kind: "let";
  mutable: boolean; // `var`
  targets: Ident[]; // one, or several for a tuple pattern
  tuple: boolean;
  value: Expr;
  span: Span;
}

/** `h = e` or `(a, b) = e` on variables declared with `var` (or tensor arguments). */
export interface AssignStmt {
  kind: "assign";
  targets: Ident[];
  tuple: boolean;
  value: Expr;
  span: Span;
}

/** `x2 += f(x1)`, `x1 *= exp(s)`, … In a reversible layer each one is an invertible update. */
export interface UpdateStmt {
  kind: "update";
  target: Ident;
  op: "+=" | "-=" | "*=" | "/=";
  value: Expr;
  span: Span;
}

/** `repeat L { … }`, `repeat L shared { … }`, `repeat L as blocks { … }`. */
export interface RepeatStmt {
  kind: "repeat";
  count: DimExpr;
  shared: boolean;
  label?: Ident;
  body: Stmt[];
  span: Span;
}

export interface ReturnStmt {
  kind: "return";
  values: Expr[]; // several for `return (a, b)`
  span: Span;
}

/** `loss cross_entropy(logits, y)`: the call is checked to be a loss function later. */
export interface LossStmt {
  kind: "loss";
  value: Expr;
  span: Span;
}

/** `output logits`: what the metrics read; defaults to the loss's first argument. */
export interface OutputStmt {
  kind: "output";
  value: Expr;
  span: Span;
}

// ---- expressions -------------------------------------------------------------------------------

export type Expr =
  | NumberExpr
  | NameExpr
  | BinaryExpr
  | UnaryExpr
  | CallExpr
  | IndexExpr
  | ItemExpr
  | TupleExpr
  | AggregateExpr
  | GroupsExpr
  | FixpointExpr;

export interface NumberExpr {
  kind: "number";
  value: number;
  text: string;
  span: Span;
}

export interface NameExpr {
  kind: "name";
  name: string;
  span: Span;
}

export interface BinaryExpr {
  kind: "binary";
  op: "+" | "-" | "*" | "/" | "@";
  left: Expr;
  right: Expr;
  span: Span;
}

export interface UnaryExpr {
  kind: "unary";
  op: "-";
  operand: Expr;
  span: Span;
}

/** A positional or keyword argument: `f(x, p = 0.5)`. */
export interface Arg {
  name?: Ident; // keyword arguments
  value: Expr;
  span: Span;
}

export interface CallExpr {
  kind: "call";
  callee: Ident;
  args: Arg[];
  span: Span;
}

/** `x[u]`: reads node tensor x at an edge endpoint, inside an aggregate body. */
export interface IndexExpr {
  kind: "index";
  target: Expr;
  index: Ident;
  span: Span;
}

/** `t[0]`: item 0 of a tuple (`let t = split(h, 2)`, a layer returning several tensors). */
export interface ItemExpr {
  kind: "item";
  target: Expr;
  /** The index as written (a whole number is checked by the lowering). */
  index: NumberExpr;
  span: Span;
}

export interface TupleExpr {
  kind: "tuple";
  items: Expr[];
  span: Span;
}

/**
 * `aggregate sum over edges (u -> v) with self_loops { let w = …; w * x[u] }`
 * `aggregate softmax(score) over edges (u -> v) { let score = …; h[u] }`
 * The reducer argument (softmax's score) is an expression in the edge scope: it sees u, v and the
 * body's lets.
 */
export interface AggregateExpr {
  kind: "aggregate";
  /** One of compiler/lower/aggregations.ts's names (the parser accepts no other). */
  reducer: { name: string; arg?: Expr; span: Span };
  src: Ident;
  dst: Ident;
  selfLoops: boolean;
  lets: LetStmt[];
  message: Expr;
  span: Span;
}

/**
 * `reversible groups C f(p = p) (h)`: the paper's grouped reversible coupling of layer f over C
 * channel groups of h. `hyperArgs` are the keyword arguments of the first parenthesis (may be
 * empty); `input` is the tensor being split.
 */
export interface GroupsExpr {
  kind: "groups";
  groups: DimExpr;
  layer: Ident;
  hyperArgs: Arg[];
  /** The tensor split into groups. */
  input: Expr;
  /** Further inputs each group function reads unchanged (edge features): `(h, e)`. */
  conditions: Expr[];
  span: Span;
}

/**
 * `fixpoint z from init with tol = 1e-5, max_iter = 50, solver = anderson { let …; f(z, x) }`
 * The body is evaluated with `z` bound to the current iterate; the result is z* = body(z*).
 */
export interface FixpointExpr {
  kind: "fixpoint";
  variable: Ident;
  init: Expr;
  options: Arg[];
  lets: LetStmt[];
  body: Expr;
  span: Span;
}
