// The table of IR ops by name, and nothing else: the builder, the autodiff transform and the
// inverse derivation look ops up here, while ./registry.ts (which imports every op module) fills
// it. Keeping the table apart from the op modules lets control ops carry VJP rules that build IR
// without the op modules and the builder importing each other (JAX's ad.py: tables, no primitives).
import type { OpDef } from "./op-def.js";

const table = new Map<string, OpDef>();

/** Adds op definitions to the table; a name defined twice is a programming error. */
export function defineOps(defs: readonly OpDef[]): void {
  for (const def of defs) {
    if (table.has(def.name)) throw new Error(`op ${def.name} is defined twice`);
    table.set(def.name, def);
  }
}

export function getOp(name: string): OpDef {
  const def = table.get(name);
  if (def) return def;
  throw new Error(
    table.size === 0
      ? `unknown IR op ${name}: no ops are defined yet (compiler/ir/registry.ts defines them; import it)`
      : `unknown IR op ${name}`,
  );
}

export function allOps(): OpDef[] {
  return [...table.values()];
}
