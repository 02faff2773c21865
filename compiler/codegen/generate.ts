// IR → kernels and a schedule.
//
// Partition: a value gets a buffer ("is materialised") when it is a block input or output, the
// result of an op that is not elementwise (matmul, reductions, segment reductions, loops), an
// operand of a matmul or a loop, or an elementwise value that several kernels would otherwise
// recompute at some cost. Everything else is inlined into the kernels that read it. Edge values
// ([E, d]) are never materialised: they are recomputed inside the graph kernels that reduce them.
//
// Kernels: a map kernel per materialised elementwise value, a row kernel per row reduction, a
// two-stage deterministic kernel pair per column or full reduction, a CSR (by destination) or CSC
// (by source) kernel per segment reduction, a register-blocked matmul (split-K when the inner
// dimension is the long node axis). Loops become schedule steps over one compiled body, so the
// number of kernels does not depend on the trip count.
import { dimEquals, dimToString, edgeDim, shapeToString } from "../ir/dims.js";
import { getOp } from "../ir/registry.js";
import { Value, tensorType, type Dim, type Graph, type Op } from "../ir/types.js";
import { expandRevBlocks } from "./expand.js";
import type { Tuning } from "../target.js";
import { dotsGraph, mixGraph, residualGraph } from "./fixpoint.js";
import { fixpointAttrs, isFixpoint, isScan } from "../ir/ops/control.js";
import type { Lowering, ReduceCombine } from "../ir/op-def.js";
import { ExprEmitter, type Coord, type RowRef, type Sink } from "./expr.js";
import { F32_MAX, gridOf, KernelBuilder } from "./kernel-builder.js";
import type { Block, Grid, KernelSpec, Program, Step } from "../contract.js";
import { matmulKernels } from "./matmul.js";

/** An op's lowering, which the caller knows to be of the given kind (the scheduler chose by it). */
function loweringOf<K extends Lowering["kind"]>(op: Op, kind: K): Extract<Lowering, { kind: K }> {
  const lowering = getOp(op.opcode).lowering;
  if (lowering.kind !== kind) throw new Error(`codegen: ${op.opcode} is not a ${kind} op`);
  return lowering as Extract<Lowering, { kind: K }>;
}

const WORKGROUP = 256;
/** Rows per partial sum in column reductions: bounds the serial loop of each invocation. */
const CHUNK_ROWS = 256;

function isEdgeDim(d: Dim | undefined): boolean {
  return d === edgeDim(false) || d === edgeDim(true);
}

export class CodeGenerator {
  constructor(private readonly options: CodegenOptions = {}) {}

  private readonly kernels = new Map<string, KernelSpec>();
  private readonly workspace: Program["workspace"] = new Map();
  private kernelCounter = 0;
  /** While packing fused kernels: generate without registering. */
  private trial = false;
  private readonly pendingInPlace = new Map<
    Step,
    { candidates: Value[]; variant: (c: Value) => KernelSpec }
  >();

  generate(g: Graph): Program {
    const main = this.block(expandRevBlocks(g));
    return { main, kernels: [...this.kernels.values()], workspace: this.workspace };
  }

  /**
   * Kernels with the same text (but for the name line) are compiled once: the two groups of a
   * coupling, the forward and the rebuild of a block. Each use gets an instance: the shared code
   * with its own operands and in-place variants.
   */
  private register(spec: KernelSpec): KernelSpec {
    if (this.trial) return spec;
    const key = spec.code.slice(spec.code.indexOf("\n") + 1);
    let canonical = this.kernels.get(key);
    if (!canonical) {
      canonical = spec;
      this.kernels.set(key, spec);
    }
    // Templates are shape-generic: one text serves many shapes, so each instance keeps its own
    // launch (parameter block and dispatch size) along with its operands.
    return {
      ...canonical,
      operands: spec.operands,
      inPlace: new Map(),
      custom: spec.custom,
      grid: spec.grid,
    };
  }

  private name(kind: string, hint?: string): string {
    const h = (hint ?? "")
      .split(".")
      .pop()!
      .replace(/[^A-Za-z0-9_]/g, "_")
      .slice(0, 24);
    return `k${++this.kernelCounter}_${kind}${h ? "_" + h : ""}`;
  }

  // ---- partition -------------------------------------------------------------------------------

