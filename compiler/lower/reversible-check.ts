// Proves each reversible layer invertible, statement by statement, or says why not. A statement
// `x ⊕= e` is invertible when e does not read x (so e can be recomputed after the update) and, for
// ×= and ÷=, when e can never be zero.
import type { Expr, LayerDecl } from "../ast.js";
import type { DiagnosticBag } from "../diagnostics.js";
import { freeNames } from "./names.js";

const NEVER_ZERO_CALLS = new Set(["exp", "sigmoid", "softplus"]);

/** A conservative proof that e is never zero. */
export function provablyNonzero(e: Expr): boolean {
  switch (e.kind) {
    case "number":
      return e.value !== 0;
    case "call":
      return NEVER_ZERO_CALLS.has(e.callee.name);
    case "binary":
      if (e.op === "*" || e.op === "/") return provablyNonzero(e.left) && provablyNonzero(e.right);
      if (e.op === "+") return provablyPositive(e.left) && provablyPositive(e.right);
      return false;
    case "unary":
      return provablyNonzero(e.operand);
    default:
      return false;
  }
}

function provablyPositive(e: Expr): boolean {
  switch (e.kind) {
    case "number":
      return e.value > 0;
    case "call":
      return (
        NEVER_ZERO_CALLS.has(e.callee.name) ||
        e.callee.name === "square" ||
        e.callee.name === "abs" ||
        e.callee.name === "relu"
      );
    case "binary":
      if (e.op === "+" || e.op === "*" || e.op === "/") {
        // a + b > 0 needs one strictly positive side and the other non-negative; keep it simple.
        return e.op === "+"
          ? (provablyPositive(e.left) && nonNegative(e.right)) ||
              (nonNegative(e.left) && provablyPositive(e.right))
          : provablyPositive(e.left) && provablyPositive(e.right);
      }
      return false;
    default:
      return false;
  }
}

function nonNegative(e: Expr): boolean {
  if (provablyPositive(e)) return true;
  if (e.kind === "number") return e.value >= 0;
  if (e.kind === "call") return ["relu", "abs", "square", "sqrt"].includes(e.callee.name);
  return false;
}

function sourceOf(text: string, e: { span: { start: number; end: number } }): string {
  return text.slice(e.span.start, e.span.end).replace(/\s+/g, " ");
}

export function checkReversibleLayer(layer: LayerDecl, text: string, diags: DiagnosticBag): void {
  const vars = layer.args.map((a) => a.name.name);
  let updates = 0;
  for (const s of layer.body) {
    switch (s.kind) {
      case "param":
        break;
      case "update": {
        updates++;
        if (!vars.includes(s.target.name)) {
          diags.error(
            `\`${s.target.name}\` is not a variable of this reversible block (${vars.join(", ")})`,
            s.target.span,
            "a reversible layer updates its own tensor arguments",
          );
          break;
        }
        if (freeNames(s.value).has(s.target.name)) {
          diags.error(
            `\`${s.target.name}\` is updated by a statement that reads it: \`${sourceOf(text, s)}\``,
            s.span,
            "a reversible update may only read the other variables of the block",
          );
        }
        if ((s.op === "*=" || s.op === "/=") && !provablyNonzero(s.value)) {
          diags.error(
            `\`${sourceOf(text, s)}\` is not invertible: the factor could be zero`,
            s.value.span,
            `make the factor provably nonzero, e.g. ${s.target.name} ${s.op} exp(…) or ${s.target.name} ${s.op} sigmoid(…)`,
          );
        }
        break;
      }
      case "assign":
      case "let":
        diags.error(
          s.kind === "let"
            ? "a reversible layer holds only parameters and invertible updates"
            : `\`${sourceOf(text, s)}\` overwrites its target, which cannot be undone`,
          s.span,
          s.kind === "let"
            ? "compute temporaries inside the update's right side, or in a helper layer"
            : "use an invertible update: x += …, x -= …, x *= exp(…) or x /= exp(…)",
        );
        break;
      case "return":
        diags.error("a reversible layer returns its updated arguments; it has no `return`", s.span);
        break;
      default:
        diags.error(`\`${s.kind}\` cannot appear in a reversible layer`, s.span);
    }
  }
  if (updates === 0) {
    diags.error(
      `reversible layer \`${layer.name.name}\` has no update statement`,
      layer.name.span,
      "write updates such as `x2 += f(x1)`",
    );
  }
  if (layer.results.length > 0 && layer.results.length !== layer.args.length) {
    diags.error(
      `a reversible layer returns its ${layer.args.length} arguments; drop the result type or list ${layer.args.length}`,
      layer.name.span,
    );
  }
}
