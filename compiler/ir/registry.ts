// Every IR op by name. Adding an op means adding one OpDef (shape, semantics, VJP, lowering and
// its facts) to one of ./ops/*.ts. Importing this module defines them all in ./op-table.ts.
import { defineOps } from "./op-table.js";
import { controlOps } from "./ops/control.js";
import { elementwiseOps } from "./ops/elementwise.js";
import { graphOps } from "./ops/graph.js";
import { layoutOps } from "./ops/layout.js";
import { matmulOp } from "./ops/matmul.js";
import { poolOps } from "./ops/pool.js";
import { randomOps } from "./ops/random.js";
import { reduceOps } from "./ops/reduce.js";
import { rowwiseOps } from "./ops/rowwise.js";

defineOps([
  ...elementwiseOps,
  ...reduceOps,
  matmulOp,
  ...layoutOps,
  ...graphOps,
  ...poolOps,
  ...randomOps,
  ...rowwiseOps,
  ...controlOps,
]);

export { allOps, getOp } from "./op-table.js";