  private block(g: Graph): Block {
    const producer = new Map<Value, Op>();
    const uses = new Map<Value, Op[]>();
    for (const op of g.ops) {
      for (const v of op.outputs) producer.set(v, op);
      // Appended in place: a value read thousands of times (a long sum) stays linear.
      for (const v of op.inputs) {
        const list = uses.get(v);
        if (list) list.push(op);
        else uses.set(v, [op]);
      }
    }
    const inputs = new Set(g.inputs);
    const outputs = new Set(g.outputs);
    const inlineCost = new Map<Value, number>();
    const costOf = (v: Value): number => {
      if (inputs.has(v)) return 0;
      const hit = inlineCost.get(v);
      if (hit !== undefined) return hit;
      const op = producer.get(v)!;
      const kind = getOp(op.opcode).lowering.kind;
      const c =
        kind === "elementwise" || kind === "gather"
          ? 1 + op.inputs.reduce((a, x) => a + (materialised.has(x) ? 0 : costOf(x)), 0)
          : 0;
      inlineCost.set(v, c);
      return c;
    };
    const materialised = new Set<Value>(g.inputs);
    // How many inlined ops deep a value's expression is (0 once it has a buffer).
    const fusedDepth = new Map<Value, number>();
    const depthOf = (x: Value) => (materialised.has(x) ? 0 : (fusedDepth.get(x) ?? 0));
    for (const op of g.ops) {
      const kind = getOp(op.opcode).lowering.kind;
      for (const v of op.outputs) {
        const us = uses.get(v) ?? [];
        const edge = v.shape.length >= 1 && isEdgeDim(v.shape[0]);
        const depth = 1 + Math.max(0, ...op.inputs.map(depthOf));
        fusedDepth.set(v, depth);
        if (kind !== "elementwise" && kind !== "gather") {
          materialised.add(v);
          continue;
        }
        const forced =
          outputs.has(v) ||
          us.some((u) => ["matmul", "control", "view"].includes(getOp(u.opcode).lowering.kind));
        if (forced) {
          if (edge)
            throw new Error(
              `codegen: edge value ${shapeToString(v.shape)} would need a buffer (${op.opcode})`,
            );
          materialised.add(v);
          continue;
        }
        if (edge || op.inputs.length === 0) continue; // recomputed where read
        if (this.options.perOp || (us.length > 1 && costOf(v) > 4) || depth > MAX_FUSED_DEPTH)
          materialised.add(v);
      }
    }

    const steps: Step[] = [];
    // Row-local work (maps over [R, n] and row reductions) waits here, to be fused into one
    // kernel per run of consecutive members on CPU drivers, where dispatches cost most.
    let rowRun: RowMember[] = [];
    const flushRows = () => {
      if (rowRun.length === 1) {
        const m = rowRun[0]!;
        steps.push(
          m.kind === "map"
            ? this.mapKernel(m.out, producer, materialised)
            : this.rowKernel(m.op, m.op.inputs[0]!, m.out, m.combine, producer, materialised),
        );
      } else if (rowRun.length > 1) {
        for (const part of this.packByBindings(rowRun, (ms) => [
          this.rowProgram(ms, producer, materialised),
        ])) {
          steps.push(...part);
        }
      }
      rowRun = [];
    };
    const fuseRows = this.options.tuning?.adapterClass === "cpu" && !this.options.perOp;
    const deferredColumns: Op[] = [];
    for (const op of g.ops) {
      const kind = getOp(op.opcode).lowering.kind;
      const out = op.outputs[0]!;
      const member = fuseRows ? rowMember(op, kind, materialised) : undefined;
      if (member) {
        if (rowRun.length > 0 && !dimEquals(rowRun[0]!.rows, member.rows)) flushRows();
        rowRun.push(member);
        continue;
      }
      if ((kind === "elementwise" || kind === "gather") && !materialised.has(out)) continue;
      // Column reductions whose result nothing in the block reads (parameter gradients) wait for
      // the end of the block, where they run together in one pair of kernels.
      if (
        fuseRows &&
        kind === "reduce" &&
        loweringOf(op, "reduce").axis !== "row" &&
        op.inputs[0]!.shape.length === 2 &&
        !uses.get(out)?.length
      ) {
        deferredColumns.push(op);
        continue;
      }
      flushRows();
      switch (kind) {
        case "elementwise":
        case "gather":
          steps.push(this.mapKernel(out, producer, materialised));
          break;
        case "reduce":
          steps.push(...this.reduceKernels(op, producer, materialised));
          break;
        case "segment":
          steps.push(this.segmentKernel(op, producer, materialised));
          break;
        case "matmul":
          steps.push(
            ...matmulKernels(
              op,
              (k) => this.register(k),
              (kind2, hint) => this.name(kind2, hint),
              this.workspace,
              this.options.tuning,
            ),
          );
          break;
        case "view":
          steps.push({ kind: "alias", from: op.inputs[0]!, to: out });
          break;
        case "control":
          steps.push(this.controlStep(op));
          break;
      }
    }
    flushRows();
    if (deferredColumns.length === 1)
      steps.push(...this.reduceKernels(deferredColumns[0]!, producer, materialised));
    else if (deferredColumns.length > 1) {
      const byRows = new Map<string, Op[]>();
      for (const op of deferredColumns) {
        const key = dimToString(op.inputs[0]!.shape[0]!);
        byRows.set(key, [...(byRows.get(key) ?? []), op]);
      }
      for (const ops of byRows.values()) {
        for (const part of this.packByBindings(ops, (group) =>
          group.length === 1
            ? this.reduceKernels(group[0]!, producer, materialised)
            : this.columnProgram(group, producer, materialised),
        )) {
          steps.push(...part);
        }
      }
    }
    const block: Block = { name: g.name, inputs: g.inputs, outputs: g.outputs, steps };
    this.addInPlaceVariants(block);
    return block;
  }

