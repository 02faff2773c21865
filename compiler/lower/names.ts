// Name analyses on the AST: the variables an expression reads, the outer variables a loop body
// assigns (its carried state).
import type { Expr, Stmt } from "../../grammar/ast.js";

/** Names an expression reads (edge endpoints and layer names included; callers filter). */
export function freeNames(e: Expr, into = new Set<string>()): Set<string> {
  switch (e.kind) {
    case "number":
      break;
    case "name":
      into.add(e.name);
      break;
    case "unary":
      freeNames(e.operand, into);
      break;
    case "binary":
      freeNames(e.left, into);
      freeNames(e.right, into);
      break;
    case "call":
      for (const a of e.args) freeNames(a.value, into);
      break;
    case "index":
    case "item":
      freeNames(e.target, into);
      break;
    case "tuple":
      for (const x of e.items) freeNames(x, into);
      break;
    case "aggregate": {
      const inner = new Set<string>();
      for (const l of e.lets) freeNames(l.value, inner);
      freeNames(e.message, inner);
      if (e.reducer.arg) freeNames(e.reducer.arg, inner);
      const bound = new Set([
        e.src.name,
        e.dst.name,
        ...e.lets.flatMap((l) => l.targets.map((t) => t.name)),
      ]);
      for (const n of inner) if (!bound.has(n)) into.add(n);
      break;
    }
    case "groups":
      freeNames(e.input, into);
      for (const c of e.conditions) freeNames(c, into);
      for (const a of e.hyperArgs) freeNames(a.value, into);
      break;
    case "fixpoint": {
      freeNames(e.init, into);
      const inner = new Set<string>();
      for (const l of e.lets) freeNames(l.value, inner);
      freeNames(e.body, inner);
      const bound = new Set([
        e.variable.name,
        ...e.lets.flatMap((l) => l.targets.map((t) => t.name)),
      ]);
      for (const n of inner) if (!bound.has(n)) into.add(n);
      break;
    }
  }
  return into;
}

/**
 * Names a block assigns that it did not declare itself and that `isOuter` knows: the state a
 * `repeat` carries from one iteration to the next. In order of first assignment.
 */
export function assignedOuterNames(stmts: Stmt[], isOuter: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (block: Stmt[], declared: Set<string>) => {
    const local = new Set(declared);
    for (const s of block) {
      if (s.kind === "let") for (const t of s.targets) local.add(t.name);
      else if (s.kind === "param") local.add(s.name.name);
      else if (s.kind === "assign" || s.kind === "update") {
        const targets = s.kind === "assign" ? s.targets.map((t) => t.name) : [s.target.name];
        for (const t of targets) if (!local.has(t) && isOuter(t) && !out.includes(t)) out.push(t);
      } else if (s.kind === "repeat") walk(s.body, local);
    }
  };
  walk(stmts, new Set());
  return out;
}
