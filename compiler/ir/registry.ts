// Every IR op by name. Adding an op means adding one OpDef (shape, semantics, VJP, lowering).
import type { OpDef } from "./op-def.js";
import { controlOps } from "./ops/control.js";
import { elementwiseOps } from "./ops/elementwise.js";
import { graphOps } from "./ops/graph.js";
import { layoutOps } from "./ops/layout.js";
import { matmulOp } from "./ops/matmul.js";
import { randomOps } from "./ops/random.js";
import { reduceOps } from "./ops/reduce.js";

const registry = new Map<string, OpDef>();
for (const def of [
  ...elementwiseOps,
  ...reduceOps,
  matmulOp,
  ...layoutOps,
  ...graphOps,
  ...randomOps,
  ...controlOps,
]) {
  if (registry.has(def.name)) throw new Error(`op ${def.name} is defined twice`);
  registry.set(def.name, def);
}

export function getOp(name: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new Error(`unknown IR op ${name}`);
  return def;
}

export function allOps(): OpDef[] {
  return [...registry.values()];
}