  private controlStep(op: Op): Step {
    if (isScan(op)) {
      const a = op.attrs;
      return {
        kind: "scan",
        count: a.count as number,
        reverse: !!a.reverse,
        numCarry: a.numCarry as number,
        numXs: a.numXs as number,
        inputs: op.inputs,
        outputs: op.outputs,
        body: this.block(op.regions[0]!),
      };
    }
    if (isFixpoint(op)) {
      const attrs = fixpointAttrs(op.attrs);
      const shape = op.outputs[0]!.shape;
      return {
        kind: "fixpoint",
        attrs,
        inputs: op.inputs,
        output: op.outputs[0]!,
        body: this.block(op.regions[0]!),
        residual: this.block(residualGraph(shape)),
        dots: this.block(dotsGraph(shape, attrs.memory)),
        mix: this.block(mixGraph(shape, attrs.memory)),
      };
    }
    throw new Error(`codegen: unexpected control op ${op.opcode}`);
  }

  // ---- kernels ---------------------------------------------------------------------------------

  private emitter(
    kb: KernelBuilder,
    producer: Map<Value, Op>,
    materialised: Set<Value>,
    sinks: Sink[],
  ) {
    return new ExprEmitter(kb, (v) => materialised.has(v), producer, sinks);
  }

  /** A coordinate for rows of `rows` (node rows, or edges read through the edge arrays). */
  private rowRef(kb: KernelBuilder, rows: Dim, expr: string, level: number): RowRef {
    if (!isEdgeDim(rows)) return { kind: "index", expr, level };
    const loops = rows === edgeDim(true);
    const src = `${kb.graph(loops ? "edge_src_loops" : "edge_src")}[${expr}]`;
    const dst = `${kb.graph(loops ? "edge_dst_loops" : "edge_dst")}[${expr}]`;
    return { kind: "edge", src, dst, id: expr, level, srcLevel: level, dstLevel: level };
  }

  private mapKernel(out: Value, producer: Map<Value, Op>, materialised: Set<Value>): Step {
    const build = (into?: Value) => {
      const kb = new KernelBuilder("map");
      if (into) kb.writeInto(out, into);
      const s = out.shape;
      const body: Sink = { lines: [], indent: "  " };
      const total = s.reduce<string>(
        (acc, d) => (acc === "1u" ? kb.dim(d) : `${acc} * ${kb.dim(d)}`),
        "1u",
      );
      body.lines.push(`  if (idx >= ${total}) { return; }`);
      let coord: Coord;
      if (s.length === 2) {
        const cols = kb.dim(s[1]!);
        body.lines.push(`  let row = idx / ${cols};`, `  let col = idx % ${cols};`);
        coord = { row: this.rowRef(kb, s[0]!, "row", 0), col: "col", colLevel: 0 };
      } else if (s.length === 1) coord = { col: "idx", colLevel: 0 };
      else if (s.length === 0) coord = { colLevel: 0 };
      else coord = { flat: "idx", colLevel: 0 };
      const ex = this.emitter(kb, producer, materialisedExcept(materialised, out), [body]);
      const val = ex.at(out, coord);
      const o = kb.value(out, "read_write");
      body.lines.push(`  ${o}[${kb.offset(out)} + idx] = ${val};`);
      const identity =
        s.length === 2 ? `row * ${kb.dim(s[1]!)} + col` : s.length === 0 ? "0u" : "idx";
      const header = [
        `${shapeToString(s)} ${out.hint ?? ""}`,
        ...(into ? [`in place: overwrites ${into.hint ?? "its input"}`] : []),
      ];
      const spec = kb.finish(
        this.name(into ? "map_inplace" : "map", out.hint),
        body.lines.join("\n"),
        WORKGROUP,
        header,
        gridOf([...s]),
      );
      return { spec, candidates: into ? [] : kb.inPlaceCandidates(identity, out) };
    };
    const base = build();
    const kernel = this.register(base.spec);
    const step: Step = { kind: "kernel", kernel, writes: [out] };
    const candidates = base.candidates.filter(
      (c) => c.shape.length === out.shape.length && c.shape.every((d, i) => d === out.shape[i]),
    );
    if (candidates.length)
      this.pendingInPlace.set(step, { candidates, variant: (c) => this.register(build(c).spec) });
    return step;
  }

  /**
   * In-place variants only where they can be used: for the first candidate whose last read in the
   * block is this very kernel (the executor still checks that nothing else holds it).
   */
  private addInPlaceVariants(block: Block): void {
    const lastUse = new Map<Value, number>();
    block.steps.forEach((st, i) => {
      const reads =
        st.kind === "kernel"
          ? st.kernel.operands.flatMap((o) => (o.kind === "value" ? [o.value] : []))
          : st.kind === "alias"
            ? [st.from]
            : st.inputs;
      for (const v of reads) lastUse.set(v, i);
    });
    const outputs = new Set(block.outputs);
    block.steps.forEach((st, i) => {
      const pending = st.kind === "kernel" ? this.pendingInPlace.get(st) : undefined;
      if (!pending || st.kind !== "kernel") return;
      const c = pending.candidates.find((v) => lastUse.get(v) === i && !outputs.has(v));
      if (c) st.kernel.inPlace.set(c, pending.variant(c));
    });
  }

