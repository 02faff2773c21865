// A readable text form of the IR, for `revgnn compile --emit ir` and golden tests:
//
//   graph @forward(%1: [N, F], %2: [F, 128]) {
//     %3 = matmul(%1, %2) : [N, 128]
//     %7 = scan(%3, %5, %6) {count = 28, numCarry = 1, numXs = 2} : [N, 128] {
//       body(%8: [N, 128], %9: [64, 64], …) { … yield %12 }
//     }
//     return %7
//   }
// Value numbers are assigned in order of appearance, so the text is deterministic.
import { shapeToString } from "./dims.js";
import type { AttrValue, Attrs, Graph, Value } from "./types.js";

function attrToString(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.map((x) => attrToString(x as AttrValue)).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${attrToString(x)}`)
      .join(", ")}}`;
  }
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

function attrsToString(a: Attrs): string {
  const entries = Object.entries(a);
  if (entries.length === 0) return "";
  return ` {${entries.map(([k, v]) => `${k} = ${attrToString(v)}`).join(", ")}}`;
}

export function printGraph(g: Graph): string {
  const names = new Map<Value, string>();
  let counter = 0;
  const name = (v: Value): string => {
    let n = names.get(v);
    if (!n) {
      n = `%${++counter}${v.hint ? `.${v.hint.replace(/[^A-Za-z0-9_]/g, "_")}` : ""}`;
      names.set(v, n);
    }
    return n;
  };
  const lines: string[] = [];
  const emitGraph = (graph: Graph, indent: string, keyword: string) => {
    const params = graph.inputs.map((v) => `${name(v)}: ${shapeToString(v.shape)}`).join(", ");
    lines.push(`${indent}${keyword} @${graph.name}(${params}) {`);
    for (const op of graph.ops) {
      const outs = op.outputs.map(name).join(", ");
      const ins = op.inputs.map(name).join(", ");
      const types = op.outputs.map((v) => shapeToString(v.shape)).join(", ");
      const head = `${indent}  ${outs} = ${op.opcode}(${ins})${attrsToString(op.attrs)} : ${types}`;
      if (op.regions.length === 0) {
        lines.push(head);
      } else {
        lines.push(`${head} {`);
        for (const r of op.regions) emitGraph(r, indent + "    ", "region");
        lines.push(`${indent}  }`);
      }
    }
    lines.push(`${indent}  return ${graph.outputs.map(name).join(", ")}`);
    lines.push(`${indent}}`);
  };
  emitGraph(g, "", "graph");
  return lines.join("\n") + "\n";
}

/** Op counts by opcode, recursively (for reports and tests). */
export function countOps(g: Graph, into = new Map<string, number>()): Map<string, number> {
  for (const op of g.ops) {
    into.set(op.opcode, (into.get(op.opcode) ?? 0) + 1);
    for (const r of op.regions) countOps(r, into);
  }
  return into;
}
