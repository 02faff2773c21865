// What the pieces of the lowering share: the program's layers, the diagnostics, the options, the
// counters that number repeats and random streams across the whole model, and the recursive entry
// points. The pieces (statements.ts, expressions.ts, calls.ts, …) receive this context instead of
// importing each other, so that mutual recursion (a call lowers a block, a block lowers a call)
// goes through the coordinator (lower.ts) and the modules form no import cycle.
import type { Arg, Expr, LayerDecl, LetStmt, Span, Stmt } from "../../grammar/ast.js";
import type { DiagnosticBag } from "../../grammar/diagnostics.js";
import type { Value } from "../ir/types.js";
import { LowerError, Poisoned, type Frame, type LVal } from "./values.js";

export interface LowerOptions {
  training: boolean;
  /**
   * Exact reversibility: the variables of reversible blocks live on the fixed-point grid of
   * multiples of 2^-bits, and each update adds a value rounded to that grid, so `x + g` and
   * `x' − g` are exact in float32 (while |x| < 2^(24−bits)) and rebuilt inputs are bit-exact.
   */
  exact?: { bits: number };
}

/** A `repeat` as reports show it: its label, count and source span. */
export interface RepeatInfo {
  label: string;
  count: number;
  shared: boolean;
  loc: Span;
}

export interface LowerContext {
  readonly layers: ReadonlyMap<string, LayerDecl>;
  readonly diags: DiagnosticBag;
  readonly opts: LowerOptions;
  /** The model's repeats in source order (for reports). */
  readonly repeats: RepeatInfo[];
  /** Numbers unlabelled repeats (`repeat1`, `repeat2`, …) across the model. */
  repeatCounter: number;
  /** Numbers the random streams of dropout and friends across the model. */
  streamCounter: number;
  lowerExpr(e: Expr, f: Frame): LVal;
  lowerStmt(stmt: Stmt, f: Frame): void;
  lowerBlock(stmts: Stmt[], f: Frame): Value[] | undefined;
  lowerLet(stmt: LetStmt, f: Frame): void;
  callLayer(
    layer: LayerDecl,
    args: Arg[],
    call: { span: Span },
    f: Frame,
    pathName?: string,
    given?: Value[],
  ): LVal;
}

/** Runs fn, turning a LowerError into a diagnostic; returns false when it failed. */
export function guard(cx: LowerContext, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof Poisoned) return false;
    if (err instanceof LowerError) {
      cx.diags.error(err.message, err.span, err.hint);
      return false;
    }
    throw err;
  }
}