  private reduceKernels(op: Op, producer: Map<Value, Op>, materialised: Set<Value>): Step[] {
    const lowering = loweringOf(op, "reduce");
    const x = op.inputs[0]!;
    const out = op.outputs[0]!;
    if (lowering.axis === "row")
      return [this.rowKernel(op, x, out, lowering.combine, producer, materialised)];
    return this.columnKernels(op, x, out, lowering.axis, producer, materialised);
  }

  private rowKernel(
    op: Op,
    x: Value,
    out: Value,
    combine: ReduceCombine,
    producer: Map<Value, Op>,
    materialised: Set<Value>,
  ): Step {
    const kb = new KernelBuilder("row_reduce");
    kb.implements.push(op.opcode);
    const [rows, cols] = x.shape as [Dim, Dim];
    const outer: Sink = { lines: [], indent: "  " };
    const inner: Sink = { lines: [], indent: "    " };
    const ex = this.emitter(kb, producer, materialised, [outer, inner]);
    outer.lines.push(`  if (idx >= ${kb.dim(rows)}) { return; }`, "  let row = idx;");
    const coord: Coord = { row: this.rowRef(kb, rows, "row", 0), col: "c", colLevel: 1 };
    const val = ex.at(x, coord);
    const r = rowReduction(combine, "acc", val);
    const o = kb.value(out, "read_write");
    const body = [
      ...outer.lines,
      ...r.init.map((l) => `  ${l}`),
      `  for (var c = 0u; c < ${kb.dim(cols)}; c = c + 1u) {`,
      ...inner.lines,
      `    ${r.update}`,
      "  }",
      `  ${o}[${kb.offset(out)} + row] = ${r.result};`,
    ];
    const name = this.name("row_" + combine, out.hint);
    return {
      kind: "kernel",
      kernel: this.register(
        kb.finish(
          name,
          body.join("\n"),
          WORKGROUP,
          [`${op.opcode} ${shapeToString(x.shape)} → ${shapeToString(out.shape)}`],
          gridOf([rows]),
        ),
      ),
      writes: [out],
    };
  }

