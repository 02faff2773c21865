// The compiler pipeline: parse (with the prelude) → resolve layers and models → inline nested
// reversible layers (lower/reversible-inline.ts) and check reversible layers → lower the chosen model to IR (a training graph, with dropout, and an evaluation graph,
// without) → verify. Every stage reports into one DiagnosticBag; later stages run only when the
// earlier ones found no error.
import type { LayerDecl, ModelDecl, Program } from "../grammar/ast.js";
import { CompileError, DiagnosticBag, type Diagnostic } from "../grammar/diagnostics.js";
import { verifyGraph } from "./ir/verify.js";
import { builtinByName, LOSSES } from "./lower/builtins.js";
import { Lowerer, type LoweredModel } from "./lower/lower.js";
import { suggest } from "../grammar/spelling.js";
import { parseDecimalText } from "../grammar/numbers.js";
import { checkReversibleLayer } from "./lower/reversible-check.js";
import type { RevBodyProblem } from "./lower/reversible-body.js";
import { flattenReversible } from "./lower/reversible-inline.js";
import { loopsKeepingActivations, storedLoopDiagnostic } from "./stored-loops.js";
import { parseProgram } from "../grammar/index.js";
import { preludeText, readSourceFile } from "./source-files.js";

export const PRELUDE_FILE = "<prelude>";

let preludeCache: { text: string; program: Program } | undefined;

export function prelude(): { text: string; program: Program } {
  if (!preludeCache) {
    const text = preludeText();
    const parsed = parseProgram(text, PRELUDE_FILE);
    if (parsed.diagnostics.length) {
      throw new Error(`internal: the prelude does not parse: ${parsed.diagnostics[0]!.message}`);
    }
    preludeCache = { text, program: parsed.program };
  }
  return preludeCache;
}

export interface CompileOptions {
  /** Which model of the file (default: its only one). */
  model?: string;
  /** Hyperparameter overrides, `--set K=V`, as given on the command line. */
  set?: Record<string, string>;
  /** Exact reversibility on a fixed-point grid of 2^-bits (see LowerOptions). */
  exact?: { bits: number };
  /** Refuse, as located errors, loops whose backward would keep their activations. */
  requireReversible?: boolean;
}

export interface CompiledModel {
  name: string;
  /** With dropout. */
  train: LoweredModel;
  /** Dropout is the identity. */
  eval: LoweredModel;
  layers: ReadonlyMap<string, LayerDecl>;
  source: { file: string; text: string };
}

export interface CompileResult {
  model?: CompiledModel;
  diagnostics: Diagnostic[];
  /** Source texts by file name, for printing diagnostics. */
  sources: Map<string, string>;
}

/** Parses a hyperparameter value from the command line. */
function parseOverride(text: string): number | boolean | undefined {
  if (text === "true") return true;
  if (text === "false") return false;
  return parseDecimalText(text);
}

function resolveHypers(
  model: ModelDecl,
  set: Record<string, string>,
  diags: DiagnosticBag,
  lowerer: Lowerer,
) {
  const hypers = new Map<string, number | boolean>();
  for (const h of model.hypers) {
    if (h.default) hypers.set(h.name.name, h.default.value);
  }
  for (const [key, raw] of Object.entries(set)) {
    const decl = model.hypers.find((h) => h.name.name === key);
    if (!decl) {
      const s = suggest(
        key,
        model.hypers.map((h) => h.name.name),
      );
      diags.error(
        `--set ${key}=${raw}: model \`${model.name.name}\` has no hyperparameter \`${key}\``,
        model.name.span,
        s
          ? `did you mean \`${s}\`?`
          : `its hyperparameters are ${model.hypers.map((h) => h.name.name).join(", ") || "(none)"}`,
      );
      continue;
    }
    const v = parseOverride(raw);
    if (v === undefined) {
      diags.error(`--set ${key}=${raw}: \`${raw}\` is not a number or bool`, decl.span);
      continue;
    }
    try {
      hypers.set(key, lowerer.checkHyperType(decl.type, v, decl.span, key));
    } catch (err) {
      diags.error(`--set ${key}=${raw}: ${(err as Error).message}`, decl.span);
    }
  }
  for (const h of model.hypers) {
    if (!hypers.has(h.name.name)) {
      diags.error(
        `hyperparameter \`${h.name.name}\` has no default; set it with --set ${h.name.name}=…`,
        h.span,
      );
    }
  }
  return hypers;
}

