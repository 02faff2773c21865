// AST → IR. Layers are inlined at their call sites (each call is an instance with its own
// parameters); `repeat` becomes one scan over a body compiled once; reversible layers and the
// grouped coupling become rev_block ops; aggregates become gather / segment ops; the model's loss
// becomes a masked mean. Shapes are checked here by the IR ops' own shape rules, and every failure
// is reported at the source text that caused it; lowering carries on after an error (the failed
// statement's names are "poisoned" so that their later uses stay silent).
import { exactResiduals } from "../exact.js";
import type {
  AggregateExpr,
  Arg,
  CallExpr,
  Expr,
  FixpointExpr,
  GroupsExpr,
  Ident,
  LayerDecl,
  LetStmt,
  ModelDecl,
  Span,
  Stmt,
} from "../../grammar/ast.js";
import type { DiagnosticBag } from "../../grammar/diagnostics.js";
import { IrShapeError } from "../ir/builder.js";
import { shapeEquals, shapeToString } from "../ir/dims.js";
import { combine64, type Combine } from "../ir/ops/control.js";
import { aggregationNamed } from "./aggregations.js";
import { Value, type Dim, type Graph } from "../ir/types.js";
import { builtinByName, LOSSES, lowerLoss, type Builtin } from "./builtins.js";
import { evalDimExpr, evalTypeDims, unifyArgument, type DimScope } from "./dims.js";
import { assignedOuterNames } from "./names.js";
import { suggest } from "../../grammar/spelling.js";
import { broadcastUpdate } from "./reversible-broadcast.js";
import { planReversibleBody } from "./reversible-body.js";
import { culprit, provablyNonzero, whyMaybeZero, type SignEnv } from "./reversible-check.js";
import { LoopScope, ModelScope, RegionScope, type InitSpec, type ParamSpec } from "./scope.js";
import { LowerError, Poisoned, VarEnv, type Frame, type LVal } from "./values.js";

export type ModelInputRole = "features" | "edge_features" | "labels" | "multilabels" | "train_mask";

export interface ModelInput {
  name: string;
  role: ModelInputRole;
  shape: Dim[];
}

export interface LoweredModel {
  name: string;
  /** inputs [model inputs…, params…]; outputs [loss, prediction] */
  graph: Graph;
  inputs: ModelInput[];
  params: ParamSpec[];
  lossKind: "cross_entropy" | "bce_with_logits";
  hypers: Record<string, number | boolean>;
  /** Source spans of the `repeat`s, in order, with their counts (for reports). */
  repeats: { label: string; count: number; shared: boolean; loc: Span }[];
}

export interface LowerOptions {
  training: boolean;
  /**
   * Exact reversibility: the variables of reversible blocks live on the fixed-point grid of
   * multiples of 2^-bits, and each update adds a value rounded to that grid, so `x + g` and
   * `x' − g` are exact in float32 (while |x| < 2^(24−bits)) and rebuilt inputs are bit-exact.
   */
  exact?: { bits: number };
}

const BINARY_OPCODE = { "+": "add", "-": "sub", "*": "mul", "/": "div" } as const;
const UPDATE_COMBINE: Record<string, Combine> = {
  "+=": "add",
  "-=": "sub",
  "*=": "mul",
  "/=": "div",
};

export class Lowerer {
  private streamCounter = 0;
  private repeatCounter = 0;
  private readonly repeats: LoweredModel["repeats"] = [];

  constructor(
    private readonly layers: ReadonlyMap<string, LayerDecl>,
    private readonly diags: DiagnosticBag,
    private readonly opts: LowerOptions,
  ) {}

  // ---- entry -----------------------------------------------------------------------------------

  lowerModel(model: ModelDecl, hypers: Map<string, number | boolean>): LoweredModel | undefined {
    const scope = new ModelScope(model.name.name);
    const frame: Frame = {
      scope,
      vars: new VarEnv(),
      hypers,
      dims: new Map(),
      path: "",
      instanceNames: new Map(),
      isModel: true,
      callStack: [model.name.name],
    };
    const inputs: ModelInput[] = [];
    let labels: { value: Value; role: "labels" | "multilabels"; classes?: Dim } | undefined;
    // Names in the model's signature other than hyperparameters are sizes of the data (F, K, …).
    const dataSymbol = (name: string) => {
      frame.dims.set(name, name);
      return name;
    };
    for (const arg of model.args) {
      this.guard(() => {
        const dims = evalTypeDims(arg.type, frame, dataSymbol);
        if (arg.type.role === "labels") {
          if (dims.length !== 2 || dims[0] !== "N") {
            throw new LowerError(
              "class labels are declared `labels[N, K]`: one of K classes per node",
              arg.type.span,
            );
          }
          const v = scope.dataInput(["N", 1], arg.name.name);
          inputs.push({ name: arg.name.name, role: "labels", shape: ["N", dims[1]!] });
          labels = { value: v, role: "labels", classes: dims[1] };
          frame.vars.declare(arg.name.name, { value: v, mutable: false, declaredAt: arg.span });
          return;
        }
        if (dims.length !== 2 || (dims[0] !== "N" && dims[0] !== "E")) {
          throw new LowerError(
            `model inputs are node tensors [N, …] or edge tensors [E, …], got ${shapeToString(dims)}`,
            arg.type.span,
          );
        }
        const v = scope.dataInput(dims, arg.name.name);
        const role: ModelInputRole =
          arg.type.role === "multilabels"
            ? "multilabels"
            : dims[0] === "E"
              ? "edge_features"
              : "features";
        inputs.push({ name: arg.name.name, role, shape: dims });
        if (role === "multilabels") labels = { value: v, role };
        frame.vars.declare(arg.name.name, { value: v, mutable: false, declaredAt: arg.span });
      });
    }
    const mask = scope.dataInput(["N", 1], "train_mask");
    inputs.push({ name: "train_mask", role: "train_mask", shape: ["N", 1] });

    let loss:
      { value: Value; kind: "cross_entropy" | "bce_with_logits"; prediction: Value } | undefined;
    let output: Value | undefined;
    for (const stmt of model.body) {
      if (stmt.kind === "loss") {
        this.guard(() => {
          if (loss) throw new LowerError("a model has one loss", stmt.span);
          loss = this.lowerLossStmt(stmt.value, frame, labels, mask);
        });
      } else if (stmt.kind === "output") {
        this.guard(() => {
          output = this.tensorOf(this.lowerExpr(stmt.value, frame), stmt.value.span, "output");
        });
      } else if (stmt.kind === "return") {
        this.diags.error(
          "a model ends with `loss …`, not `return`",
          stmt.span,
          "write `loss cross_entropy(logits, y)`",
        );
      } else {
        this.lowerStmt(stmt, frame);
      }
    }
    if (!loss) {
      if (!this.diags.hasErrors) {
        this.diags.error(
          `model \`${model.name.name}\` has no loss`,
          model.name.span,
          "end the model with `loss cross_entropy(logits, y)` or `loss bce_with_logits(logits, y)`",
        );
      }
      return undefined;
    }
    if (this.diags.hasErrors) return undefined;
    const prediction = output ?? loss.prediction;
    // Exact mode: reversible stacks carry their input's grid part and add its residual back where
    // the state is read, so that the grid does not change the stack's input (compiler/exact.ts).
    const finished = scope.finish([loss.value, prediction]);
    const graph = this.opts.exact ? exactResiduals(finished) : finished;
    graph.outputs[0]!.hint = "loss";
    return {
      name: model.name.name,
      graph,
      inputs,
      params: scope.params,
      lossKind: loss.kind,
      hypers: Object.fromEntries(hypers),
      repeats: this.repeats,
    };
  }

