// Proves each reversible layer invertible, statement by statement, or says why not. A statement
// `x ⊕= e` is invertible when e does not read x, directly or through a `let` temporary (so e can
// be recomputed after the update) and, for ×= and ÷=, when e can never be zero — proved from the
// sign facts on the IR ops' definitions (relu, abs and square are non-negative, not positive:
// `x *= relu(y) + relu(y)` is refused), through temporaries to their definitions, and from the
// values of hyperparameters (a default here; the lowering proves the value a call binds again).
import type { Expr, LayerDecl } from "../../grammar/ast.js";
import type { DiagnosticBag } from "../../grammar/diagnostics.js";
import { getOp } from "../ir/registry.js";
import { describeSign, isNonzero, signOfNumber, type Sign } from "../ir/sign.js";
import { builtins } from "./builtins.js";
import { freeNames } from "./names.js";
import { planReversibleBody } from "./reversible-body.js";

const BINARY_OPCODES = { "+": "add", "-": "sub", "*": "mul", "/": "div" } as const;

/**
 * What a name stands for in a sign proof: a temporary's defining expression, or a known number
 * (a hyperparameter's value).
 */
export type SignEnv = (name: string) => Expr | number | undefined;

const noNames: SignEnv = () => undefined;

/**
 * What can be proved of e's sign from the facts on the IR ops it lowers to (OpDef.sign): numbers
 * by value, names through env, elementwise built-ins and arithmetic by their ops' rules,
 * everything else unknown.
 */
export function signOf(e: Expr, env: SignEnv = noNames): Sign {
  switch (e.kind) {
    case "number":
      return signOfNumber(e.value);
    case "name": {
      const v = env(e.name);
      return v === undefined ? "any" : typeof v === "number" ? signOfNumber(v) : signOf(v, env);
    }
    case "call": {
      const builtin = builtins.find((b) => b.name === e.callee.name);
      const rule = builtin?.opcode ? getOp(builtin.opcode).sign : undefined;
      return rule && e.args.length === 1 && !e.args[0]!.name
        ? rule([signOf(e.args[0]!.value, env)])
        : "any";
    }
    case "binary": {
      if (e.op === "@") return "any";
      const rule = getOp(BINARY_OPCODES[e.op]).sign;
      return rule ? rule([signOf(e.left, env), signOf(e.right, env)]) : "any";
    }
    case "unary":
      return getOp("neg").sign?.([signOf(e.operand, env)]) ?? "any";
    default:
      return "any";
  }
}

/** A conservative proof that e is never zero. */
export function provablyNonzero(e: Expr, env: SignEnv = noNames): boolean {
  return isNonzero(signOf(e, env));
}

/**
 * The innermost sub-expression whose weak sign makes e unprovable: descends while a single operand
 * is to blame (both sides of a sum of non-negatives could be zero together, so the sum is blamed),
 * and into a temporary's definition.
 */
export function culprit(e: Expr, env: SignEnv = noNames): Expr {
  if (e.kind === "unary") return culprit(e.operand, env);
  if (e.kind === "binary" && (e.op === "*" || e.op === "/")) {
    if (!provablyNonzero(e.left, env)) return culprit(e.left, env);
    if (!provablyNonzero(e.right, env)) return culprit(e.right, env);
  }
  if (e.kind === "name") {
    const v = env(e.name);
    if (v !== undefined && typeof v !== "number") return culprit(v, env);
  }
  return e;
}

/** Why a factor's culprit could be zero, in words (a hyperparameter or name gets its own). */
export function whyMaybeZero(weak: Expr, env: SignEnv, source: string): string {
  if (weak.kind === "name") {
    const v = env(weak.name);
    if (typeof v === "number") return `\`${weak.name}\` is ${v}`;
    if (v === undefined) return `\`${weak.name}\` is of unknown sign`;
  }
  return `\`${source}\` is ${describeSign(signOf(weak, env))}`;
}

function sourceOf(text: string, e: { span: { start: number; end: number } }): string {
  return text.slice(e.span.start, e.span.end).replace(/\s+/g, " ");
}

export function checkReversibleLayer(
  layer: LayerDecl,
  text: string,
  diags: DiagnosticBag,
  /** Whether a name is a reversible layer (for the message on nesting one in another). */
  isReversible: (name: string) => boolean = () => false,
): void {
  const vars = layer.args.map((a) => a.name.name);
  const plan = planReversibleBody(layer);
  for (const p of plan.problems) diags.error(p.message, p.span, p.hint);
  // A hyperparameter's default stands for it here; a call that binds another value is proved
  // again when it is lowered.
  const defaults = new Map(
    layer.hypers.flatMap((h) =>
      h.default?.kind === "lit_number" ? [[h.name.name, h.default.value] as const] : [],
    ),
  );
  const env: SignEnv = (n) => plan.letValues.get(n) ?? defaults.get(n);
  const readsThroughLets = (e: Expr, name: string): boolean => {
    const seen = new Set<string>();
    const visit = (x: Expr): boolean =>
      [...freeNames(x)].some((n) => {
        if (n === name) return true;
        const def = plan.letValues.get(n);
        if (!def || seen.has(n)) return false;
        seen.add(n);
        return visit(def);
      });
    return visit(e);
  };
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
        if (readsThroughLets(s.value, s.target.name)) {
          diags.error(
            `\`${s.target.name}\` is updated by a statement that reads it: \`${sourceOf(text, s)}\``,
            s.span,
            "a reversible update may only read the other variables of the block",
          );
        }
        const weak = culprit(s.value, env);
        // A hyperparameter without a default is proved where a call binds it (in the lowering).
        const bound = weak.kind === "name" && layer.hypers.some((h) => h.name.name === weak.name);
        if ((s.op === "*=" || s.op === "/=") && !provablyNonzero(s.value, env) && !bound) {
          diags.error(
            `\`${sourceOf(text, s)}\` is not invertible: the factor could be zero ` +
              `(${whyMaybeZero(weak, env, sourceOf(text, weak))})`,
            weak.span,
            `make the factor provably nonzero, e.g. ${s.target.name} ${s.op} exp(…) or ${s.target.name} ${s.op} sigmoid(…)`,
          );
        }
        break;
      }
      case "let":
        if (s.mutable) {
          diags.error(
            "a reversible layer's temporaries are `let`s: a `var` would be overwritten",
            s.span,
            "write `let` (a temporary is computed, used by the updates after it, and dropped)",
          );
        }
        for (const t of s.targets) {
          if (vars.includes(t.name)) {
            diags.error(
              `\`${t.name}\` is a variable of this reversible block; a temporary needs its own name`,
              t.span,
            );
          }
        }
        break;
      case "assign":
        if (s.value.kind === "call" && isReversible(s.value.callee.name)) {
          diags.error(
            `a reversible layer cannot call another one (\`${s.value.callee.name}\`) in its body yet`,
            s.value.callee.span,
            `copy ${s.value.callee.name}'s updates here, or call both layers one after the other where they are used`,
          );
          break;
        }
        diags.error(
          `\`${sourceOf(text, s)}\` overwrites its target, which cannot be undone`,
          s.span,
          "use an invertible update: x += …, x -= …, x *= exp(…) or x /= exp(…)",
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
  const n = plan.variables.length;
  if (layer.results.length > 0 && layer.results.length !== n) {
    diags.error(
      `a reversible layer returns the ${n} argument${n === 1 ? "" : "s"} it updates; drop the result type or list ${n}`,
      layer.name.span,
    );
  }
}