export function compileSource(
  text: string,
  file: string,
  opts: CompileOptions = {},
): CompileResult {
  const diags = new DiagnosticBag();
  const pre = prelude();
  const sources = new Map([
    [file, text],
    [PRELUDE_FILE, pre.text],
  ]);
  const parsed = parseProgram(text, file);
  parsed.diagnostics.forEach((d) => diags.items.push(d));
  if (diags.hasErrors) return { diagnostics: diags.errorsFirstDeduplicated(), sources };

  // Resolve: the user's layers replace the prelude's of the same name.
  const layers = new Map<string, LayerDecl>();
  for (const d of pre.program.decls) if (d.kind === "layer") layers.set(d.name.name, d);
  const userLayers = new Set<string>();
  const models: ModelDecl[] = [];
  for (const d of parsed.program.decls) {
    const name = d.name.name;
    if (d.kind === "model") {
      if (models.some((m) => m.name.name === name))
        diags.error(`model \`${name}\` is defined twice`, d.name.span);
      models.push(d);
      continue;
    }
    if (builtinByName.has(name) || LOSSES.has(name)) {
      diags.error(
        `layer \`${name}\` has the name of a built-in function`,
        d.name.span,
        "choose another name",
      );
      continue;
    }
    if (userLayers.has(name)) {
      diags.error(`layer \`${name}\` is defined twice`, d.name.span);
      continue;
    }
    userLayers.add(name);
    layers.set(name, d);
  }
  // Nested reversible layers are inlined first, so that the check proves the flattened block.
  for (const d of parsed.program.decls) {
    if (d.kind !== "layer" || !d.reversible) continue;
    const problems: RevBodyProblem[] = [];
    const flat = flattenReversible(d, layers, problems);
    for (const p of problems) diags.error(p.message, p.span, p.hint);
    if (layers.get(d.name.name) === d) layers.set(d.name.name, flat);
    checkReversibleLayer(flat, text, diags, (n) => !!layers.get(n)?.reversible);
  }
  if (diags.hasErrors) return { diagnostics: diags.errorsFirstDeduplicated(), sources };

  let model: ModelDecl | undefined;
  if (opts.model) {
    model = models.find((m) => m.name.name === opts.model);
    if (!model) {
      diags.error(
        `no model \`${opts.model}\` in ${file}`,
        undefined,
        models.length
          ? `models here: ${models.map((m) => m.name.name).join(", ")}`
          : "this file defines no model",
      );
    }
  } else if (models.length === 1) {
    model = models[0];
  } else if (models.length === 0) {
    diags.error(
      `${file} defines no model`,
      undefined,
      "add `model Name(x: [N, F], y: labels[N, K]) { … loss … }`",
    );
  } else {
    diags.error(
      `${file} defines ${models.length} models; choose one with --model`,
      undefined,
      `models: ${models.map((m) => m.name.name).join(", ")}`,
    );
  }
  if (!model) return { diagnostics: diags.errorsFirstDeduplicated(), sources };

  const probe = new Lowerer(layers, diags, { training: true, exact: opts.exact });
  const hypers = resolveHypers(model, opts.set ?? {}, diags, probe);
  if (diags.hasErrors) return { diagnostics: diags.errorsFirstDeduplicated(), sources };

  const train = probe.lowerModel(model, hypers);
  if (!train || diags.hasErrors) return { diagnostics: diags.errorsFirstDeduplicated(), sources };
  const evalModel = new Lowerer(layers, new DiagnosticBag(), {
    training: false,
    exact: opts.exact,
  }).lowerModel(model, hypers);
  if (!evalModel)
    throw new Error("internal: the evaluation graph failed where the training graph lowered");
  verifyGraph(train.graph);
  verifyGraph(evalModel.graph);
  const stored = opts.requireReversible ? loopsKeepingActivations(train.graph) : [];
  if (stored.length > 0)
    return { diagnostics: stored.map((l) => storedLoopDiagnostic(l, true)), sources };
  return {
    model: { name: model.name.name, train, eval: evalModel, layers, source: { file, text } },
    diagnostics: diags.errorsFirstDeduplicated(),
    sources,
  };
}

export function compileFile(path: string, opts: CompileOptions = {}): CompileResult {
  return compileSource(readSourceFile(path), path, opts);
}

/** Throws a CompileError unless the result holds a model. */
export function expectModel(r: CompileResult): CompiledModel {
  if (!r.model) throw new CompileError(r.diagnostics, r.sources);
  return r.model;
}
