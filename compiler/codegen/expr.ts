// Emits the WGSL that computes one value at one element, inlining its elementwise producers (and
// gathers, which read a node at an edge endpoint) and reading materialised values from their
// buffers. This is how gather → edge expression → aggregate becomes one kernel with no [E, d]
// tensor in memory, and how a chain of elementwise ops becomes one pass.
//
// Each emitted subexpression becomes a `let`, memoised by (value, coordinate), placed in the
// outermost block where all it reads is available: in a graph kernel, what depends only on the
// destination node is computed once per node, not once per edge.
import { dimEquals } from "../ir/dims.js";
import type { ElementwiseEmitContext } from "../ir/op-def.js";
import { getOp } from "../ir/registry.js";
import type { Dim, Op, Value } from "../ir/types.js";
import { f32Literal, type KernelBuilder } from "./kernel-builder.js";

/** Where a row coordinate comes from: a plain index, or an edge with its two endpoints. */
export type RowRef =
  | { kind: "index"; expr: string; level: number }
  | {
      kind: "edge";
      src: string;
      dst: string;
      id: string;
      level: number;
      srcLevel: number;
      dstLevel: number;
    };

/** An element: a row (for rank ≥ 2), a column (for rank ≥ 1), or a flat index for equal shapes. */
export interface Coord {
  row?: RowRef;
  col?: string;
  colLevel: number;
  flat?: string;
  /**
   * The values `col` takes, [lo, hi), when the kernel knows them statically (a row loop split
   * at the pieces of a concatenation): layout ops then read the one piece the range lies in
   * instead of selecting between all of them per element.
   */
  range?: readonly [number, number];
}

export interface Sink {
  lines: string[];
  indent: string;
}

export class ExprEmitter {
  private readonly memo = new Map<string, { name: string; level: number }>();
  private counter = 0;

  constructor(
    private readonly kb: KernelBuilder,
    /** Values read from buffers rather than recomputed. */
    private readonly isMaterialised: (v: Value) => boolean,
    private readonly producer: ReadonlyMap<Value, Op>,
    /** Blocks by nesting level: 0 = per invocation, 1 = inside the first loop, … */
    private readonly sinks: Sink[],
    /** Distinguishes the temporaries of several emitters sharing one kernel body. */
    private readonly prefix = "",
  ) {}

  private bind(expr: string, level: number, hint: string): { name: string; level: number } {
    const name = `${this.prefix}${hint}${this.counter++}`;
    const sink = this.sinks[level]!;
    sink.lines.push(`${sink.indent}let ${name} = ${expr};`);
    return { name, level };
  }

  private coordKey(c: Coord): string {
    const r = c.row
      ? c.row.kind === "index"
        ? `i${c.row.expr}`
        : `e${c.row.src}|${c.row.dst}|${c.row.id}`
      : "";
    return `${r};${c.col ?? ""};${c.flat ?? ""};${c.range?.join("-") ?? ""}`;
  }

  /** The linear element index of a materialised value at a coordinate. */
  private linear(v: Value, c: Coord): { expr: string; level: number } {
    const s = v.shape;
    if (c.flat !== undefined) return { expr: c.flat, level: c.colLevel };
    if (s.length === 0) return { expr: "0u", level: 0 };
    if (s.length === 1) return { expr: c.col!, level: c.colLevel };
    const row = c.row!;
    const rowExpr = row.kind === "index" ? row.expr : row.id;
    const cols = s[s.length - 1]!;
    if (cols === 1) return { expr: rowExpr, level: row.level };
    return {
      expr: `${rowExpr} * ${this.kb.dim(cols)} + ${c.col}`,
      level: Math.max(row.level, c.colLevel),
    };
  }

  /** A WGSL f32 expression (usually a let name) for v at c. */
  at(v: Value, c: Coord): string {
    return this.emit(v, c).name;
  }