  private lowerLossStmt(
    e: Expr,
    f: Frame,
    labels: { value: Value; role: "labels" | "multilabels"; classes?: Dim } | undefined,
    mask: Value,
  ): { value: Value; kind: "cross_entropy" | "bce_with_logits"; prediction: Value } {
    if (e.kind !== "call" || !LOSSES.has(e.callee.name)) {
      throw new LowerError(
        "a loss is `cross_entropy(logits, y)` or `bce_with_logits(logits, y)`",
        e.span,
      );
    }
    const kind = e.callee.name as "cross_entropy" | "bce_with_logits";
    if (e.args.length !== 2 || e.args.some((a) => a.name)) {
      throw new LowerError(`${kind} takes two arguments: (logits, labels)`, e.span);
    }
    const logits = this.tensorOf(this.lowerExpr(e.args[0]!.value, f), e.args[0]!.span, "logits");
    const y = this.tensorOf(this.lowerExpr(e.args[1]!.value, f), e.args[1]!.span, "labels");
    const want = kind === "cross_entropy" ? "labels" : "multilabels";
    if (!labels || labels.value !== y) {
      throw new LowerError(
        `the second argument of ${kind} must be the model's \`${want}[…]\` input`,
        e.args[1]!.span,
      );
    }
    if (labels.role !== want) {
      throw new LowerError(
        `${kind} needs ${want === "labels" ? "class labels `labels[N, K]`" : "0/1 targets `multilabels[N, T]`"}`,
        e.args[1]!.span,
        kind === "cross_entropy"
          ? "for multi-label tasks use bce_with_logits"
          : "for single-label tasks use cross_entropy",
      );
    }
    const expected = kind === "cross_entropy" ? ["N", labels.classes!] : y.shape;
    if (!shapeEquals(logits.shape, expected)) {
      throw new LowerError(
        `${kind}: logits are ${shapeToString(logits.shape)}, the labels need ${shapeToString(expected)}`,
        e.args[0]!.span,
      );
    }
    return { value: lowerLoss(f.scope.b, kind, logits, y, mask), kind, prediction: logits };
  }

  // ---- statements ------------------------------------------------------------------------------

