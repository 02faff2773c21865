// AST → IR. Layers are inlined at their call sites (each call is an instance with its own
// parameters); `repeat` becomes one scan over a body compiled once; reversible layers and the
// grouped coupling become rev_block ops; aggregates become gather / segment ops; the model's loss
// becomes a masked mean. Shapes are checked here by the IR ops' own shape rules, and every failure
// is reported at the source text that caused it; lowering carries on after an error (the failed
// statement's names are "poisoned" so that their later uses stay silent).
//
// This file is the coordinator; each construct is lowered by its own module: signature.ts (the
// model's inputs and loss), statements.ts, expressions.ts, calls.ts (builtins, layers),
// reversible.ts (rev_block), aggregate.ts, fixpoint.ts. They share a LowerContext (context.ts).
import { exactResiduals } from "../exact.js";
import type { Arg, Expr, LayerDecl, LetStmt, ModelDecl, Span, Stmt } from "../../grammar/ast.js";
import type { DiagnosticBag } from "../../grammar/diagnostics.js";
import type { Graph, Value } from "../ir/types.js";
import { callLayer, checkHyperType } from "./calls.js";
import { tensorOf } from "./coerce.js";
import { guard, type LowerContext, type LowerOptions, type RepeatInfo } from "./context.js";
import { lowerExpr } from "./expressions.js";
import { ModelScope, type ParamSpec, type StateSpec } from "./scope.js";
import { lowerLossStmt, lowerSignature, type LoweredLoss, type ModelInput } from "./signature.js";
import { lowerBlock, lowerLet, lowerStmt } from "./statements.js";
import { LowerError, VarEnv, type Frame, type LVal } from "./values.js";

export interface LoweredModel {
  name: string;
  /**
   * inputs [model inputs…, params…, states…]; outputs [loss, prediction], then in the training
   * model each state's new value (in `states` order)
   */
  graph: Graph;
  inputs: ModelInput[];
  params: ParamSpec[];
  /** Model state (`state` declarations: running statistics), not trained. */
  states: StateSpec[];
  lossKind: "cross_entropy" | "bce_with_logits";
  hypers: Record<string, number | boolean>;
  /** Source spans of the `repeat`s, in order, with their counts (for reports). */
  repeats: RepeatInfo[];
}

/**
 * The coordinator: holds what the pieces share (LowerContext) and routes their mutual recursion
 * (statements ↔ expressions ↔ calls ↔ reversible blocks) to the modules that own each construct.
 */
export class Lowerer implements LowerContext {
  repeatCounter = 0;
  streamCounter = 0;
  readonly repeats: RepeatInfo[] = [];

  constructor(
    readonly layers: ReadonlyMap<string, LayerDecl>,
    readonly diags: DiagnosticBag,
    readonly opts: LowerOptions,
  ) {}

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
    const { inputs, labels, mask } = lowerSignature(this, model, scope, frame);
    let loss: LoweredLoss | undefined;
    let output: Value | undefined;
    for (const stmt of model.body) {
      if (stmt.kind === "loss") {
        guard(this, () => {
          if (loss) throw new LowerError("a model has one loss", stmt.span);
          loss = lowerLossStmt(this, stmt.value, frame, labels, mask);
        });
      } else if (stmt.kind === "output") {
        guard(this, () => {
          output = tensorOf(this.lowerExpr(stmt.value, frame), stmt.value.span, "output");
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
    const finished = scope.finish([loss.value, prediction], this.opts.training);
    const graph = this.opts.exact ? exactResiduals(finished) : finished;
    graph.outputs[0]!.hint = "loss";
    return {
      name: model.name.name,
      graph,
      inputs,
      params: scope.params,
      states: scope.states,
      lossKind: loss.kind,
      hypers: Object.fromEntries(hypers),
      repeats: this.repeats,
    };
  }

  lowerExpr(e: Expr, f: Frame): LVal {
    return lowerExpr(this, e, f);
  }

  lowerStmt(stmt: Stmt, f: Frame): void {
    lowerStmt(this, stmt, f);
  }

  lowerBlock(stmts: Stmt[], f: Frame): Value[] | undefined {
    return lowerBlock(this, stmts, f);
  }

  lowerLet(stmt: LetStmt, f: Frame): void {
    lowerLet(this, stmt, f);
  }

  callLayer(
    layer: LayerDecl,
    args: Arg[],
    call: { span: Span },
    f: Frame,
    pathName?: string,
    given?: Value[],
  ): LVal {
    return callLayer(this, layer, args, call, f, pathName, given);
  }

  /** Checks a `--set` override against its declared type (compile.ts). */
  checkHyperType(
    type: "int" | "float" | "bool",
    v: number | boolean,
    span: Span | undefined,
    name: string,
  ): number | boolean {
    return checkHyperType(type, v, span, name);
  }
}
