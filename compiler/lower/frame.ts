// Name lookups in a frame: reading a variable, the names a spelling hint may suggest, unknown
// dimensions, and the numbering of a layer's instances in parameter paths.
import type { Ident, Span } from "../../grammar/ast.js";
import { suggest } from "../../grammar/spelling.js";
import type { Value } from "../ir/types.js";
import { LowerError, Poisoned, VarEnv, type Frame, type VarBinding } from "./values.js";

export function visibleNames(f: Frame): string[] {
  const names: string[] = [...f.hypers.keys()];
  let env: VarEnv | undefined = f.vars;
  while (env) {
    names.push(...(env as unknown as { vars: Map<string, unknown> }).vars.keys());
    env = env.parent;
  }
  return names;
}

export function readVar(id: Ident, f: Frame): Value {
  const b = f.vars.lookup(id.name);
  if (!b) {
    const s = suggest(id.name, visibleNames(f));
    throw new LowerError(
      `\`${id.name}\` is not defined`,
      id.span,
      s ? `did you mean \`${s}\`?` : undefined,
    );
  }
  if (b.value === "poison") throw new Poisoned();
  if (Array.isArray(b.value))
    throw new LowerError(`\`${id.name}\` is a tuple, not a tensor`, id.span);
  refuseReadAfterUpdate(b, id.name, id.span);
  return f.scope.import(b.value);
}

/**
 * A state's update is written after the step, so a read after it in the same body would see the
 * value before the step while looking like the new one: refused.
 */
export function refuseReadAfterUpdate(b: VarBinding, name: string, span: Span): void {
  const updated = b.state?.updatedAt;
  if (!updated) return;
  throw new LowerError(
    `state \`${name}\` is read after its update (line ${updated.line})`,
    span,
    `the update takes effect after the training step: read \`${name}\` before \`${name} = …\` (its value before the step), or name the new value with a \`let\``,
  );
}

export function unknownDim(name: string, span: Span, f: Frame): never {
  const known = [...f.hypers.keys(), ...f.dims.keys(), "N", "E"];
  const s = suggest(name, known);
  throw new LowerError(
    `unknown dimension \`${name}\``,
    span,
    s ? `did you mean \`${s}\`?` : undefined,
  );
}

export function instanceName(f: Frame, base: string): string {
  const n = (f.instanceNames.get(base) ?? 0) + 1;
  f.instanceNames.set(base, n);
  return n === 1 ? base : `${base}_${n}`;
}