  /**
   * col_sum [R, n] → [n] and sum_all: stage 1 sums chunks of CHUNK_ROWS rows into partials
   * [ceil(R/CHUNK_ROWS), n]; stage 2 adds the partials in a fixed order. Deterministic, no atomics.
   */
  private columnKernels(
    op: Op,
    x: Value,
    out: Value,
    axis: "col" | "all",
    producer: Map<Value, Op>,
    materialised: Set<Value>,
  ): Step[] {
    const s = x.shape;
    // View the input as rows × cols; a flat view for ranks other than 2.
    const rank2 = s.length === 2;
    const rows: Dim = rank2
      ? s[0]!
      : s.length === 0
        ? 1
        : (s.reduce((a, d) =>
            typeof a === "number" && typeof d === "number" ? a * d : `${a}*${d}`,
          ) as Dim);
    const cols: Dim = rank2 ? s[1]! : 1;
    const kb = new KernelBuilder("column_reduce_partials");
    kb.implements.push(op.opcode);
    const outer: Sink = { lines: [], indent: "  " };
    const inner: Sink = { lines: [], indent: "    " };
    const ex = this.emitter(kb, producer, materialised, [outer, inner]);
    const R = rank2 || s.length === 0 ? kb.dim(rows) : s.map((d) => kb.dim(d)).join(" * ");
    const C = kb.dim(cols);
    const chunks = `((${R} + ${CHUNK_ROWS - 1}u) / ${CHUNK_ROWS}u)`;
    outer.lines.push(
      `  let col = idx % ${C};`,
      `  let chunk = idx / ${C};`,
      `  if (chunk >= ${chunks}) { return; }`,
    );
    let coord: Coord;
    if (rank2) coord = { row: this.rowRef(kb, rows, "r", 1), col: "col", colLevel: 0 };
    else if (s.length === 1) coord = { col: "r", colLevel: 1 };
    else if (s.length === 0) coord = { colLevel: 0 };
    else coord = { flat: "r", colLevel: 1 };
    const val = ex.at(x, coord);
    const partial = new Value(tensorType([]), `${out.hint ?? "sum"}_partials`);
    const elements = (d: Readonly<Record<string, number>>) => {
      const r = gridOf([rows]).threads(d);
      const c = gridOf([cols]).threads(d);
      return Math.max(1, Math.ceil(r / CHUNK_ROWS)) * c;
    };
    this.workspace.set(partial, { formula: `ceil(${rows}/${CHUNK_ROWS})*${cols}`, elements });
    const p = kb.value(partial, "read_write");
    const body1 = [
      ...outer.lines,
      `  let r0 = chunk * ${CHUNK_ROWS}u;`,
      `  let r1 = min(r0 + ${CHUNK_ROWS}u, ${R});`,
      "  var acc = 0.0;",
      "  for (var r = r0; r < r1; r = r + 1u) {",
      ...inner.lines,
      `    acc = acc + ${val};`,
      "  }",
      `  ${p}[${kb.offset(partial)} + chunk * ${C} + col] = acc;`,
    ];
    const grid1: Grid = gridOf([rows], { divide: CHUNK_ROWS, times: [cols] });
    const k1 = this.register(
      kb.finish(
        this.name("colsum_partials", out.hint),
        body1.join("\n"),
        WORKGROUP,
        [`${op.opcode} ${shapeToString(s)} → ${shapeToString(out.shape)}, stage 1 of 2`],
        grid1,
      ),
    );

    const kb2 = new KernelBuilder("column_reduce_final");
    kb2.implements.push(op.opcode);
    const p2 = kb2.value(partial, "read");
    const o = kb2.value(out, "read_write");
    const R2 = rank2 || s.length === 0 ? kb2.dim(rows) : s.map((d) => kb2.dim(d)).join(" * ");
    const C2 = kb2.dim(cols);
    const chunks2 = `((${R2} + ${CHUNK_ROWS - 1}u) / ${CHUNK_ROWS}u)`;
    const body2 =
      axis === "col"
        ? [
            `  if (idx >= ${C2}) { return; }`,
            "  var acc = 0.0;",
            `  for (var k = 0u; k < ${chunks2}; k = k + 1u) { acc = acc + ${p2}[${kb2.offset(partial)} + k * ${C2} + idx]; }`,
            `  ${o}[${kb2.offset(out)} + idx] = acc;`,
          ]
        : [
            "  if (idx >= 1u) { return; }",
            "  var acc = 0.0;",
            `  for (var k = 0u; k < ${chunks2} * ${C2}; k = k + 1u) { acc = acc + ${p2}[${kb2.offset(partial)} + k]; }`,
            `  ${o}[${kb2.offset(out)}] = acc;`,
          ];
    const k2 = this.register(
      kb2.finish(
        this.name("colsum_final", out.hint),
        body2.join("\n"),
        axis === "col" ? 64 : 1,
        [`${op.opcode}, stage 2 of 2`],
        axis === "col" ? gridOf([cols]) : gridOf([]),
      ),
    );
    return [
      { kind: "kernel", kernel: k1, writes: [partial] },
      { kind: "kernel", kernel: k2, writes: [out] },
    ];
  }

  /**
   * Splits a run of fusable members into consecutive groups whose kernels stay within the
   * device's storage-buffer limit per shader stage (16 on lavapipe; 8 is WebGPU's minimum).
   * `build` generates without registering, so that trial kernels leave no trace.
   */
  private packByBindings<T>(items: T[], build: (group: T[]) => Step[]): Step[][] {
    const limit = this.options.maxStorageBuffers ?? 8;
    const storage = (steps: Step[]) =>
      Math.max(
        ...steps.map((st) =>
          st.kind === "kernel" ? st.kernel.bindings.filter((b) => b.kind !== "uniform").length : 0,
        ),
      );
    const groups: Step[][] = [];
    let current: T[] = [];
    let built: Step[] = [];
    this.trial = true;
    try {
      for (const item of items) {
        const attempt = build([...current, item]);
        if (current.length > 0 && storage(attempt) > limit) {
          groups.push(built);
          current = [item];
          built = build(current);
        } else {
          current.push(item);
          built = attempt;
        }
      }
      if (current.length) groups.push(built);
    } finally {
      this.trial = false;
    }
    return groups.map((g) =>
      g.map((st) => (st.kind === "kernel" ? { ...st, kernel: this.register(st.kernel) } : st)),
    );
  }

