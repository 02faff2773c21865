// Proves each reversible layer invertible, statement by statement, or says why not. A statement
// `x ⊕= e` is invertible when e does not read x (so e can be recomputed after the update) and, for
// ×= and ÷=, when e can never be zero — proved from the sign facts on the IR ops' definitions
// (relu, abs and square are non-negative, not positive: `x *= relu(y) + relu(y)` is refused).
import type { Expr, LayerDecl } from "../../grammar/ast.js";
import type { DiagnosticBag } from "../../grammar/diagnostics.js";
import { getOp } from "../ir/registry.js";
import { describeSign, isNonzero, signOfNumber, type Sign } from "../ir/sign.js";
import { builtins } from "./builtins.js";
import { freeNames } from "./names.js";

const BINARY_OPCODES = { "+": "add", "-": "sub", "*": "mul", "/": "div" } as const;

/**
 * What can be proved of e's sign from the facts on the IR ops it lowers to (OpDef.sign): numbers
 * by value, elementwise built-ins and arithmetic by their ops' rules, everything else unknown.
 */
export function signOf(e: Expr): Sign {
  switch (e.kind) {
    case "number":
      return signOfNumber(e.value);
    case "call": {
      const builtin = builtins.find((b) => b.name === e.callee.name);
      const rule = builtin?.opcode ? getOp(builtin.opcode).sign : undefined;
      return rule && e.args.length === 1 && !e.args[0]!.name
        ? rule([signOf(e.args[0]!.value)])
        : "any";
    }
    case "binary": {
      if (e.op === "@") return "any";
      const rule = getOp(BINARY_OPCODES[e.op]).sign;
      return rule ? rule([signOf(e.left), signOf(e.right)]) : "any";
    }
    case "unary":
      return getOp("neg").sign?.([signOf(e.operand)]) ?? "any";
    default:
      return "any";
  }
}

/** A conservative proof that e is never zero. */
export function provablyNonzero(e: Expr): boolean {
  return isNonzero(signOf(e));
}

/**
 * The innermost sub-expression whose weak sign makes e unprovable: descends while a single operand
 * is to blame (both sides of a sum of non-negatives could be zero together, so the sum is blamed).
 */
function culprit(e: Expr): Expr {
  if (e.kind === "unary") return culprit(e.operand);
  if (e.kind === "binary" && (e.op === "*" || e.op === "/")) {
    if (!provablyNonzero(e.left)) return culprit(e.left);
    if (!provablyNonzero(e.right)) return culprit(e.right);
  }
  return e;
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
          const weak = culprit(s.value);
          diags.error(
            `\`${sourceOf(text, s)}\` is not invertible: the factor could be zero ` +
              `(\`${sourceOf(text, weak)}\` is ${describeSign(signOf(weak))})`,
            weak.span,
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
