// Nested reversible layers: `(x1, x2) = inner(x1, x2)` inside a reversible layer's body is
// replaced, on the AST, by inner's own statements with its arguments renamed to the tensors passed
// and its temporaries and parameters given names of their own (`inner.t`, `inner_2.W`). The outer
// body is then one flat block of updates: the prover checks it whole, and inversion stays one
// mechanism (the statements undone in reverse order). Forms that cannot be inlined faithfully are
// refused with the reason: arguments that are not the block's own tensors, results assigned to
// other names, aliasing, missing hyperparameters.
import type {
  AssignStmt,
  CallExpr,
  DimExpr,
  Expr,
  Ident,
  LayerDecl,
  LetStmt,
  Span,
  Stmt,
} from "../../grammar/ast.js";
import type { RevBodyProblem } from "./reversible-body.js";

/** The layer with every call of a reversible layer in its body inlined (itself when none). */
export function flattenReversible(
  layer: LayerDecl,
  layers: ReadonlyMap<string, LayerDecl>,
  problems: RevBodyProblem[],
  stack: string[] = [],
): LayerDecl {
  const nestedCall = (s: Stmt): LayerDecl | undefined => {
    if (s.kind !== "assign" || s.value.kind !== "call") return undefined;
    const inner = layers.get(s.value.callee.name);
    return inner?.reversible ? inner : undefined;
  };
  if (!layer.body.some(nestedCall)) return layer;
  const body: Stmt[] = [];
  const instances = new Map<string, number>();
  for (const s of layer.body) {
    const inner = nestedCall(s);
    if (!inner) {
      body.push(s);
      continue;
    }
    const call = (s as AssignStmt).value as CallExpr;
    if ([...stack, layer.name.name].includes(inner.name.name)) {
      problems.push({
        message: `reversible layer \`${inner.name.name}\` calls itself (through ${[...stack, layer.name.name].join(" → ")})`,
        span: call.callee.span,
      });
      continue;
    }
    const flat = flattenReversible(inner, layers, problems, [...stack, layer.name.name]);
    const n = (instances.get(inner.name.name) ?? 0) + 1;
    instances.set(inner.name.name, n);
    const instance = n === 1 ? inner.name.name : `${inner.name.name}_${n}`;
    body.push(...inlineCall(layer, s as AssignStmt, call, flat, instance, problems));
  }
  return { ...layer, body };
}

