// Calls: builtins (tensor arguments, compile-time options) and layers, which are inlined at their
// call sites with their hyperparameters bound and their argument shapes unified.
import type { Arg, CallExpr, LayerDecl, Span } from "../../grammar/ast.js";
import { suggest } from "../../grammar/spelling.js";
import { shapeEquals, shapeToString } from "../ir/dims.js";
import type { Value } from "../ir/types.js";
import type { Builtin } from "./builtin-types.js";
import { builtinByName, LOSSES } from "./builtins.js";
import { asNumber, constNumber, shaped, tensorOf } from "./coerce.js";
import type { LowerContext } from "./context.js";
import { evalTypeDims, unifyArgument, type DimScope } from "./dims.js";
import { lowerTensorArgument } from "./edge-values.js";
import { instanceName, unknownDim } from "./frame.js";
import { callReversibleLayer } from "./reversible.js";
import { LowerError, Poisoned, VarEnv, type Frame, type LVal } from "./values.js";

export function lowerCall(cx: LowerContext, e: CallExpr, f: Frame): LVal {
  const name = e.callee.name;
  if (LOSSES.has(name)) {
    throw new LowerError(`\`${name}\` is a loss; use it in the model's \`loss\` statement`, e.span);
  }
  const layer = cx.layers.get(name);
  if (layer) return callLayer(cx, layer, e.args, e, f);
  const builtin = builtinByName.get(name);
  if (builtin) return callBuiltin(cx, builtin, e, f);
  const s = suggest(name, [...cx.layers.keys(), ...builtinByName.keys()]);
  throw new LowerError(
    `unknown function \`${name}\``,
    e.callee.span,
    s ? `did you mean \`${s}\`?` : "define it with `layer " + name + "(…) { … }`",
  );
}

function callBuiltin(cx: LowerContext, bi: Builtin, e: CallExpr, f: Frame): LVal {
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
  const args = positional.slice(0, nTensors).map((a) => cx.lowerExpr(a.value, f));
  const options = new Map<string, number>();
  optionArgs.forEach((a, i) =>
    options.set(
      bi.options[i]![0],
      asNumber(constNumber(cx, a.value, f, `\`${bi.options[i]![0]}\``), a.span),
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
    options.set(a.name!.name, asNumber(constNumber(cx, a.value, f, `\`${a.name!.name}\``), a.span));
  }
  for (const [k, d] of bi.options) {
    if (!options.has(k)) {
      if (d === undefined)
        throw new LowerError(`${bi.name} needs \`${k}\`: ${bi.signature}`, e.span);
      options.set(k, d);
    }
  }
  return shaped(e.span, () =>
    bi.lower({
      b: f.scope.b,
      args,
      kwargs: new Map(),
      span: e.span,
      training: cx.opts.training,
      iteration: () => f.scope.iteration(),
      stream: () => ++cx.streamCounter,
      tensor: (i) => tensorOf(args[i]!, positional[i]!.span, `argument ${i + 1} of ${bi.name}`, f),
      number: (k) => options.get(String(k))!,
    }),
  );
}

/** Binds a layer's hyperparameters from defaults and the call's arguments. */
function bindHypers(
  cx: LowerContext,
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
    const v = constNumber(cx, a.value, f, `hyperparameter \`${name}\``);
    hypers.set(name, checkHyperType(decl.type, v, a.value.span, name));
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

export function checkHyperType(
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
    throw new LowerError(`\`${name}\` is ${type === "int" ? "an int" : "a float"}, got ${v}`, span);
  if (type === "int" && !Number.isInteger(v))
    throw new LowerError(`\`${name}\` is an int, got ${v}`, span);
  return v;
}

/**
 * Inlines a layer. `pathName` overrides the instance's name in parameter paths (the groups of a
 * coupling are `group1`, `group2`, …).
 */
export function callLayer(
  cx: LowerContext,
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
        tensorArgs.push(tensorOf(lowerTensorArgument(cx, a.value, f), a.span, "argument", f)),
      );
    positional.slice(layer.args.length).forEach((a, i) => {
      const h = layer.hypers[i];
      if (!h) throw new LowerError(`too many arguments to ${layer.name.name}`, a.span);
      if (cx.lowerExpr(a.value, f).kind !== "number") {
        throw new LowerError(
          `${layer.name.name} takes ${layer.args.length} tensor argument${layer.args.length === 1 ? "" : "s"} (${layer.args.map((x) => x.name.name).join(", ")}), got ${positional.length - i}`,
          a.span,
          `after the tensors come hyperparameters: ${layer.hypers.map((x) => x.name.name).join(", ") || "(none)"}`,
        );
      }
      extraHypers.push({ ...a, name: { name: h.name.name, span: a.span } });
    });
  }
  const hypers = bindHypers(cx, layer, [...extraHypers, ...keyword], f, call.span);
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
    path: `${f.path}${pathName ?? instanceName(f, layer.name.name)}.`,
    instanceNames: new Map(),
    isModel: false,
    callStack: [...f.callStack, layer.name.name],
  };
  if (layer.reversible) return callReversibleLayer(cx, layer, tensorArgs, inner, call.span);
  const errorsBefore = cx.diags.items.length;
  const result = cx.lowerBlock(layer.body, inner);
  if (!result) {
    if (cx.diags.items.length > errorsBefore) throw new Poisoned();
    throw new LowerError(`layer \`${layer.name.name}\` ends without \`return\``, layer.name.span);
  }
  if (result.length === 0) throw new Poisoned();
  checkResults(layer, result, inner);
  return result.length === 1 ? { kind: "tensor", v: result[0]! } : { kind: "tuple", items: result };
}

function checkResults(layer: LayerDecl, result: Value[], f: Frame): void {
  if (layer.results.length === 0) return;
  const ret = layer.body.find((s) => s.kind === "return")!;
  if (layer.results.length !== result.length) {
    throw new LowerError(
      `${layer.name.name} declares ${layer.results.length} result${layer.results.length === 1 ? "" : "s"} but returns ${result.length}`,
      ret.span,
    );
  }
  layer.results.forEach((t, i) => {
    const want = evalTypeDims(t, f, (name, e) => unknownDim(name, e.span, f));
    if (!shapeEquals(want, result[i]!.shape)) {
      throw new LowerError(
        `${layer.name.name} returns ${shapeToString(result[i]!.shape)} but declares ${shapeToString(want)}`,
        ret.span,
        "the result type after `->` must match what the layer returns",
      );
    }
  });
}