  /**
   * A run of row-local members in one kernel, one invocation per row: each member is a loop over
   * its row (a reduction into a scalar, or an elementwise row written out) in program order, so
   * later members read what earlier ones wrote for the same row. Layer norm forward (mean,
   * variance, normalised output) or backward becomes one dispatch instead of three to five.
   */
  private rowProgram(
    members: RowMember[],
    producer: Map<Value, Op>,
    materialised: Set<Value>,
  ): Step {
    const kb = new KernelBuilder("row_program");
    const rows = members[0]!.rows;
    const lines: string[] = [`  if (idx >= ${kb.dim(rows)}) { return; }`, "  let row = idx;"];
    members.forEach((m, i) => {
      const outer: Sink = { lines: [], indent: "  " };
      const inner: Sink = { lines: [], indent: "    " };
      const others = new Set(materialised);
      if (m.kind === "map") others.delete(m.out);
      const ex = new ExprEmitter(kb, (v) => others.has(v), producer, [outer, inner], `m${i}_`);
      const o = kb.value(m.out, "read_write");
      if (m.kind === "reduce") {
        kb.implements.push(m.op.opcode);
        const x = m.op.inputs[0]!;
        const val = ex.at(x, { row: this.rowRef(kb, rows, "row", 0), col: "c", colLevel: 1 });
        const r = rowReduction(m.combine, `acc${i}`, val);
        lines.push(
          ...outer.lines,
          ...r.init.map((l) => `  ${l}`),
          `  for (var c = 0u; c < ${kb.dim(x.shape[1]!)}; c = c + 1u) {`,
          ...inner.lines,
          `    ${r.update}`,
          "  }",
          `  ${o}[${kb.offset(m.out)} + row] = ${r.result};`,
        );
        return;
      }
      const cols = m.out.shape[1]!;
      if (cols === 1) {
        const val = ex.at(m.out, { row: this.rowRef(kb, rows, "row", 0), col: "0u", colLevel: 0 });
        lines.push(...outer.lines, `  ${o}[${kb.offset(m.out)} + row] = ${val};`);
        return;
      }
      const val = ex.at(m.out, { row: this.rowRef(kb, rows, "row", 0), col: "c", colLevel: 1 });
      lines.push(
        ...outer.lines,
        `  for (var c = 0u; c < ${kb.dim(cols)}; c = c + 1u) {`,
        ...inner.lines,
        `    ${o}[${kb.offset(m.out)} + row * ${kb.dim(cols)} + c] = ${val};`,
        "  }",
      );
    });
    const name = this.name("rows", members[members.length - 1]!.out.hint);
    const header = [
      `${members.length} row-local results over ${dimToString(rows)} rows, one invocation per row`,
    ];
    return {
      kind: "kernel",
      kernel: this.register(kb.finish(name, lines.join("\n"), WORKGROUP, header, gridOf([rows]))),
      writes: members.map((m) => m.out),
    };
  }

  /**
   * Several column reductions over the same rows (the bias and gain gradients of a block) in one
   * pair of kernels: stage 1 sums every member's chunk of rows per column into its partials,
   * stage 2 adds each member's partials in order. Deterministic, like the single ones.
   */
  private columnProgram(ops: Op[], producer: Map<Value, Op>, materialised: Set<Value>): Step[] {
    const rows = ops[0]!.inputs[0]!.shape[0]!;
    const kb = new KernelBuilder("column_program_partials");
    const widths = ops.map((op) => op.inputs[0]!.shape[1]!);
    const R = kb.dim(rows);
    const maxCols = widths.map((w) => kb.dim(w)).reduce((a, b) => `max(${a}, ${b})`);
    const chunks = `((${R} + ${CHUNK_ROWS - 1}u) / ${CHUNK_ROWS}u)`;
    const lines = [
      `  let col = idx % ${maxCols};`,
      `  let chunk = idx / ${maxCols};`,
      `  if (chunk >= ${chunks}) { return; }`,
      `  let r0 = chunk * ${CHUNK_ROWS}u;`,
      `  let r1 = min(r0 + ${CHUNK_ROWS}u, ${R});`,
    ];
    const partials = ops.map((op, i) => {
      kb.implements.push(op.opcode);
      const outer: Sink = { lines: [], indent: "    " };
      const inner: Sink = { lines: [], indent: "      " };
      const ex = new ExprEmitter(
        kb,
        (v) => materialised.has(v),
        producer,
        [outer, inner],
        `m${i}_`,
      );
      const val = ex.at(op.inputs[0]!, {
        row: this.rowRef(kb, rows, "r", 1),
        col: "col",
        colLevel: 0,
      });
      const partial = new Value(tensorType([]), `${op.outputs[0]!.hint ?? "sum"}_partials`);
      const w = widths[i]!;
      this.workspace.set(partial, {
        formula: `ceil(${dimToString(rows)}/${CHUNK_ROWS})*${dimToString(w)}`,
        elements: (d) =>
          Math.max(1, Math.ceil(gridOf([rows]).threads(d) / CHUNK_ROWS)) * gridOf([w]).threads(d),
      });
      const p = kb.value(partial, "read_write");
      const W = kb.dim(w);
      lines.push(
        `  if (col < ${W}) {`,
        ...outer.lines,
        `    var acc${i} = 0.0;`,
        "    for (var r = r0; r < r1; r = r + 1u) {",
        ...inner.lines,
        `      acc${i} = acc${i} + ${val};`,
        "    }",
        `    ${p}[${kb.offset(partial)} + chunk * ${W} + col] = acc${i};`,
        "  }",
      );
      return partial;
    });
    // One invocation per (chunk, column) of the widest member; widths may be symbolic (K),
    // so the grid takes the largest of them at dispatch time.
    const widthGrids = widths.map((w) => gridOf([w]));
    const rowGrid = gridOf([rows]);
    const widest = (b: Readonly<Record<string, number>>) =>
      Math.max(...widthGrids.map((g) => g.threads(b)));
    const widthsText = widths.map(dimToString);
    const maxText =
      widthsText.length === 1 ? widthsText[0]! : `max(${[...new Set(widthsText)].join(", ")})`;
    const chunksOf = (b: Readonly<Record<string, number>>) =>
      Math.max(1, Math.ceil(rowGrid.threads(b) / CHUNK_ROWS));
    const grid1: Grid = {
      formula: `ceil(${dimToString(rows)}/${CHUNK_ROWS})*${maxText}`,
      threads: (b) => chunksOf(b) * widest(b),
    };
    const grid2: Grid = { formula: maxText, threads: widest };
    const stage1 = this.register(
      kb.finish(
        this.name("colsums_partials"),
        lines.join("\n"),
        WORKGROUP,
        [`${ops.length} column reductions over ${dimToString(rows)} rows, stage 1 of 2`],
        grid1,
      ),
    );
    const kb2 = new KernelBuilder("column_program_final");
    const lines2: string[] = [];
    ops.forEach((op, i) => {
      kb2.implements.push(op.opcode);
      const p = kb2.value(partials[i]!, "read");
      const o = kb2.value(op.outputs[0]!, "read_write");
      const W = kb2.dim(widths[i]!);
      const R2 = kb2.dim(rows);
      const n = `((${R2} + ${CHUNK_ROWS - 1}u) / ${CHUNK_ROWS}u)`;
      // A column sum keeps one total per column; a total sum folds the columns too.
      if (loweringOf(op, "reduce").axis === "col") {
        lines2.push(
          `  if (idx < ${W}) {`,
          `    var acc${i} = 0.0;`,
          `    for (var k = 0u; k < ${n}; k = k + 1u) { acc${i} = acc${i} + ${p}[${kb2.offset(partials[i]!)} + k * ${W} + idx]; }`,
          `    ${o}[${kb2.offset(op.outputs[0]!)} + idx] = acc${i};`,
          "  }",
        );
      } else {
        lines2.push(
          "  if (idx == 0u) {",
          `    var acc${i} = 0.0;`,
          `    for (var k = 0u; k < ${n} * ${W}; k = k + 1u) { acc${i} = acc${i} + ${p}[${kb2.offset(partials[i]!)} + k]; }`,
          `    ${o}[${kb2.offset(op.outputs[0]!)}] = acc${i};`,
          "  }",
        );
      }
    });
    const stage2 = this.register(
      kb2.finish(
        this.name("colsums_final"),
        lines2.join("\n"),
        64,
        [`${ops.length} column reductions, stage 2 of 2`],
        grid2,
      ),
    );
    return [
      { kind: "kernel", kernel: stage1, writes: partials },
      { kind: "kernel", kernel: stage2, writes: ops.map((op) => op.outputs[0]!) },
    ];
  }

