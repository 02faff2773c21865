// The structure of a reversible layer's body, worked out on the AST before any lowering: which
// arguments are the block's variables (those some update writes) and which are conditioning
// inputs (read only, FrEIA-style: they are not returned), and how `let` temporaries group the
// updates. A `let` is computed and dropped: the updates that use it form one compound statement
// whose function computes the temporary once and all of their values together, so the inverse
// and the backward recompute it once too. That is sound when the temporary means the same thing
// wherever it is evaluated inside the statement — no update of the group writes a variable the
// group reads, and no update between the `let` and its last use writes what the `let` reads.
import type { Expr, LayerDecl, LetStmt, Span, Stmt, UpdateStmt } from "../../grammar/ast.js";
import { freeNames } from "./names.js";

export interface RevGroup {
  /** The updates, in body order (consecutive among the body's updates). */
  updates: UpdateStmt[];
  /** The temporaries they use, in body order. */
  lets: LetStmt[];
  /** Variables (argument indices, not conditioning inputs) the group reads, directly or
   *  through its temporaries. */
  reads: number[];
}

export interface RevBodyProblem {
  message: string;
  span: Span;
  hint?: string;
}

export interface RevBodyPlan {
  /** Indices of the arguments some update writes: the block's variables, in argument order. */
  variables: number[];
  /** Indices of the arguments no update writes: read-only conditioning inputs. */
  conditions: number[];
  groups: RevGroup[];
  /** The expression a temporary's name stands for (single-name lets only), for sign proofs. */
  letValues: Map<string, Expr>;
  problems: RevBodyProblem[];
}

export function planReversibleBody(layer: LayerDecl): RevBodyPlan {
  const argNames = layer.args.map((a) => a.name.name);
  const updates = layer.body.filter((s): s is UpdateStmt => s.kind === "update");
  const lets = layer.body.filter((s): s is LetStmt => s.kind === "let");
  const written = new Set(updates.map((u) => u.target.name));
  const variables = argNames.flatMap((n, i) => (written.has(n) ? [i] : []));
  const conditions = argNames.flatMap((n, i) => (written.has(n) ? [] : [i]));
  const problems: RevBodyProblem[] = [];
  // Statement order is the body's, not the source's: an inlined nested layer's statements keep
  // their own spans (reversible-inline.ts).
  const position = new Map<Stmt, number>(layer.body.map((s, i) => [s, i]));
  const at = (s: Stmt) => position.get(s)!;

  // Each temporary's name → its let, and the arguments and temporaries it reads (transitively).
  const letOf = new Map<string, LetStmt>();
  const letValues = new Map<string, Expr>();
  const letArgs = new Map<LetStmt, Set<string>>();
  const letDeps = new Map<LetStmt, Set<LetStmt>>();
  const closure = (e: Expr): { args: Set<string>; deps: Set<LetStmt> } => {
    const args = new Set<string>();
    const deps = new Set<LetStmt>();
    for (const n of freeNames(e)) {
      const l = letOf.get(n);
      if (l) {
        deps.add(l);
        for (const d of letDeps.get(l)!) deps.add(d);
        for (const a of letArgs.get(l)!) args.add(a);
      } else if (argNames.includes(n)) {
        args.add(n);
      }
    }
    return { args, deps };
  };
  for (const l of lets) {
    const c = closure(l.value);
    letArgs.set(l, c.args);
    letDeps.set(l, c.deps);
    for (const t of l.targets) letOf.set(t.name, l);
    if (!l.tuple) letValues.set(l.targets[0]!.name, l.value);
  }

  // Union the updates that share a temporary.
  const usesOf = updates.map((u) => closure(u.value));
  usesOf.forEach((c, i) => {
    const later = [...c.deps].find((l) => at(l) > at(updates[i]!));
    if (later) {
      problems.push({
        message: `\`${later.targets.map((t) => t.name).join(", ")}\` is used before its \`let\``,
        span: updates[i]!.span,
        hint: "define a temporary before the updates that read it",
      });
    }
  });
  const parent = updates.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const firstUser = new Map<LetStmt, number>();
  usesOf.forEach((c, i) => {
    for (const l of c.deps) {
      const j = firstUser.get(l);
      if (j === undefined) firstUser.set(l, i);
      else parent[find(i)] = find(j);
    }
  });

  const groups: RevGroup[] = [];
  // Reported only when no stale temporary explains the same program better (below).
  const split: RevBodyProblem[] = [];
  const groupOf = new Map<number, RevGroup>();
  updates.forEach((u, i) => {
    const root = find(i);
    let g = groupOf.get(root);
    const last = groups[groups.length - 1];
    if (g && g !== last) {
      split.push({
        message: `\`${u.target.name} ${u.op} …\` shares a temporary with an update before \`${last!.updates[0]!.target.name} ${last!.updates[0]!.op} …\`, which comes between them`,
        span: u.span,
        hint: "the updates that use a `let` must follow one another; move them together",
      });
    }
    if (!g) {
      g = { updates: [], lets: [], reads: [] };
      groupOf.set(root, g);
      groups.push(g);
    }
    g.updates.push(u);
    const lets = new Set([...g.lets, ...usesOf[i]!.deps]);
    g.lets = layer.body.filter((s): s is LetStmt => s.kind === "let" && lets.has(s));
    for (const a of usesOf[i]!.args) {
      const k = argNames.indexOf(a);
      if (!g.reads.includes(k)) g.reads.push(k);
    }
  });
  // Conditioning inputs are captured like weights, not read as variables.
  for (const g of groups)
    g.reads = g.reads.filter((k) => written.has(argNames[k]!)).sort((a, b) => a - b);

  // Within a group: no update reads what another one writes (its own target is the checker's
  // "reads itself" error).
  for (const g of groups) {
    for (const u of g.updates) {
      const other = g.updates.find(
        (w) => w.target.name !== u.target.name && g.reads.includes(argNames.indexOf(w.target.name)),
      );
      if (other && usesOf[updates.indexOf(u)]!.args.has(other.target.name)) {
        problems.push({
          message: `\`${u.target.name} ${u.op} …\` reads \`${other.target.name}\`, which \`${other.target.name} ${other.op} …\` changes, and both use the same temporary`,
          span: u.span,
          hint: "updates that share a `let` are evaluated together; read only variables none of them writes",
        });
      }
    }
  }

  // A temporary's inputs must not change between the `let` and its last use.
  for (const l of lets) {
    const users = updates.filter((_, i) => usesOf[i]!.deps.has(l));
    if (users.length === 0) continue;
    const lastUse = users[users.length - 1]!;
    const between = updates.filter((u) => at(u) > at(l) && at(u) < at(lastUse));
    const clash = between.find((u) => letArgs.get(l)!.has(u.target.name));
    if (clash) {
      problems.push({
        message: `\`${clash.target.name} ${clash.op} …\` changes \`${clash.target.name}\`, which \`let ${l.targets.map((t) => t.name).join(", ")}\` reads, before its last use`,
        span: clash.span,
        hint: "compute the temporary after this update, or read the variable directly",
      });
    }
  }
  if (!problems.some((p) => p.message.includes("before its last use"))) problems.push(...split);
  return { variables, conditions, groups, letValues, problems };
}