  private emit(v: Value, c: Coord): { name: string; level: number } {
    const key = `${v.id}@${this.coordKey(c)}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    let result: { name: string; level: number };
    if (this.isMaterialised(v)) {
      const buf = this.kb.value(v, "read");
      const lin = this.linear(v, c);
      this.kb.noteRead(v, lin.expr);
      result = this.bind(`${buf}[${this.kb.offset(v)} + ${lin.expr}]`, lin.level, "rd");
    } else {
      const op = this.producer.get(v);
      if (!op) throw new Error(`codegen: value %${v.id} has neither a buffer nor a producer`);
      result = this.emitOp(op, v, c);
    }
    this.memo.set(key, result);
    return result;
  }

  /** Coordinates of an operand of shape `s` read by an op whose result has shape `out`. */
  private broadcast(s: readonly Dim[], out: readonly Dim[], c: Coord): Coord {
    if (c.flat !== undefined) {
      if (s.length === out.length && s.every((d, i) => dimEquals(d, out[i]!))) return c;
      if (s.length === 0) return { colLevel: 0 };
      throw new Error("codegen: broadcasting over a flat index");
    }
    if (s.length === 0) return { colLevel: 0 };
    const colBroadcast = s[s.length - 1] === 1 && out[out.length - 1] !== 1;
    const col = colBroadcast ? "0u" : c.col;
    const colLevel = colBroadcast ? 0 : c.colLevel;
    const range = colBroadcast ? undefined : c.range;
    if (s.length === 1) return { col, colLevel, ...(range ? { range } : {}) };
    const rowBroadcast = s[0] === 1 && out[0] !== 1;
    return {
      row: rowBroadcast ? { kind: "index", expr: "0u", level: 0 } : c.row,
      col,
      colLevel,
      ...(range ? { range } : {}),
    };
  }

  private emitOp(op: Op, v: Value, c: Coord): { name: string; level: number } {
    const def = getOp(op.opcode);
    this.kb.implements.push(op.opcode);
    if (def.lowering.kind === "gather" && def.lowering.at === "graph") {
      // unpool: the node's graph row in a batch (over=nodes: the one row).
      const row = c.row;
      if (!row || row.kind !== "index") throw new Error("codegen: unpool outside a node row");
      const graphRow =
        op.attrs.over === "nodes"
          ? { expr: "0u", level: 0 }
          : { expr: `${this.kb.graph("graph_id")}[${row.expr}]`, level: row.level };
      return this.emit(op.inputs[0]!, {
        row: { kind: "index", ...graphRow },
        col: c.col,
        colLevel: c.colLevel,
        ...(c.range ? { range: c.range } : {}),
      });
    }
    if (def.lowering.kind === "gather") {
      const row = c.row;
      if (!row || row.kind !== "edge") throw new Error("codegen: gather outside an edge context");
      const side = op.attrs.side as "src" | "dst";
      const node = side === "src" ? row.src : row.dst;
      const level = side === "src" ? row.srcLevel : row.dstLevel;
      return this.emit(op.inputs[0]!, {
        row: { kind: "index", expr: node, level },
        col: c.col,
        colLevel: c.colLevel,
        ...(c.range ? { range: c.range } : {}),
      });
    }
    if (def.lowering.kind !== "elementwise") {
      throw new Error(`codegen: ${op.opcode} cannot be inlined`);
    }
    let level = 0;
    // The operands at this element, emitted only when the lowering reads them: a layout op reads
    // its operand at other columns (readColumn, readAt), where the current column may be out of
    // range of a narrower operand (repeat_cols, pad_cols).
    let args: string[] | undefined;
    const argsHere = (): string[] =>
      (args ??= op.inputs.map((x) => {
        const a = this.emit(x, this.broadcast(x.shape, v.shape, c));
        level = Math.max(level, a.level);
        return a.name;
      }));
    const rowExpr = c.row ? (c.row.kind === "index" ? c.row.expr : c.row.id) : "0u";
    const lastDim = (i: number) => op.inputs[i]!.shape[op.inputs[i]!.shape.length - 1]!;
    const ctx: ElementwiseEmitContext = {
      get args() {
        return argsHere();
      },
      attrs: op.attrs,
      row: rowExpr,
      col: c.col ?? "0u",
      ...(c.range ? { colRange: c.range } : {}),
      arity: op.inputs.length,
      index: "",
      readAt: (i, row, col, range) => {
        const operand = op.inputs[i]!;
        // The current row keeps its reference (an edge stays an edge, so gathers inline); any
        // other row is made of the column and constants (a weight's row, see readAt's contract),
        // so the read is hoisted to the column's level: once per node, not once per edge.
        const coord: Coord = {
          row:
            row === rowExpr && c.row
              ? c.row
              : { kind: "index", expr: row, level: row === rowExpr ? (c.row?.level ?? 0) : 0 },
          col,
          colLevel: c.colLevel,
          ...(range ? { range } : {}),
        };
        const r = this.emit(operand, coord);
        level = Math.max(level, r.level);
        return r.name;
      },
      readColumn: (i, col) => {
        const operand = op.inputs[i]!;
        const at = this.broadcast(operand.shape, v.shape, {
          row: c.row,
          col,
          colLevel: c.colLevel,
        });
        const r = this.emit(operand, at);
        level = Math.max(level, r.level);
        return r.name;
      },
      f32: f32Literal,
      uniform: (name) => (name === "seed" ? this.kb.seed() : this.kb.step()),
      graphRead: (buffer, node) => `${this.kb.graph(buffer)}[${node}]`,
      cols: (i) => this.kb.dim(lastDim(i)),
      colCount: (i) => {
        const d = lastDim(i);
        return typeof d === "number" ? d : undefined;
      },
      dim: (d) => this.kb.dim(d),
    };
    // What the lowering reads besides its operands here (OpDef lowering.reads) decides how far out
    // of the loops its expression can be hoisted.
    if (def.lowering.reads === "linear-index") {
      // The element's linear index in the result (dropout masks and iota are keyed by it).
      const lin = this.linearOfShape(v.shape, c);
      ctx.index = lin.expr;
      level = Math.max(level, lin.level);
    }
    if (def.lowering.reads === "coordinates") {
      level = Math.max(level, c.row?.level ?? 0, c.colLevel);
    }
    const expr = def.lowering.emit(ctx);
    if (/^-?[0-9][0-9.eE+-]*$/.test(expr)) return { name: expr, level: 0 };
    return this.bind(expr, level, "ex");
  }

  private linearOfShape(s: readonly Dim[], c: Coord): { expr: string; level: number } {
    if (c.flat !== undefined) return { expr: c.flat, level: c.colLevel };
    if (s.length === 0) return { expr: "0u", level: 0 };
    if (s.length === 1) return { expr: c.col!, level: c.colLevel };
    const row = c.row!;
    const rowExpr = row.kind === "index" ? row.expr : row.id;
    return {
      expr: `(${rowExpr} * ${this.kb.dim(s[s.length - 1]!)} + ${c.col})`,
      level: Math.max(row.level, c.colLevel),
    };
  }
}