  /**
   * out[v, c] = ⊕ over the edges of v of message(e, c): by destination over the CSR, by source
   * over the CSC (the reversed graph: how gradients flow back to sources without atomics).
   */
  private segmentKernel(op: Op, producer: Map<Value, Op>, materialised: Set<Value>): Step {
    const kb = new KernelBuilder(op.attrs.by === "src" ? "segment_csc" : "segment_csr");
    kb.implements.push(op.opcode);
    const m = op.inputs[0]!;
    const out = op.outputs[0]!;
    const loops = !!op.attrs.loops;
    const byDst = op.attrs.by !== "src";
    const width = m.shape[1]!;
    const W = kb.dim(width);
    const outer: Sink = { lines: [], indent: "  " };
    const inner: Sink = { lines: [], indent: "    " };
    const ex = this.emitter(kb, producer, materialised, [outer, inner]);
    outer.lines.push(
      `  if (idx >= ${kb.dim("N")} * ${W}) { return; }`,
      `  let node = idx / ${W};`,
      `  let col = idx % ${W};`,
    );
    const rowptr = kb.graph("csr_rowptr");
    let edge: RowRef;
    let range: [string, string];
    if (byDst) {
      const src = kb.graph("csr_src");
      range = [`${rowptr}[node]`, `${rowptr}[node + 1u]`];
      edge = {
        kind: "edge",
        src: `${src}[k]`,
        dst: "node",
        id: loops ? "(k + node)" : "k",
        level: 1,
        srcLevel: 1,
        dstLevel: 0,
      };
    } else {
      const colptr = kb.graph("csc_colptr");
      const dst = kb.graph("csc_dst");
      const eid = kb.graph("csc_eid");
      range = [`${colptr}[node]`, `${colptr}[node + 1u]`];
      edge = {
        kind: "edge",
        src: "node",
        dst: `${dst}[k]`,
        id: loops ? `(${eid}[k] + ${dst}[k])` : `${eid}[k]`,
        level: 1,
        srcLevel: 0,
        dstLevel: 1,
      };
    }
    const val = ex.at(m, { row: edge, col: "col", colLevel: 0 });
    const sum = loweringOf(op, "segment").combine === "sum";
    let selfTerm = "";
    if (loops) {
      const selfEdge: RowRef = {
        kind: "edge",
        src: "node",
        dst: "node",
        id: `(${rowptr}[node + 1u] + node)`,
        level: 0,
        srcLevel: 0,
        dstLevel: 0,
      };
      selfTerm = ex.at(m, { row: selfEdge, col: "col", colLevel: 0 });
    }
    const o = kb.value(out, "read_write");
    const body = sum
      ? [
          ...outer.lines,
          `  var acc = ${loops ? selfTerm : "0.0"};`,
          `  for (var k = ${range[0]}; k < ${range[1]}; k = k + 1u) {`,
          ...inner.lines,
          `    acc = acc + ${val};`,
          "  }",
          `  ${o}[${kb.offset(out)} + idx] = acc;`,
        ]
      : [
          ...outer.lines,
          `  var acc = ${loops ? selfTerm : `-${F32_MAX}`};`,
          `  let k0 = ${range[0]};`,
          `  let k1 = ${range[1]};`,
          "  for (var k = k0; k < k1; k = k + 1u) {",
          ...inner.lines,
          `    acc = max(acc, ${val});`,
          "  }",
          // A node without edges (and without a self loop) aggregates 0, as in PyG.
          `  ${o}[${kb.offset(out)} + idx] = ${loops ? "acc" : "select(0.0, acc, k1 > k0)"};`,
        ];
    const name = this.name(`${sum ? "sum" : "max"}_by_${byDst ? "dst" : "src"}`, out.hint);
    const header = [
      `${op.opcode} by ${byDst ? "destination (CSR)" : "source (CSC)"}${loops ? " with self loops" : ""}: message inlined, never stored`,
    ];
    return {
      kind: "kernel",
      kernel: this.register(
        kb.finish(name, body.join("\n"), WORKGROUP, header, gridOf(["N", width])),
      ),
      writes: [out],
    };
  }
}