/** inner's statements in place of `targets = inner(args)`, or none (with a problem) if refused. */
function inlineCall(
  outer: LayerDecl,
  stmt: AssignStmt,
  call: CallExpr,
  inner: LayerDecl,
  instance: string,
  problems: RevBodyProblem[],
): Stmt[] {
  const name = inner.name.name;
  const refuse = (message: string, span: Span, hint?: string): Stmt[] => {
    problems.push({ message, span, hint });
    return [];
  };
  const positional = call.args.filter((a) => !a.name);
  if (positional.length !== inner.args.length) {
    return refuse(
      `\`${name}\` takes ${inner.args.length} tensor argument${inner.args.length === 1 ? "" : "s"}, got ${positional.length}`,
      call.span,
    );
  }
  // Its arguments are renamed to the outer block's tensors passed for them.
  const rename = new Map<string, Expr>();
  const passed: string[] = [];
  for (const [i, a] of positional.entries()) {
    const v = a.value;
    if (v.kind !== "name" || !outer.args.some((o) => o.name.name === v.name)) {
      return refuse(
        `a nested reversible layer takes the block's own tensors: \`${name}\`'s statements are inlined here, so each argument must be one of ${outer.args.map((o) => `\`${o.name.name}\``).join(", ")}`,
        a.span,
        `pass one of ${outer.name.name}'s tensors and compute the expression inside ${name}`,
      );
    }
    const actual = v.name;
    if (passed.includes(actual)) {
      return refuse(
        `\`${actual}\` is passed to \`${name}\` twice: its updates would write one tensor through two names`,
        a.span,
      );
    }
    passed.push(actual);
    rename.set(inner.args[i]!.name.name, { kind: "name", name: actual, span: v.span });
  }
  // Hyperparameters: the call's keyword arguments, else the defaults.
  for (const a of call.args.filter((x) => x.name)) {
    if (!inner.hypers.some((h) => h.name.name === a.name!.name)) {
      return refuse(`\`${name}\` has no hyperparameter \`${a.name!.name}\``, a.name!.span);
    }
  }
  for (const h of inner.hypers) {
    const given = call.args.find((a) => a.name?.name === h.name.name);
    if (given) rename.set(h.name.name, given.value);
    else if (h.default?.kind === "lit_number") {
      const d = h.default;
      rename.set(h.name.name, { kind: "number", value: d.value, text: d.text, span: d.span });
    } else {
      return refuse(
        `\`${name}\`'s hyperparameter \`${h.name.name}\` needs a value here`,
        call.span,
        `pass it: ${name}(…, ${h.name.name} = …)`,
      );
    }
  }
  // Its results are the arguments it updates, in argument order: they go back where they came from.
  const written = new Set(inner.body.flatMap((s) => (s.kind === "update" ? [s.target.name] : [])));
  const returned = inner.args.flatMap((a, i) => (written.has(a.name.name) ? [passed[i]!] : []));
  const targets = stmt.targets.map((t) => t.name);
  if (targets.join(",") !== returned.join(",")) {
    return refuse(
      `\`${name}\` updates ${returned.map((r) => `\`${r}\``).join(", ")} in place; assign its results back to them`,
      stmt.span,
      `write ${returned.length === 1 ? returned[0] : `(${returned.join(", ")})`} = ${name}(${passed.join(", ")}${call.args.some((a) => a.name) ? ", …" : ""})`,
    );
  }
  // The sizes its argument types bind, as the outer layer's sizes (parameter shapes, values).
  const dims = new Map<string, Expr>();
  inner.args.forEach((_, i) => bindDims(inner, i, outer, passed[i]!, dims));
  for (const [k, v] of dims) if (!rename.has(k)) rename.set(k, v);
  // Its own temporaries and parameters get names that cannot meet the outer layer's.
  const own = (id: Ident): Ident => ({ ...id, name: `${instance}.${id.name}` });
  for (const s of inner.body) {
    if (s.kind === "let")
      for (const t of s.targets)
        rename.set(t.name, { kind: "name", name: own(t).name, span: t.span });
    if (s.kind === "param")
      rename.set(s.name.name, { kind: "name", name: own(s.name).name, span: s.name.span });
  }
  return inner.body.map((s): Stmt => {
    switch (s.kind) {
      case "param":
        return {
          ...s,
          name: own(s.name),
          type: { ...s.type, dims: s.type.dims.map((d) => dimIn(d, dims)) },
        };
      case "let":
        return { ...s, targets: s.targets.map(own), value: substitute(s.value, rename) };
      case "update": {
        const target = rename.get(s.target.name);
        return {
          ...s,
          target: target?.kind === "name" ? { ...s.target, name: target.name } : s.target,
          value: substitute(s.value, rename),
        };
      }
      default:
        return s;
    }
  });
}

/**
 * Size names inner's argument i binds (`d` in `x1: [N, d]`) read as values in its body stand for
 * the outer argument's sizes at the same places.
 */
function bindDims(
  inner: LayerDecl,
  i: number,
  outer: LayerDecl,
  actual: string,
  rename: Map<string, Expr>,
): void {
  const innerDims = inner.args[i]!.type.dims;
  const outerDims = outer.args.find((o) => o.name.name === actual)!.type.dims;
  innerDims.forEach((d, j) => {
    const o = outerDims[j];
    if (d.kind !== "dim_name" || !o || rename.has(d.name)) return;
    if (o.kind === "dim_name") rename.set(d.name, { kind: "name", name: o.name, span: o.span });
    if (o.kind === "dim_int")
      rename.set(d.name, { kind: "number", value: o.value, text: `${o.value}`, span: o.span });
  });
}

/** A dimension of inner's with its size names as the outer layer's. */
function dimIn(d: DimExpr, dims: ReadonlyMap<string, Expr>): DimExpr {
  if (d.kind === "dim_int") return d;
  if (d.kind === "dim_bin") return { ...d, left: dimIn(d.left, dims), right: dimIn(d.right, dims) };
  const r = dims.get(d.name);
  if (r?.kind === "name") return { ...d, name: r.name };
  if (r?.kind === "number") return { kind: "dim_int", value: r.value, span: d.span };
  return d;
}

/** e with its free names replaced (names bound inside aggregates and fixpoints are left alone). */
function substitute(e: Expr, map: ReadonlyMap<string, Expr>): Expr {
  const sub = (x: Expr) => substitute(x, map);
  const without = (names: string[]) => {
    const m = new Map(map);
    for (const n of names) m.delete(n);
    return m;
  };
  const subLets = (lets: LetStmt[], m: ReadonlyMap<string, Expr>): LetStmt[] =>
    lets.map((l) => ({ ...l, value: substitute(l.value, m) }));
  switch (e.kind) {
    case "number":
      return e;
    case "name": {
      const r = map.get(e.name);
      return r ? (r.kind === "name" ? { ...r, span: e.span } : r) : e;
    }
    case "unary":
      return { ...e, operand: sub(e.operand) };
    case "binary":
      return { ...e, left: sub(e.left), right: sub(e.right) };
    case "call":
      return { ...e, args: e.args.map((a) => ({ ...a, value: sub(a.value) })) };
    case "index":
    case "item":
      return { ...e, target: sub(e.target) } as Expr;
    case "tuple":
      return { ...e, items: e.items.map(sub) };
    case "aggregate": {
      const m = without([
        e.src.name,
        e.dst.name,
        ...e.lets.flatMap((l) => l.targets.map((t) => t.name)),
      ]);
      return {
        ...e,
        lets: subLets(e.lets, m),
        message: substitute(e.message, m),
        reducer: e.reducer.arg ? { ...e.reducer, arg: substitute(e.reducer.arg, m) } : e.reducer,
      };
    }
    case "groups":
      return {
        ...e,
        input: sub(e.input),
        hyperArgs: e.hyperArgs.map((a) => ({ ...a, value: sub(a.value) })),
      };
    case "fixpoint": {
      const m = without([e.variable.name, ...e.lets.flatMap((l) => l.targets.map((t) => t.name))]);
      return {
        ...e,
        init: sub(e.init),
        options: e.options.map((a) => ({ ...a, value: sub(a.value) })),
        lets: subLets(e.lets, m),
        body: substitute(e.body, m),
      };
    }
  }
}