  /** Runs fn, turning a LowerError into a diagnostic; returns false when it failed. */
  private guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      if (err instanceof Poisoned) return false;
      if (err instanceof LowerError) {
        this.diags.error(err.message, err.span, err.hint);
        return false;
      }
      throw err;
    }
  }

  private poison(targets: Ident[], f: Frame, mutable: boolean): void {
    for (const t of targets) {
      if (!f.vars.assign(t.name, "poison"))
        f.vars.declare(t.name, { value: "poison", mutable, declaredAt: t.span });
    }
  }

  /** Lowers a statement list; returns the `return` values if the block has one. */
  lowerBlock(stmts: Stmt[], f: Frame): Value[] | undefined {
    let result: Value[] | undefined;
    for (const stmt of stmts) {
      if (result) {
        this.diags.error("unreachable statement after `return`", stmt.span);
        break;
      }
      if (stmt.kind === "return") {
        let ok: Value[] | undefined;
        this.guard(() => {
          ok = stmt.values.map((e) =>
            this.tensorOf(this.lowerExpr(e, f), e.span, "returned value"),
          );
        });
        result = ok ?? [];
        continue;
      }
      this.lowerStmt(stmt, f);
    }
    return result;
  }

  lowerStmt(stmt: Stmt, f: Frame): void {
    switch (stmt.kind) {
      case "param":
        if (!this.guard(() => this.lowerParam(stmt, f))) this.poison([stmt.name], f, false);
        return;
      case "let":
        if (!this.guard(() => this.lowerLet(stmt, f))) this.poison(stmt.targets, f, stmt.mutable);
        return;
      case "assign":
        this.guard(() =>
          this.lowerAssign(stmt.targets, stmt.tuple, this.lowerExpr(stmt.value, f), stmt.span, f),
        );
        return;
      case "update":
        this.guard(() => {
          const cur = this.readVar(stmt.target, f);
          const rhs = this.lowerExpr(stmt.value, f);
          const opcode = UPDATE_COMBINE[stmt.op]!;
          const next = this.binary(opcode, { kind: "tensor", v: cur }, rhs, stmt.span, f, stmt.op);
          this.lowerAssign([stmt.target], false, next, stmt.span, f);
        });
        return;
      case "repeat":
        this.guard(() => this.lowerRepeat(stmt, f));
        return;
      case "loss":
      case "output":
        this.diags.error(`\`${stmt.kind}\` belongs in a model, not in a layer`, stmt.span);
        return;
      case "return":
        this.diags.error("`return` is only allowed at the end of a layer", stmt.span);
        return;
    }
  }

  private lowerParam(stmt: Extract<Stmt, { kind: "param" }>, f: Frame): void {
    if (f.edge)
      throw new LowerError("parameters cannot be declared inside an aggregate", stmt.span);
    if (f.vars.hasOwn(stmt.name.name)) {
      throw new LowerError(
        `\`${stmt.name.name}\` is already defined in this layer`,
        stmt.name.span,
      );
    }
    const shape = evalTypeDims(stmt.type, f, (name, e) => this.unknownDim(name, e.span, f));
    if (stmt.type.role !== "tensor")
      throw new LowerError("a parameter is a plain tensor type", stmt.type.span);
    const init = this.initSpec(stmt.init);
    const v = f.scope.param({
      name: f.path + stmt.name.name,
      shape,
      blockShape: shape,
      stacked: [],
      init,
      loc: stmt.span,
    });
    f.vars.declare(stmt.name.name, { value: v, mutable: false, declaredAt: stmt.span });
  }

  private unknownDim(name: string, span: Span, f: Frame): never {
    const known = [...f.hypers.keys(), ...f.dims.keys(), "N", "E"];
    const s = suggest(name, known);
    throw new LowerError(
      `unknown dimension \`${name}\``,
      span,
      s ? `did you mean \`${s}\`?` : undefined,
    );
  }

  private initSpec(init: Extract<Stmt, { kind: "param" }>["init"]): InitSpec {
    const args = init.args.map((a) => (a.kind === "lit_number" ? a.value : NaN));
    const one = (what: string): number => {
      if (args.length !== 1 || Number.isNaN(args[0]!)) {
        throw new LowerError(
          `\`${init.name.name}\` takes one number: ${init.name.name}(${what})`,
          init.span,
        );
      }
      return args[0]!;
    };
    const none = () => {
      if (args.length) throw new LowerError(`\`${init.name.name}\` takes no arguments`, init.span);
    };
    switch (init.name.name) {
      case "glorot":
        none();
        return { kind: "glorot" };
      case "zeros":
        none();
        return { kind: "zeros" };
      case "ones":
        none();
        return { kind: "ones" };
      case "normal":
        return { kind: "normal", std: one("std") };
      case "uniform":
        return { kind: "uniform", bound: one("bound") };
      case "constant":
        return { kind: "constant", value: one("value") };
      default: {
        const s = suggest(init.name.name, [
          "glorot",
          "zeros",
          "ones",
          "normal",
          "uniform",
          "constant",
        ]);
        throw new LowerError(
          `unknown initialiser \`${init.name.name}\``,
          init.name.span,
          s
            ? `did you mean \`${s}\`?`
            : "use glorot, zeros, ones, normal(std), uniform(bound) or constant(value)",
        );
      }
    }
  }

  private lowerLet(stmt: LetStmt, f: Frame): void {
    const val = this.lowerExpr(stmt.value, f);
    const values = this.destructure(stmt.targets, stmt.tuple, val, stmt.span);
    stmt.targets.forEach((t, i) => {
      if (t.name === "_") return;
      if (f.vars.hasOwn(t.name)) {
        throw new LowerError(
          `\`${t.name}\` is already defined in this block`,
          t.span,
          "choose another name, or assign with `=` to a `var`",
        );
      }
      f.vars.declare(t.name, { value: values[i]!, mutable: stmt.mutable, declaredAt: t.span });
    });
  }

  private destructure(targets: Ident[], tuple: boolean, val: LVal, span: Span): Value[] {
    if (!tuple) {
      if (val.kind === "tuple") {
        throw new LowerError(
          `this is a tuple of ${val.items.length} tensors`,
          span,
          `unpack it: let (${val.items.map((_, i) => `a${i + 1}`).join(", ")}) = …`,
        );
      }
      return [this.tensorOf(val, span, "value")];
    }
    if (val.kind !== "tuple")
      throw new LowerError(`cannot unpack a single tensor into ${targets.length} names`, span);
    if (val.items.length !== targets.length) {
      throw new LowerError(
        `cannot unpack ${val.items.length} tensors into ${targets.length} names`,
        span,
      );
    }
    return val.items;
  }

  private lowerAssign(targets: Ident[], tuple: boolean, val: LVal, span: Span, f: Frame): void {
    const values = this.destructure(targets, tuple, val, span);
    targets.forEach((t, i) => {
      const binding = f.vars.lookup(t.name);
      if (!binding) {
        const s = suggest(t.name, this.visibleNames(f));
        throw new LowerError(
          `\`${t.name}\` is not defined`,
          t.span,
          s ? `did you mean \`${s}\`?` : `declare it first: var ${t.name} = …`,
        );
      }
      if (!binding.mutable) {
        throw new LowerError(
          `cannot assign to \`${t.name}\`: it is not a variable`,
          t.span,
          `declare it with \`var ${t.name} = …\` to update it`,
        );
      }
      const next = values[i]!;
      if (
        binding.value !== "poison" &&
        !Array.isArray(binding.value) &&
        !shapeEquals(binding.value.shape, next.shape)
      ) {
        throw new LowerError(
          `\`${t.name}\` is ${shapeToString(binding.value.shape)} but the new value is ${shapeToString(next.shape)}`,
          span,
          "a variable keeps its shape",
        );
      }
      f.vars.assign(t.name, next);
    });
  }

  private lowerRepeat(stmt: Extract<Stmt, { kind: "repeat" }>, f: Frame): void {
    if (f.edge) throw new LowerError("`repeat` cannot appear inside an aggregate", stmt.span);
    const count = evalDimExpr(stmt.count, f, (name, e) => this.unknownDim(name, e.span, f));
    if (typeof count !== "number" || count < 1) {
      throw new LowerError(
        `a repeat count must be a positive whole number, got ${String(count)}`,
        stmt.count.span,
      );
    }
    const label = stmt.label?.name ?? `repeat${++this.repeatCounter}`;
    this.repeats.push({ label, count, shared: stmt.shared, loc: stmt.span });
    const loop = new LoopScope(f.scope, label, count, stmt.shared, stmt.span);
    const body = new VarEnv(f.vars);
    const carried = assignedOuterNames(stmt.body, (name) => f.vars.lookup(name) !== undefined);
    const carriedValues: Value[] = [];
    for (const name of carried) {
      const binding = f.vars.lookup(name)!;
      if (!binding.mutable) {
        throw new LowerError(
          `\`${name}\` is updated inside the repeat but is not a variable`,
          stmt.span,
          `declare it with \`var ${name} = …\``,
        );
      }
      if (binding.value === "poison") throw new Poisoned();
      if (Array.isArray(binding.value))
        throw new LowerError(`\`${name}\` is a tuple; a loop carries tensors`, stmt.span);
      const local = loop.carry(f.scope.import(binding.value), name, this.opts.exact?.bits);
      carriedValues.push(binding.value);
      body.declare(name, { value: local, mutable: true, declaredAt: binding.declaredAt });
    }
    const inner: Frame = {
      ...f,
      scope: loop,
      vars: body,
      path: `${f.path}${label}.`,
      instanceNames: new Map(),
    };
    this.lowerBlock(stmt.body, inner);
    const finals = carried.map((name) => {
      const b = body.lookup(name)!;
      if (b.value === "poison") throw new Poisoned();
      return b.value as Value;
    });
    const outs = loop.finish(finals.map((v) => loop.import(v)));
    carried.forEach((name, i) => f.vars.assign(name, outs[i]!));
  }

  // ---- expressions -----------------------------------------------------------------------------

  private visibleNames(f: Frame): string[] {
    const names: string[] = [...f.hypers.keys()];
    let env: VarEnv | undefined = f.vars;
    while (env) {
      names.push(...(env as unknown as { vars: Map<string, unknown> }).vars.keys());
      env = env.parent;
    }
    return names;
  }

  private readVar(id: Ident, f: Frame): Value {
    const b = f.vars.lookup(id.name);
    if (!b) {
      const s = suggest(id.name, this.visibleNames(f));
      throw new LowerError(
        `\`${id.name}\` is not defined`,
        id.span,
        s ? `did you mean \`${s}\`?` : undefined,
      );
    }
    if (b.value === "poison") throw new Poisoned();
    if (Array.isArray(b.value))
      throw new LowerError(`\`${id.name}\` is a tuple, not a tensor`, id.span);
    return f.scope.import(b.value);
  }

  tensorOf(val: LVal, span: Span, what: string, f?: Frame): Value {
    if (val.kind === "tensor") return val.v;
    if (val.kind === "number" && f) return f.scope.b.fill(val.n);
    if (val.kind === "tuple")
      throw new LowerError(
        `the ${what} is a tuple of ${val.items.length} tensors; a tensor is needed here`,
        span,
      );
    throw new LowerError(`the ${what} is a number; a tensor is needed here`, span);
  }

  /** Runs an IR builder call, reporting a shape error at `span`. */
  private shaped<T>(span: Span, fn: () => T, context?: (msg: string) => string): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof IrShapeError)
        throw new LowerError(context ? context(err.message) : err.message, span);
      throw err;
    }
  }

  lowerExpr(e: Expr, f: Frame): LVal {
    const b = f.scope.b;
    const prev = b.loc;
    b.loc = e.span;
    try {
      return this.lowerExprAt(e, f);
    } finally {
      b.loc = prev;
    }
  }

  private lowerExprAt(e: Expr, f: Frame): LVal {
    switch (e.kind) {
      case "number":
        return { kind: "number", n: e.value };
      case "name":
        return this.lowerName(e.name, e.span, f);
      case "unary": {
        const x = this.lowerExpr(e.operand, f);
        if (x.kind === "number") return { kind: "number", n: -x.n };
        return { kind: "tensor", v: f.scope.b.neg(this.tensorOf(x, e.operand.span, "operand")) };
      }
      case "binary": {
        // `a + b + … + z` is a left-deep tree as tall as the chain is long: walk its left spine in
        // a loop, so that a sum of thousands of terms does not exhaust the stack.
        const spine: Extract<Expr, { kind: "binary" }>[] = [];
        let leftmost: Expr = e;
        for (; leftmost.kind === "binary"; leftmost = leftmost.left) spine.push(leftmost);
        let l = this.lowerExpr(leftmost, f);
        const b = f.scope.b;
        const prev = b.loc;
        try {
          for (let i = spine.length - 1; i >= 0; i--) {
            const node = spine[i]!;
            b.loc = node.span;
            const r = this.lowerExpr(node.right, f);
            l =
              node.op === "@"
                ? this.matmul(l, r, node, f)
                : this.binary(BINARY_OPCODE[node.op], l, r, node.span, f, node.op);
          }
        } finally {
          b.loc = prev;
        }
        return l;
      }
      case "call":
        return this.lowerCall(e, f);
      case "index":
        return this.lowerIndex(e, f);
      case "tuple":
        return {
          kind: "tuple",
          items: e.items.map((x) => this.tensorOf(this.lowerExpr(x, f), x.span, "tuple item", f)),
        };
      case "aggregate":
        return this.lowerAggregate(e, f);
      case "groups":
        return this.lowerGroups(e, f);
      case "fixpoint":
        return this.lowerFixpoint(e, f);
    }
  }

  private lowerName(name: string, span: Span, f: Frame): LVal {
    if (f.edge && (name === f.edge.src || name === f.edge.dst)) {
      throw new LowerError(
        `\`${name}\` names an edge endpoint, not a tensor`,
        span,
        `read a node tensor at it: x[${name}]`,
      );
    }
    const binding = f.vars.lookup(name);
    if (binding) {
      if (binding.value === "poison") throw new Poisoned();
      if (Array.isArray(binding.value))
        return { kind: "tuple", items: binding.value.map((v) => f.scope.import(v)) };
      const v = f.scope.import(binding.value);
      if (f.edge && v.shape.length === 2 && v.shape[0] === "N") {
        throw new LowerError(
          `node tensor \`${name}\` must be read at an edge endpoint inside an aggregate`,
          span,
          `write ${name}[${f.edge.src}] (source) or ${name}[${f.edge.dst}] (destination)`,
        );
      }
      if (f.edge && v.shape.length >= 1 && v.shape[0] === "E" && f.edge.selfLoops) {
        throw new LowerError(
          `edge tensor \`${name}\` has no value on the self loops`,
          span,
          "drop `with self_loops`, or add the loop term outside the aggregate",
        );
      }
      if (!f.edge && v.shape.length >= 1 && v.shape[0] === "E") {
        throw new LowerError(`edge tensor \`${name}\` can only be used inside an aggregate`, span);
      }
      return { kind: "tensor", v };
    }
    const h = f.hypers.get(name);
    if (h !== undefined) {
      if (typeof h === "boolean")
        throw new LowerError(`\`${name}\` is a bool; arithmetic needs numbers`, span);
      return { kind: "number", n: h };
    }
    // A size name bound by an argument's type (`d` in x: [N, d]) is a number, e.g. for
    // `mlp(z, hidden = d)`; N and E are known only when the graph is, so they stay symbolic.
    const size = name === "N" || name === "E" ? name : f.dims.get(name);
    if (typeof size === "number") return { kind: "number", n: size };
    if (size !== undefined) {
      throw new LowerError(
        size === name
          ? `\`${name}\` is a size of the graph, known only when the graph is`
          : `\`${name}\` is the size ${size}, known only when the graph is`,
        span,
        "only sizes fixed by the model's hyperparameters can be used as values",
      );
    }
    if (this.layers.has(name) || builtinByName.has(name)) {
      throw new LowerError(`\`${name}\` is a function; call it: ${name}(…)`, span);
    }
    const s = suggest(name, this.visibleNames(f));
    throw new LowerError(
      `\`${name}\` is not defined`,
      span,
      s ? `did you mean \`${s}\`?` : undefined,
    );
  }

  binary(opcode: Combine, l: LVal, r: LVal, span: Span, f: Frame, symbol: string): LVal {
    if (l.kind === "number" && r.kind === "number") {
      return { kind: "number", n: combine64(opcode, l.n, r.n) };
    }
    const a = this.tensorOf(l, span, "left operand", f);
    const c = this.tensorOf(r, span, "right operand", f);
    return {
      kind: "tensor",
      v: this.shaped(
        span,
        () => f.scope.b.op(opcode, [a, c]),
        () =>
          `\`${symbol}\` needs operands of the same shape (or one that broadcasts): ${shapeToString(a.shape)} and ${shapeToString(c.shape)}`,
      ),
    };
  }

  private matmul(l: LVal, r: LVal, e: Extract<Expr, { kind: "binary" }>, f: Frame): LVal {
    if (f.edge) {
      throw new LowerError(
        "`@` is not available on edge values",
        e.span,
        "multiply node features before reading them at an endpoint: (x @ W)[u]",
      );
    }
    const a = this.tensorOf(l, e.left.span, "left operand of @");
    const c = this.tensorOf(r, e.right.span, "right operand of @");
    return {
      kind: "tensor",
      v: this.shaped(
        e.span,
        () => f.scope.b.op("matmul", [a, c], { transA: false, transB: false }),
        (m) => (m.startsWith("inner") ? `\`@\`: ${m}` : m),
      ),
    };
  }

  private lowerIndex(e: Extract<Expr, { kind: "index" }>, f: Frame): LVal {
    if (!f.edge) {
      throw new LowerError(
        "`x[u]` reads a node at an edge endpoint; it is only meaningful inside an aggregate",
        e.span,
      );
    }
    const side =
      e.index.name === f.edge.src ? "src" : e.index.name === f.edge.dst ? "dst" : undefined;
    if (!side) {
      throw new LowerError(
        `\`${e.index.name}\` is not an endpoint of this aggregate's edges (${f.edge.src} -> ${f.edge.dst})`,
        e.index.span,
      );
    }
    const nodeFrame: Frame = { ...f, edge: undefined };
    const x = this.tensorOf(this.lowerExpr(e.target, nodeFrame), e.target.span, "indexed value");
    return {
      kind: "tensor",
      v: this.shaped(e.span, () => f.scope.b.op("gather", [x], { side, loops: f.edge!.selfLoops })),
    };
  }

  // ---- calls -----------------------------------------------------------------------------------

  private lowerCall(e: CallExpr, f: Frame): LVal {
    const name = e.callee.name;
    if (LOSSES.has(name)) {
      throw new LowerError(
        `\`${name}\` is a loss; use it in the model's \`loss\` statement`,
        e.span,
      );
    }
    const layer = this.layers.get(name);
    if (layer) return this.callLayer(layer, e.args, e, f);
    const builtin = builtinByName.get(name);
    if (builtin) return this.callBuiltin(builtin, e, f);
    const s = suggest(name, [...this.layers.keys(), ...builtinByName.keys()]);
    throw new LowerError(
      `unknown function \`${name}\``,
      e.callee.span,
      s ? `did you mean \`${s}\`?` : "define it with `layer " + name + "(…) { … }`",
    );
  }

  private constNumber(e: Expr, f: Frame, what: string): number | boolean {
    if (e.kind === "name") {
      const h = f.hypers.get(e.name);
      if (h !== undefined) return h;
    }
    const v = this.lowerExpr(e, f);
    if (v.kind !== "number")
      throw new LowerError(`${what} must be a number known at compile time`, e.span);
    return v.n;
  }

  private callBuiltin(bi: Builtin, e: CallExpr, f: Frame): LVal {
    const positional = e.args.filter((a) => !a.name);
    const keyword = e.args.filter((a) => a.name);
    const [minT, maxT] = bi.tensors;
    const nTensors = Math.min(positional.length, maxT);
    if (positional.length < minT) {
      throw new LowerError(
        `${bi.name} takes ${minT === maxT ? minT : `at least ${minT}`} tensor argument${minT === 1 ? "" : "s"}: ${bi.signature}`,
        e.span,
      );
    }
    const optionArgs = positional.slice(nTensors);
    if (optionArgs.length > bi.options.length) {
      throw new LowerError(
        `too many arguments to ${bi.name}: ${bi.signature}`,
        optionArgs[bi.options.length]!.span,
      );
    }
    const args = positional.slice(0, nTensors).map((a) => this.lowerExpr(a.value, f));
    const options = new Map<string, number>();
    optionArgs.forEach((a, i) =>
      options.set(
        bi.options[i]![0],
        this.asNumber(this.constNumber(a.value, f, `\`${bi.options[i]![0]}\``), a.span),
      ),
    );
    for (const a of keyword) {
      if (!bi.options.some(([k]) => k === a.name!.name)) {
        throw new LowerError(
          `${bi.name} has no option \`${a.name!.name}\``,
          a.name!.span,
          `its signature is ${bi.signature}`,
        );
      }
      options.set(
        a.name!.name,
        this.asNumber(this.constNumber(a.value, f, `\`${a.name!.name}\``), a.span),
      );
    }
    for (const [k, d] of bi.options) {
      if (!options.has(k)) {
        if (d === undefined)
          throw new LowerError(`${bi.name} needs \`${k}\`: ${bi.signature}`, e.span);
        options.set(k, d);
      }
    }
    return this.shaped(e.span, () =>
      bi.lower({
        b: f.scope.b,
        args,
        kwargs: new Map(),
        span: e.span,
        training: this.opts.training,
        iteration: () => f.scope.iteration(),
        stream: () => ++this.streamCounter,
        tensor: (i) =>
          this.tensorOf(args[i]!, positional[i]!.span, `argument ${i + 1} of ${bi.name}`, f),
        number: (k) => options.get(String(k))!,
      }),
    );
  }

  private asNumber(v: number | boolean, span: Span): number {
    if (typeof v !== "number") throw new LowerError("expected a number, got a bool", span);
    return v;
  }

  /** Binds a layer's hyperparameters from defaults and the call's arguments. */
  private bindHypers(
    layer: LayerDecl,
    args: Arg[],
    f: Frame,
    span: Span,
  ): Map<string, number | boolean> {
    const hypers = new Map<string, number | boolean>();
    for (const a of args) {
      const name = a.name!.name;
      const decl = layer.hypers.find((h) => h.name.name === name);
      if (!decl) {
        const isTensor = layer.args.some((t) => t.name.name === name);
        const s = suggest(
          name,
          layer.hypers.map((h) => h.name.name),
        );
        throw new LowerError(
          isTensor
            ? `\`${name}\` is a tensor argument of ${layer.name.name}; pass it by position`
            : `${layer.name.name} has no hyperparameter \`${name}\``,
          a.name!.span,
          s
            ? `did you mean \`${s}\`?`
            : layer.hypers.length
              ? `its hyperparameters are ${layer.hypers.map((h) => h.name.name).join(", ")}`
              : undefined,
        );
      }
      if (hypers.has(name)) throw new LowerError(`\`${name}\` is given twice`, a.span);
      const v = this.constNumber(a.value, f, `hyperparameter \`${name}\``);
      hypers.set(name, this.checkHyperType(decl.type, v, a.value.span, name));
    }
    for (const h of layer.hypers) {
      if (hypers.has(h.name.name)) continue;
      if (!h.default) {
        throw new LowerError(
          `${layer.name.name} needs hyperparameter \`${h.name.name}\``,
          span,
          `pass it: ${layer.name.name}(…, ${h.name.name} = …)`,
        );
      }
      hypers.set(h.name.name, h.default.value);
    }
    return hypers;
  }

  checkHyperType(
    type: "int" | "float" | "bool",
    v: number | boolean,
    span: Span | undefined,
    name: string,
  ): number | boolean {
    if (type === "bool") {
      if (typeof v !== "boolean") throw new LowerError(`\`${name}\` is a bool, got ${v}`, span);
      return v;
    }
    if (typeof v !== "number")
      throw new LowerError(
        `\`${name}\` is ${type === "int" ? "an int" : "a float"}, got ${v}`,
        span,
      );
    if (type === "int" && !Number.isInteger(v))
      throw new LowerError(`\`${name}\` is an int, got ${v}`, span);
    return v;
  }

  private instanceName(f: Frame, base: string): string {
    const n = (f.instanceNames.get(base) ?? 0) + 1;
    f.instanceNames.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  }

  /**
   * Inlines a layer. `pathName` overrides the instance's name in parameter paths (the groups of a
   * coupling are `group1`, `group2`, …).
   */
  private callLayer(
    layer: LayerDecl,
    args: Arg[],
    call: { span: Span },
    f: Frame,
    pathName?: string,
    given?: Value[],
  ): LVal {
    if (f.callStack.includes(layer.name.name)) {
      throw new LowerError(
        `layer \`${layer.name.name}\` calls itself (${[...f.callStack, layer.name.name].join(" → ")})`,
        call.span,
        "layers are expanded inline; use `repeat` for depth",
      );
    }
    const positional = args.filter((a) => !a.name);
    const keyword = args.filter((a) => a.name);
    const tensorArgs = given ?? [];
    const extraHypers: Arg[] = [];
    if (!given) {
      if (positional.length < layer.args.length) {
        throw new LowerError(
          `${layer.name.name} takes ${layer.args.length} tensor argument${layer.args.length === 1 ? "" : "s"} (${layer.args.map((a) => a.name.name).join(", ")}), got ${positional.length}`,
          call.span,
        );
      }
      positional
        .slice(0, layer.args.length)
        .forEach((a) =>
          tensorArgs.push(this.tensorOf(this.lowerExpr(a.value, f), a.span, "argument", f)),
        );
      positional.slice(layer.args.length).forEach((a, i) => {
        const h = layer.hypers[i];
        if (!h) throw new LowerError(`too many arguments to ${layer.name.name}`, a.span);
        if (this.lowerExpr(a.value, f).kind !== "number") {
          throw new LowerError(
            `${layer.name.name} takes ${layer.args.length} tensor argument${layer.args.length === 1 ? "" : "s"} (${layer.args.map((x) => x.name.name).join(", ")}), got ${positional.length - i}`,
            a.span,
            `after the tensors come hyperparameters: ${layer.hypers.map((x) => x.name.name).join(", ") || "(none)"}`,
          );
        }
        extraHypers.push({ ...a, name: { name: h.name.name, span: a.span } });
      });
    }
    const hypers = this.bindHypers(layer, [...extraHypers, ...keyword], f, call.span);
    const bound = new Map<string, number | string>();
    const dimScope: DimScope = { hypers, dims: new Map() };
    layer.args.forEach((a, i) => {
      const msg = unifyArgument(a.type, tensorArgs[i]!.shape, dimScope, bound);
      if (msg) {
        throw new LowerError(
          `argument \`${a.name.name}\` of ${layer.name.name}: ${msg}`,
          positional[i]?.span ?? call.span,
        );
      }
    });
    const vars = new VarEnv();
    layer.args.forEach((a, i) =>
      vars.declare(a.name.name, { value: tensorArgs[i]!, mutable: true, declaredAt: a.span }),
    );
    const inner: Frame = {
      scope: f.scope,
      vars,
      hypers,
      dims: bound,
      path: `${f.path}${pathName ?? this.instanceName(f, layer.name.name)}.`,
      instanceNames: new Map(),
      isModel: false,
      callStack: [...f.callStack, layer.name.name],
    };
    if (layer.reversible) return this.callReversibleLayer(layer, tensorArgs, inner, call.span);
    const errorsBefore = this.diags.items.length;
    const result = this.lowerBlock(layer.body, inner);
    if (!result) {
      if (this.diags.items.length > errorsBefore) throw new Poisoned();
      throw new LowerError(`layer \`${layer.name.name}\` ends without \`return\``, layer.name.span);
    }
    if (result.length === 0) throw new Poisoned();
    this.checkResults(layer, result, inner);
    return result.length === 1
      ? { kind: "tensor", v: result[0]! }
      : { kind: "tuple", items: result };
  }

  private checkResults(layer: LayerDecl, result: Value[], f: Frame): void {
    if (layer.results.length === 0) return;
    const ret = layer.body.find((s) => s.kind === "return")!;
    if (layer.results.length !== result.length) {
      throw new LowerError(
        `${layer.name.name} declares ${layer.results.length} result${layer.results.length === 1 ? "" : "s"} but returns ${result.length}`,
        ret.span,
      );
    }
    layer.results.forEach((t, i) => {
      const want = evalTypeDims(t, f, (name, e) => this.unknownDim(name, e.span, f));
      if (!shapeEquals(want, result[i]!.shape)) {
        throw new LowerError(
          `${layer.name.name} returns ${shapeToString(result[i]!.shape)} but declares ${shapeToString(want)}`,
          ret.span,
          "the result type after `->` must match what the layer returns",
        );
      }
    });
  }

  // ---- reversible blocks -----------------------------------------------------------------------

  /**
   * Emits a rev_block: one region per statement, of the variables it reads and whatever it
   * captures (weights, conditioning inputs, the iteration number); every region receives the
   * union of the captures. A statement with several updates is a compound one (shared `let`s).
   */
  private emitRevBlock(
    f: Frame,
    vars: Value[],
    stmts: {
      reads: number[];
      updates: { target: number; combine: Combine; span: Span }[];
      lower: (scope: RegionScope, reads: Value[]) => Value[];
      span: Span;
    }[],
    span: Span,
  ): Value[] {
    const regions: RegionScope[] = [];
    const outputs: Value[][] = [];
    const exact = this.opts.exact;
    if (exact) {
      // On the grid already after the first block: the rounding is the identity there.
      vars = vars.map((v) => f.scope.b.unary("quantize", v, { bits: exact.bits }));
    }
    const current = [...vars];
    stmts.forEach((s, k) => {
      const region = new RegionScope(f.scope, `stmt${k + 1}`, s.span);
      const reads = s.reads.map((r, i) => region.arg(current[r]!.shape, `x${r + 1}_${i}`));
      const gs = s.lower(region, reads).map((g, i) => {
        const u = s.updates[i]!;
        if (exact) {
          if (u.combine !== "add" && u.combine !== "sub") {
            // Why not: x·γ of a value on the 2^-bits grid is off the grid, and rounding it back
            // drops bits that x' / γ cannot restore. An exact scheme (MomentumNet's, after
            // Maclaurin et al.) keeps those bits in a per-block integer buffer; there is none here.
            throw new LowerError(
              `\`${u.combine === "mul" ? "*=" : "/="}\` cannot be exact: a value on the 2^-${exact.bits} grid times a factor leaves the grid, and rounding it back loses bits the inverse cannot restore`,
              u.span,
              "exact multiplication would need a buffer of the lost bits per block, which revgnn does not keep; train without --exact and bound the drift with --checkpoint-every k",
            );
          }
        }
        const full = broadcastUpdate(region, g, current[u.target]!.shape, u.span);
        return exact ? region.b.unary("quantize", full, { bits: exact.bits }) : full;
      });
      regions.push(region);
      outputs.push(gs);
    });
    const consts: Value[] = [];
    for (const r of regions)
      for (const o of r.capturedOuter) if (!consts.includes(o)) consts.push(o);
    const graphs = regions.map((r, k) => r.finish(outputs[k]!, consts));
    return this.shaped(span, () =>
      f.scope.b.emit(
        "rev_block",
        [...vars, ...consts],
        {
          numVars: vars.length,
          stmts: stmts.map(({ reads, updates: [first, ...rest] }) => ({
            target: first!.target,
            combine: first!.combine,
            reads,
            ...(rest.length
              ? { then: rest.map(({ target, combine }) => ({ target, combine })) }
              : {}),
          })) as never,
        },
        graphs,
      ),
    );
  }

  /**
   * A reversible layer: its updated arguments are the block's variables, the others conditioning
   * inputs captured like weights; each group of updates (see reversible-body.ts) is one statement
   * whose region computes the group's temporaries once and then every update's value.
   */
  private callReversibleLayer(layer: LayerDecl, args: Value[], f: Frame, span: Span): LVal {
    const plan = planReversibleBody(layer);
    const argNames = layer.args.map((a) => a.name.name);
    // Parameters are declared in the enclosing scope; the statements capture them.
    for (const stmt of layer.body) if (stmt.kind === "param") this.lowerStmt(stmt, f);
    const varOf = (argIndex: number) => plan.variables.indexOf(argIndex);
    const env: SignEnv = (n) => {
      const h = f.hypers.get(n);
      return typeof h === "number" ? h : plan.letValues.get(n);
    };
    const stmts = plan.groups.map((g) => ({
      reads: g.reads.map(varOf),
      updates: g.updates.map((u) => {
        if ((u.op === "*=" || u.op === "/=") && !provablyNonzero(u.value, env)) {
          const weak = culprit(u.value, env);
          throw new LowerError(
            `\`${u.target.name} ${u.op} …\` is not invertible here: the factor could be zero (${whyMaybeZero(weak, env, "this")})`,
            weak.span,
            "give the hyperparameter a nonzero value",
          );
        }
        return {
          target: varOf(argNames.indexOf(u.target.name)),
          combine: UPDATE_COMBINE[u.op]!,
          span: u.span,
        };
      }),
      span: g.updates[0]!.span,
      lower: (scope: RegionScope, readValues: Value[]) => {
        const vars = new VarEnv(f.vars);
        argNames.forEach((n, i) => {
          const r = g.reads.indexOf(i);
          const value = plan.conditions.includes(i)
            ? args[i]!
            : r >= 0
              ? readValues[r]!
              : ("poison" as const);
          vars.declare(n, { value, mutable: false });
        });
        const inner: Frame = { ...f, scope, vars };
        for (const l of g.lets) this.lowerLet(l, inner);
        return g.updates.map((u) =>
          this.tensorOf(this.lowerExpr(u.value, inner), u.value.span, "update", inner),
        );
      },
    }));
    const out = this.emitRevBlock(
      f,
      plan.variables.map((i) => args[i]!),
      stmts,
      span,
    );
    return out.length === 1 ? { kind: "tensor", v: out[0]! } : { kind: "tuple", items: out };
  }

  /** `reversible groups C f(…) (h)`: the paper's grouped additive coupling. */
  private lowerGroups(e: GroupsExpr, f: Frame): LVal {
    if (f.edge)
      throw new LowerError("a reversible coupling cannot appear inside an aggregate", e.span);
    const layer = this.layers.get(e.layer.name);
    if (!layer) {
      const s = suggest(e.layer.name, [...this.layers.keys()]);
      throw new LowerError(
        `unknown layer \`${e.layer.name}\``,
        e.layer.span,
        s ? `did you mean \`${s}\`?` : undefined,
      );
    }
    if (layer.args.length !== 1 || layer.reversible) {
      throw new LowerError(
        `a group function takes one tensor and returns one of the same shape; \`${layer.name.name}\` does not`,
        e.layer.span,
      );
    }
    const C = evalDimExpr(e.groups, f, (name, d) => this.unknownDim(name, d.span, f));
    if (typeof C !== "number" || C < 2) {
      throw new LowerError(
        `a reversible coupling needs at least 2 groups, got ${String(C)}`,
        e.groups.span,
        "with C = 1 there is nothing to couple",
      );
    }
    const h = this.tensorOf(this.lowerExpr(e.input, f), e.input.span, "input", f);
    const width = h.shape[1];
    if (h.shape.length !== 2 || typeof width !== "number" || width % C !== 0) {
      throw new LowerError(
        `cannot split ${shapeToString(h.shape)} into ${C} equal channel groups`,
        e.input.span,
        "the channel count must be divisible by the number of groups",
      );
    }
    const d = width / C;
    const parts = Array.from({ length: C }, (_, i) =>
      f.scope.b.op("slice_cols", [h], { start: i * d, len: d }),
    );
    // x_1 += f_1(x_2 + … + x_C);  x_i += f_i(x_{i−1}) for i = 2..C (x_{i−1} already updated).
    const stmts = Array.from({ length: C }, (_, i) => ({
      updates: [{ target: i, combine: "add" as Combine, span: e.span }],
      reads: i === 0 ? Array.from({ length: C - 1 }, (_, k) => k + 1) : [i - 1],
      span: e.span,
      lower: (scope: RegionScope, reads: Value[]) => {
        const inner: Frame = { ...f, scope };
        let input = reads[0]!;
        for (let k = 1; k < reads.length; k++) input = scope.b.add(input, reads[k]!);
        const r = this.callLayer(layer, e.hyperArgs, e, inner, `group${i + 1}`, [input]);
        return [this.tensorOf(r, e.span, "group function result", inner)];
      },
    }));
    const out = this.emitRevBlock(f, parts, stmts, e.span);
    return { kind: "tensor", v: f.scope.b.op("concat_cols", out) };
  }

  // ---- message passing -------------------------------------------------------------------------

  private lowerAggregate(e: AggregateExpr, f: Frame): LVal {
    if (f.edge) throw new LowerError("aggregates cannot be nested", e.span);
    if (e.src.name === e.dst.name) {
      throw new LowerError(
        "the two endpoints need different names",
        e.dst.span,
        "write `over edges (u -> v)`",
      );
    }
    const loops = e.selfLoops;
    const ef: Frame = {
      ...f,
      vars: new VarEnv(f.vars),
      edge: { src: e.src.name, dst: e.dst.name, selfLoops: loops },
    };
    for (const l of e.lets) this.lowerLet(l, ef);
    const b = f.scope.b;
    const msg = this.tensorOf(this.lowerExpr(e.message, ef), e.message.span, "message", ef);
    const edgeDim = loops ? "E+N" : "E";
    const asEdge = (v: Value, span: Span, what: string): Value => {
      if (v.shape.length === 2 && v.shape[0] === edgeDim) return v;
      if (v.shape.length <= 1 || (v.shape.length === 2 && v.shape[0] === 1)) {
        throw new LowerError(
          `the ${what} does not read any edge (${shapeToString(v.shape)})`,
          span,
          `use ${e.src.name}[…] or ${e.dst.name}[…] in it`,
        );
      }
      throw new LowerError(
        `the ${what} must be one row per edge, got ${shapeToString(v.shape)}`,
        span,
      );
    };
    const m = asEdge(msg, e.message.span, "message");
    // The parser accepts only the registry's names, with an argument exactly where one is due.
    const aggregation = aggregationNamed(e.reducer.name)!;
    const arg = e.reducer.arg;
    const segment = (opcode: string) => (x: Value) => b.op(opcode, [x], { by: "dst", loops });
    return {
      kind: "tensor",
      v: aggregation.lower({
        b,
        message: m,
        arg:
          arg &&
          asEdge(this.tensorOf(this.lowerExpr(arg, ef), arg.span, "score", ef), arg.span, "score"),
        sum: segment("segment_sum"),
        max: segment("segment_max"),
        atDestination: (x) => b.op("gather", [x], { side: "dst", loops }),
        inDegree: () => b.op("degree", [], { by: "dst", loops }),
        argumentError: (message, hint) => {
          throw new LowerError(message, arg?.span ?? e.reducer.span, hint);
        },
      }),
    };
  }

  // ---- deep equilibrium ------------------------------------------------------------------------

  private lowerFixpoint(e: FixpointExpr, f: Frame): LVal {
    if (f.edge) throw new LowerError("a fixpoint cannot appear inside an aggregate", e.span);
    const init = this.tensorOf(this.lowerExpr(e.init, f), e.init.span, "initial value", f);
    const options = { tol: 1e-4, max_iter: 50, solver: "anderson", memory: 5 };
    for (const o of e.options) {
      const key = o.name?.name;
      if (key === "solver") {
        if (o.value.kind !== "name" || !["anderson", "picard"].includes(o.value.name)) {
          throw new LowerError("solver is `anderson` or `picard`", o.value.span);
        }
        options.solver = o.value.name;
      } else if (key === "tol" || key === "max_iter" || key === "memory") {
        options[key] = this.asNumber(this.constNumber(o.value, f, key), o.value.span);
      } else {
        throw new LowerError(
          `unknown fixpoint option \`${key ?? "?"}\``,
          o.span,
          "options are tol, max_iter, solver, memory",
        );
      }
    }
    if (!(options.max_iter >= 1) || !Number.isInteger(options.max_iter)) {
      throw new LowerError("max_iter must be a positive whole number", e.span);
    }
    const region = new RegionScope(f.scope, "cell", e.span);
    const z = region.arg(init.shape, e.variable.name);
    const vars = new VarEnv(f.vars);
    vars.declare(e.variable.name, { value: z, mutable: false, declaredAt: e.variable.span });
    const inner: Frame = {
      ...f,
      scope: region,
      vars,
      path: `${f.path}${this.instanceName(f, "fixpoint")}.`,
    };
    for (const l of e.lets) this.lowerLet(l, inner);
    const next = this.tensorOf(this.lowerExpr(e.body, inner), e.body.span, "fixpoint body", inner);
    if (!shapeEquals(next.shape, init.shape)) {
      throw new LowerError(
        `the fixpoint body returns ${shapeToString(next.shape)} but iterates a ${shapeToString(init.shape)} value`,
        e.body.span,
      );
    }
    const consts = region.capturedOuter;
    const graph = region.finish([next], consts);
    const [out] = f.scope.b.emit(
      "fixpoint",
      [init, ...consts],
      {
        tol: options.tol,
        maxIter: options.max_iter,
        solver: options.solver,
        memory: options.memory,
        tag: `fixpoint@${e.span.line}`,
      },
      [graph],
    );
    return { kind: "tensor", v: out! };
  }
}

export type { ParamSpec };