/** The output of a map kernel is computed, not read, inside its own kernel. */
function materialisedExcept(set: Set<Value>, v: Value): Set<Value> {
  const copy = new Set(set);
  copy.delete(v);
  return copy;
}

/**
 * The longest chain of elementwise ops fused into one expression: a longer one (a 1,500-term sum)
 * gets a buffer every MAX_FUSED_DEPTH ops, which bounds the emitter's recursion and the size of
 * a kernel's expression.
 */
const MAX_FUSED_DEPTH = 64;

export interface CodegenOptions {
  /**
   * One kernel per op (no elementwise fusion across ops, edge expressions aside): every value is
   * then computed by the same kernel wherever the op appears — in the forward pass, the inverse
   * and the backward's recomputation — so recomputation is bitwise identical. Exact mode uses it.
   */
  perOp?: boolean;
  /** The adapter's tuning: use the hand-tuned matmul templates for it (else portable kernels). */
  tuning?: Tuning;
  /** Storage buffers a kernel may bind (the device's maxStorageBuffersPerShaderStage; 8 when unknown). */
  maxStorageBuffers?: number;
}

export function generateProgram(g: Graph, options: CodegenOptions = {}): Program {
  return new CodeGenerator(options).generate(g);
}

type RowMember =
  | { kind: "map"; out: Value; rows: Dim }
  | { kind: "reduce"; op: Op; out: Value; rows: Dim; combine: ReduceCombine };

/** A row-local kernel member: a materialised elementwise [R, n] value or a row reduction. */
function rowMember(op: Op, kind: string, materialised: Set<Value>): RowMember | undefined {
  const out = op.outputs[0]!;
  if (kind === "reduce") {
    const l = loweringOf(op, "reduce");
    if (l.axis !== "row") return undefined;
    return { kind: "reduce", op, out, rows: op.inputs[0]!.shape[0]!, combine: l.combine };
  }
  if (
    (kind === "elementwise" || kind === "gather") &&
    materialised.has(out) &&
    out.shape.length === 2
  ) {
    return { kind: "map", out, rows: out.shape[0]! };
  }
  return undefined;
}

/**
 * A row reduction's WGSL inside `for (var c = 0u; c < cols; c++)`: declarations before the loop,
 * the update of one column's value `val`, and the row's result. argmax starts at −FLT_MAX and
 * moves only on a strictly greater value: the first maximum, as the interpreter's row_argmax.
 */
function rowReduction(
  combine: ReduceCombine,
  acc: string,
  val: string,
): { init: string[]; update: string; result: string } {
  switch (combine) {
    case "sum":
      return { init: [`var ${acc} = 0.0;`], update: `${acc} = ${acc} + ${val};`, result: acc };
    case "max":
      return {
        init: [`var ${acc} = -${F32_MAX};`],
        update: `${acc} = max(${acc}, ${val});`,
        result: acc,
      };
    case "argmax":
      return {
        init: [`var ${acc} = -${F32_MAX};`, `var ${acc}_at = 0u;`],
        update: `{ let ${acc}_v = ${val}; if (${acc}_v > ${acc}) { ${acc} = ${acc}_v; ${acc}_at = c; } }`,
        result: `f32(${acc}_at)`,
      };
  }
}
