// IR → kernels and a schedule.
//
// Partition (partition.ts) decides which values get buffers. Kernels: a map kernel per
// materialised elementwise value (maps.ts), a row kernel per row reduction (rows.ts), a two-stage
// deterministic kernel pair per column or full reduction (reductions.ts), a CSR (by destination)
// or CSC (by source) kernel per segment reduction (segments.ts), a register-blocked matmul
// (matmul.ts; split-K when the inner dimension is the long node axis). This file is the scheduler:
// it walks a block's ops in order, fuses row-local runs and deferred column sums on CPU drivers,
// and emits the steps. Loops become schedule steps over one compiled body, so the number of
// kernels does not depend on the trip count.
import { dimEquals, dimToString } from "../ir/dims.js";
import { getOp } from "../ir/registry.js";
import type { Graph, Op, Value } from "../ir/types.js";
import { expandRevBlocks } from "./expand.js";
import type { Tuning } from "../target.js";
import { dotsGraph, mixGraph, residualGraph } from "./fixpoint.js";
import { fixpointAttrs, isFixpoint, isScan } from "../ir/ops/control.js";
import {
  isStorageBinding,
  type Block,
  type KernelSpec,
  type Program,
  type Step,
} from "../contract.js";
import { matmulKernels } from "./matmul.js";
import type { Padding } from "../padding.js";
import { sparseInputMatmul } from "./sparse-input.js";
import { loweringOf, type KernelContext } from "./context.js";
import { partition } from "./partition.js";
import { placeParams } from "./params-placement.js";
import { mapKernel, type InPlaceOffer } from "./maps.js";
import { rowKernel, rowMember, rowProgram, type RowMember } from "./rows.js";
import { columnProgram, reduceKernels } from "./reductions.js";
import { segmentKernel } from "./segments.js";
import { poolKernel } from "./pools.js";

export class CodeGenerator {
  constructor(private readonly options: CodegenOptions = {}) {}

  private readonly kernels = new Map<string, KernelSpec>();
  private readonly workspace: Program["workspace"] = new Map();
  private kernelCounter = 0;
  /** While packing fused kernels: generate without registering. */
  private trial = false;
  private readonly pendingInPlace = new Map<Step, InPlaceOffer>();

  /** The sparse feature input of the graph being generated, when the options name one. */
  private sparseX?: { value: Value; dim: string };

  generate(g: Graph): Program {
    const sparse = this.options.sparseInput;
    if (sparse) this.sparseX = { value: g.inputs[sparse.index]!, dim: sparse.dim };
    const main = this.block(expandRevBlocks(g));
    return { main, kernels: [...this.kernels.values()], workspace: this.workspace };
  }

  /**
   * Kernels with the same text (but for the name line) are compiled once: the two groups of a
   * coupling, the forward and the rebuild of a block. Each use gets an instance: the shared code
   * with its own operands and in-place variants.
   */
  private register(generated: KernelSpec): KernelSpec {
    if (this.trial) return generated;
    const spec = placeParams(generated, this.options.immediateBytes ?? 0);
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
      ...(spec.rowRange ? { rowRange: spec.rowRange } : {}),
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

  // ---- schedule ------------------------------------------------------------------------------

  private block(g: Graph): Block {
    const { producer, uses, materialised } = partition(g, !!this.options.perOp);
    const ctx: KernelContext = {
      producer,
      materialised,
      workspace: this.workspace,
      register: (spec) => this.register(spec),
      name: (kind, hint) => this.name(kind, hint),
      loopCount: (kb, cols) =>
        this.options.tuning?.rowLoopCounts === "parameter" ? kb.count(cols) : kb.dim(cols),
      columnsPerInvocation: (width) => {
        const per = this.options.tuning?.columnsPerInvocation ?? 1;
        return typeof width === "number" && width % per === 0 ? per : 1;
      },
    };
    const map = (out: Value): Step => {
      const { step, inPlace } = mapKernel(ctx, out);
      if (inPlace) this.pendingInPlace.set(step, inPlace);
      return step;
    };
    const steps: Step[] = [];
    // Row-local work (maps over [R, n] and row reductions) waits here, to be fused into one
    // kernel per run of consecutive members on CPU drivers, where dispatches cost most.
    let rowRun: RowMember[] = [];
    const flushRows = () => {
      if (rowRun.length === 1) {
        const m = rowRun[0]!;
        steps.push(m.kind === "map" ? map(m.out) : rowKernel(ctx, m.op, m.combine));
      } else if (rowRun.length > 1) {
        for (const part of this.packByBindings(rowRun, (ms) => [rowProgram(ctx, ms)])) {
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
          steps.push(map(out));
          break;
        case "reduce":
          steps.push(...reduceKernels(ctx, op));
          break;
        case "segment":
          steps.push(
            loweringOf(op, "segment").over === "node_ranges"
              ? poolKernel(ctx, op)
              : segmentKernel(ctx, op),
          );
          break;
        case "matmul":
          if (this.sparseX && op.inputs[0] === this.sparseX.value)
            steps.push(
              ...sparseInputMatmul(
                ctx,
                op,
                this.sparseX.dim,
                this.options.tuning?.maxWorkgroupsPerDim,
              ),
            );
          else steps.push(...matmulKernels(ctx, op, this.options.tuning, this.options.padding));
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
    if (deferredColumns.length === 1) steps.push(...reduceKernels(ctx, deferredColumns[0]!));
    else if (deferredColumns.length > 1) {
      const byRows = new Map<string, Op[]>();
      for (const op of deferredColumns) {
        const key = dimToString(op.inputs[0]!.shape[0]!);
        byRows.set(key, [...(byRows.get(key) ?? []), op]);
      }
      for (const ops of byRows.values()) {
        for (const part of this.packByBindings(ops, (group) =>
          group.length === 1 ? reduceKernels(ctx, group[0]!) : columnProgram(ctx, group),
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
          st.kind === "kernel" ? st.kernel.bindings.filter(isStorageBinding).length : 0,
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
}

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
  /** Parameter blocks up to this many bytes become immediates (./params-placement.ts). */
  immediateBytes?: number;
  /** Symbolic dims the runtime binds rounded up to a multiple (../padding.ts): a known fact. */
  padding?: Padding;
  /** The graph input the runtime binds as packed sparse features (./sparse-input.ts): its
   *  index among the graph's inputs and the symbol of its columns. */
  sparseInput?: { index: number; dim: string };
}

export function generateProgram(g: Graph, options: CodegenOptions = {}): Program {
  return new CodeGenerator(options).generate(g);
}
