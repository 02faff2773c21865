// Runs a generated program on a backend: allocates each materialised value from the accounted
// pool when a step first writes it and returns it to the pool after its last use, binds views
// (a value can live at an offset inside a larger buffer: one iteration's slice of stacked weights,
// or of stored activations), fills the per-dispatch parameter blocks and walks loops over their
// one compiled body. Nothing is read back except what the caller asks for.
import { BufferLimitError, type MemoryCategory } from "../gpu/memory.js";
import type { Backend } from "./backend.js";
import type { Graph as GraphData } from "../data/types.js";
import {
  isStorageBinding,
  andersonWeightsFromGram,
  evalDim,
  evalShape,
  numElements,
  shapeToString,
  type Block,
  type DimBindings,
  type Dim,
  type Value,
  type GraphBufferName,
  type KernelSpec,
  type Program,
  type Step,
} from "../../compiler/contract.js";
import type { DispatchNote } from "../gpu/dispatch-timer.js";
import { dispatchCost } from "../profile/cost.js";

interface Buf<H> {
  handle: H;
  bytes: number;
  refs: number;
  /** Acquired by the executor (released to the pool when the last reference goes). */
  owned: boolean;
  category: MemoryCategory;
}

/** A tensor: elements [offset, offset + elements) of one buffer. */
export interface View<H> {
  kind: "view";
  buf: Buf<H>;
  offset: number;
  elements: number;
}

/** A stacked tensor [count, …] split over several buffers (each within the binding limit). */
export interface Stack<H> {
  kind: "stack";
  chunks: Buf<H>[];
  perChunk: number;
  slot: number;
  count: number;
}

/**
 * A matrix [rows, rowElements] split by rows over several buffers, each within the binding limit
 * (dense node features larger than one binding). Only kernels that can run on a range of rows
 * (KernelSpec.rowRange) read it: once per chunk.
 */
export interface RowChunks<H> {
  kind: "rows";
  chunks: Buf<H>[];
  /** Rows of every chunk but the last. */
  rowsPerChunk: number;
  rowElements: number;
  rows: number;
}

export type TensorRef<H> = View<H> | Stack<H> | RowChunks<H>;

/** Elements held by each chunk of a chunked tensor, in order. */
export function chunkElements<H>(r: Stack<H> | RowChunks<H>): number[] {
  return r.chunks.map((_, i) =>
    r.kind === "stack"
      ? Math.min(r.perChunk, r.count - i * r.perChunk) * r.slot
      : Math.min(r.rowsPerChunk, r.rows - i * r.rowsPerChunk) * r.rowElements,
  );
}

/** Elements of a tensor, whole. */
export function elementsOfRef<H>(r: TensorRef<H>): number {
  return r.kind === "view" ? r.elements : chunkElements(r).reduce((a, b) => a + b, 0);
}

export interface RunOptions {
  seed: number;
  step: number;
  /** Category of new buffers for main-block outputs (default: activations). */
  outputCategory?: (index: number) => MemoryCategory;
  /**
   * Inputs whose reference the run takes over (the caller must not release them): once such an
   * input is dead, a kernel may overwrite it in place — how parameters are updated without a copy.
   */
  consume?: readonly boolean[];
}

export class ExecutionError extends Error {}

interface BlockInfo {
  /** Index of the last step that reads each value (Infinity for block outputs). */
  lastUse: Map<Value, number>;
  /** Values read by each kernel step only at the element it writes (candidates to overwrite). */
  identity: Map<Step, Set<Value>>;
}

export class Executor<H, K> {
  /** Compiled kernels by WGSL text (instances of one kernel share it). */
  private readonly kernels = new Map<string, K>();
  private readonly graphBuffers = new Map<GraphBufferName, Buf<H>>();
  private readonly blockInfo = new WeakMap<Block, BlockInfo>();
  private readonly params = new Map<KernelSpec, Uint32Array>();
  private opts: RunOptions = { seed: 0, step: 0 };
  private readonly dimsWithSums: DimBindings;
  /** Fill every buffer handed out with NaN, so that an element no kernel wrote shows (tests). */
  poison = false;
  /** Iterations and final residual of every fixpoint loop of the last run. */
  fixpointStats: { tag: string; iterations: number; residual: number }[] = [];
  /** Debugging: every value written, kept alive until the caller releases them (`trace`). */
  trace?: { value: Value; ref: TensorRef<H> }[];

  constructor(
    readonly backend: Backend<H, K>,
    readonly program: Program,
    readonly dims: DimBindings,
    private readonly graph?: GraphData | GraphSize,
    /** Memory categories of particular values (the rest: activations, or workspace). */
    private readonly categories: ReadonlyMap<Value, MemoryCategory> = new Map(),
  ) {
    this.dimsWithSums = { ...dims };
  }

  async prepare(): Promise<void> {
    await Promise.all(
      this.program.kernels.map(async (k) =>
        this.kernels.set(k.code, await this.backend.compile(k)),
      ),
    );
  }

  // ---- buffers ---------------------------------------------------------------------------------

  /** Wraps a caller-owned buffer as a tensor. The caller keeps its reference. */
  external(handle: H, elements: number, category: MemoryCategory, offset = 0): View<H> {
    return {
      kind: "view",
      buf: { handle, bytes: elements * 4, refs: 1, owned: false, category },
      offset,
      elements,
    };
  }

  /** A new tensor from the pool, owned by the reference returned. */
  allocate(elements: number, category: MemoryCategory, label: string): View<H> {
    const bytes = Math.max(4, elements * 4);
    const handle = this.backend.memory.acquire(bytes, category, label);
    if (this.poison) this.backend.write(handle, new Float32Array(bytes / 4).fill(NaN));
    return {
      kind: "view",
      buf: { handle, bytes, refs: 1, owned: true, category },
      offset: 0,
      elements,
    };
  }

  /**
   * A new [rows, rowElements] matrix from the pool in chunks of `rowsPerChunk` rows, one buffer
   * each, owned by the reference returned.
   */
  allocateRows(
    rows: number,
    rowElements: number,
    rowsPerChunk: number,
    category: MemoryCategory,
    label: string,
  ): RowChunks<H> {
    const chunks: Buf<H>[] = [];
    for (let start = 0; start < rows; start += rowsPerChunk) {
      const bytes = Math.max(4, Math.min(rowsPerChunk, rows - start) * rowElements * 4);
      const handle = this.backend.memory.acquire(bytes, category, `${label}[rows ${start}..]`);
      if (this.poison) this.backend.write(handle, new Float32Array(bytes / 4).fill(NaN));
      chunks.push({ handle, bytes, refs: 1, owned: true, category });
    }
    return { kind: "rows", chunks, rowsPerChunk, rowElements, rows };
  }

  /** Writes a whole [rows, rowElements] matrix (row-major) into its chunks. */
  writeRows(r: RowChunks<H>, data: Float32Array): void {
    const per = r.rowsPerChunk * r.rowElements;
    r.chunks.forEach((c, k) => this.backend.write(c.handle, data.subarray(k * per, (k + 1) * per)));
  }

  retain(r: TensorRef<H>): TensorRef<H> {
    if (r.kind === "view") r.buf.refs++;
    else r.chunks.forEach((c) => c.refs++);
    return r;
  }

  release(r: TensorRef<H>): void {
    const drop = (b: Buf<H>) => {
      b.refs--;
      if (b.refs === 0 && b.owned) this.backend.memory.release(b.handle);
    };
    if (r.kind === "view") drop(r.buf);
    else r.chunks.forEach(drop);
  }

  elementsOf(v: Value): number {
    const ws = this.program.workspace.get(v);
    if (ws) return ws.elements(this.dims);
    return numElements(evalShape(v.shape, this.dims));
  }

  private allocateStack(v: Value, label: string): TensorRef<H> {
    const shape = evalShape(v.shape, this.dims);
    const count = shape[0]!;
    const slot = numElements(shape.slice(1));
    const total = count * slot * 4;
    const category = this.categories.get(v) ?? "activations";
    if (total <= this.backend.maxBindingBytes) return this.allocate(count * slot, category, label);
    const perChunk = Math.max(1, Math.floor(this.backend.maxBindingBytes / (slot * 4)));
    const chunks: Buf<H>[] = [];
    for (let start = 0; start < count; start += perChunk) {
      const n = Math.min(perChunk, count - start);
      const bytes = n * slot * 4;
      const handle = this.backend.memory.acquire(bytes, category, `${label}[${start}..]`);
      if (this.poison) this.backend.write(handle, new Float32Array(bytes / 4).fill(NaN));
      chunks.push({ handle, bytes, refs: 1, owned: true, category });
    }
    return { kind: "stack", chunks, perChunk, slot, count };
  }

  private slice(r: TensorRef<H>, i: number, slot: number): View<H> {
    if (r.kind === "rows") throw new ExecutionError("internal: a loop iterates over row chunks");
    if (r.kind === "view")
      return { kind: "view", buf: r.buf, offset: r.offset + i * slot, elements: slot };
    const c = Math.floor(i / r.perChunk);
    return {
      kind: "view",
      buf: r.chunks[c]!,
      offset: (i - c * r.perChunk) * r.slot,
      elements: r.slot,
    };
  }

  // ---- graph structure -------------------------------------------------------------------------

  private graphBuffer(name: GraphBufferName): Buf<H> {
    const hit = this.graphBuffers.get(name);
    if (hit) return hit;
    const g = this.graph;
    if (!g) throw new ExecutionError("this program reads a graph, but none was given");
    const n = g.numNodes;
    const graphs = numGraphsOf(g);
    const bytes = Math.max(4, graphArrayElements(name, n, g.numEdges, graphs) * 4);
    const handle = this.backend.memory.acquire(bytes, "graph", name);
    // A graph given by its sizes only (memory planning) has no arrays to upload.
    if ("dstRowPtr" in g) {
      const data = graphArray(g, name, n);
      if (data.byteLength > 0) this.backend.write(handle, data);
    }
    const buf: Buf<H> = { handle, bytes, refs: 1, owned: true, category: "graph" };
    this.graphBuffers.set(name, buf);
    return buf;
  }

  /** Returns the graph buffers to the pool (when switching graphs or finishing). */
  releaseGraph(): void {
    for (const b of this.graphBuffers.values()) this.backend.memory.release(b.handle);
    this.graphBuffers.clear();
  }

  // ---- running ---------------------------------------------------------------------------------

  /**
   * Runs the main block. Inputs are lent: the executor takes its own references and drops them
   * after their last use (a buffer the caller has released by then may be overwritten in place).
   * Returns the outputs; the caller owns those references.
   */
  run(inputs: TensorRef<H>[], opts: RunOptions): Promise<TensorRef<H>[]> {
    this.opts = opts;
    this.fixpointStats = [];
    this.backend.memory.canonicalize();
    return this.runBlock(this.program.main, inputs, new Map(), opts.outputCategory, opts.consume);
  }

  private info(block: Block): BlockInfo {
    let info = this.blockInfo.get(block);
    if (info) return info;
    const lastUse = new Map<Value, number>();
    const identity = new Map<Step, Set<Value>>();
    block.steps.forEach((s, i) => {
      for (const v of readsOf(s)) lastUse.set(v, i);
    });
    for (const v of block.outputs) lastUse.set(v, Infinity);
    for (const s of block.steps)
      if (s.kind === "kernel") identity.set(s, new Set(s.kernel.inPlace.keys()));
    info = { lastUse, identity };
    this.blockInfo.set(block, info);
    return info;
  }

  private async runBlock(
    block: Block,
    inputs: TensorRef<H>[],
    preBound: Map<Value, View<H>>,
    outputCategory?: (index: number) => MemoryCategory,
    consume?: readonly boolean[],
  ): Promise<TensorRef<H>[]> {
    const { lastUse, identity } = this.info(block);
    const env = new Map<Value, TensorRef<H>>();
    const set = (v: Value, r: TensorRef<H>) => {
      const prev = env.get(v);
      env.set(v, this.retain(r));
      if (prev) this.release(prev);
    };
    block.inputs.forEach((v, i) => set(v, inputs[i]!));
    // A consumed input's caller reference passes to the run, so that it can die inside it.
    consume?.forEach((c, i) => c && this.release(inputs[i]!));
    // Values never read (dead inputs) can go at once.
    for (const v of block.inputs) if (!lastUse.has(v)) this.drop(env, v);
    const outIndex = new Map(block.outputs.map((v, i) => [v, i]));
    for (let i = 0; i < block.steps.length; i++) {
      const step = block.steps[i]!;
      switch (step.kind) {
        case "kernel":
          this.runKernel(
            step,
            env,
            preBound,
            identity.get(step),
            lastUse,
            i,
            outIndex,
            outputCategory,
          );
          // Timing by fences: each kernel is waited for, so that its time is its own.
          if (this.backend.timing?.method === "fence") await this.backend.finish();
          break;
        case "alias":
          set(step.to, this.get(env, step.from));
          break;
        case "scan":
          await this.runScan(step, env);
          break;
        case "fixpoint":
          await this.runFixpoint(step, env);
          break;
      }
      for (const v of readsOf(step)) if (lastUse.get(v) === i) this.drop(env, v);
      if (step.kind !== "alias")
        for (const v of writesOf(step)) if (!lastUse.has(v)) this.drop(env, v);
    }
    const outs = block.outputs.map((v) => this.retain(this.get(env, v)));
    for (const r of env.values()) this.release(r);
    return outs;
  }

  private get(env: Map<Value, TensorRef<H>>, v: Value): TensorRef<H> {
    const r = env.get(v);
    if (!r) throw new ExecutionError(`internal: value %${v.id} (${v.hint ?? "?"}) has no storage`);
    return r;
  }

  private drop(env: Map<Value, TensorRef<H>>, v: Value): void {
    const r = env.get(v);
    if (!r) return;
    env.delete(v);
    if (this.trace) this.trace.push({ value: v, ref: r });
    else this.release(r);
  }

  private runKernel(
    step: Extract<Step, { kind: "kernel" }>,
    env: Map<Value, TensorRef<H>>,
    preBound: Map<Value, View<H>>,
    identity: Set<Value> | undefined,
    lastUse: Map<Value, number>,
    index: number,
    outIndex: Map<Value, number>,
    outputCategory?: (index: number) => MemoryCategory,
  ): void {
    let spec = step.kernel;
    for (const w of step.writes) {
      const bound = preBound.get(w);
      if (bound) {
        env.set(w, this.retain(bound));
        continue;
      }
      const elements = this.elementsOf(w);
      // Overwrite in place an input read only at the written element and dead afterwards.
      let donor: { view: View<H>; value: Value } | undefined;
      for (const v of identity ?? []) {
        const r = env.get(v);
        if (
          r &&
          r.kind === "view" &&
          r.buf.refs === 1 &&
          r.elements === elements &&
          lastUse.get(v) === index
        ) {
          donor = { view: r, value: v };
          break;
        }
      }
      if (donor) {
        env.set(w, this.retain(donor.view));
        spec = spec.inPlace.get(donor.value)!;
        continue;
      }
      const o = outIndex.get(w);
      const category: MemoryCategory = this.program.workspace.has(w)
        ? "workspace"
        : o !== undefined && outputCategory
          ? outputCategory(o)
          : (this.categories.get(w) ?? "activations");
      try {
        env.set(w, this.allocate(elements, category, w.hint ?? `t${w.id}`));
      } catch (err) {
        // Name what the tensor is: its shape and the kernel that writes it (labels are `t123`).
        if (!(err instanceof BufferLimitError)) throw err;
        const where = `${shapeToString(w.shape)} = [${evalShape(w.shape, this.dims).join(", ")}], written by ${spec.name}`;
        throw new BufferLimitError(
          err.label,
          err.bytes,
          err.limit,
          err.limitBytes,
          err.category,
          err.advice,
          where,
        );
      }
    }
    const kernel = this.kernels.get(spec.code);
    if (!kernel) throw new ExecutionError(`kernel ${spec.name} was not prepared`);
    const buffers: H[] = [];
    const offsets: number[] = [];
    const elements: number[] = []; // of each operand, for the profiler's cost model
    let byRows: { operand: number; ref: RowChunks<H> } | undefined;
    spec.operands.forEach((operand, i) => {
      if (operand.kind === "graph") {
        const g = this.graphBuffer(operand.name);
        buffers.push(g.handle);
        offsets.push(0);
        elements.push(g.bytes / 4);
        return;
      }
      const r = this.get(env, operand.value);
      if (r.kind === "stack") {
        throw new ExecutionError(
          `kernel ${spec.name} reads the whole of a stacked tensor that was split into chunks`,
        );
      }
      if (r.kind === "rows") {
        // Bound chunk by chunk below.
        byRows = { operand: i, ref: r };
        buffers.push(r.chunks[0]!.handle);
        offsets.push(0);
        elements.push(r.rows * r.rowElements);
        return;
      }
      buffers.push(r.buf.handle);
      offsets.push(r.offset);
      elements.push(r.elements);
    });
    if (!byRows) {
      this.launch(spec, kernel, buffers, offsets, elements, this.dims, this.dimsWithSums);
      return;
    }
    this.launchByRows(spec, kernel, byRows.operand, byRows.ref, buffers, offsets, elements);
  }

  /**
   * The dispatches of a kernel reading `ref` (row chunks) as operand `operand`: one per chunk,
   * with the chunk bound at offset 0, the row symbol bound to its rows and the other operands'
   * views moved to them as the kernel's rowRange says.
   */
  private launchByRows(
    spec: KernelSpec,
    kernel: K,
    operand: number,
    ref: RowChunks<H>,
    buffers: H[],
    offsets: number[],
    elements: number[],
  ): void {
    const range = spec.rowRange;
    if (range?.operand !== operand) {
      throw new ExecutionError(
        `kernel ${spec.name} (${spec.kind}) reads ${describeOperand(spec, operand)} whole, but it is held in ${ref.chunks.length} row chunks (it exceeds one storage binding); only matmuls with it on the left run by chunks of rows`,
      );
    }
    if (ref.rowsPerChunk % range.align !== 0) {
      throw new ExecutionError(
        `kernel ${spec.name} runs on ranges of rows starting at multiples of ${range.align}; the chunks hold ${ref.rowsPerChunk} rows each`,
      );
    }
    ref.chunks.forEach((chunk, c) => {
      const start = c * ref.rowsPerChunk;
      const rows = Math.min(ref.rowsPerChunk, ref.rows - start);
      const shift = range.shift(this.dims, start);
      const moved = offsets.map((o, i) => (i === operand ? 0 : o + (shift[i] ?? 0)));
      const bufs = buffers.map((b, i) => (i === operand ? chunk.handle : b));
      const sizes = elements.map((e, i) => (i === operand ? rows * ref.rowElements : e));
      const dims = { ...this.dims, [range.dim]: rows };
      const withSums = { ...this.dimsWithSums, [range.dim]: rows };
      this.launch(spec, kernel, bufs, moved, sizes, dims, withSums);
    });
  }

  /** One dispatch of `spec` with its operands at these element offsets and these sizes bound. */
  private launch(
    spec: KernelSpec,
    kernel: K,
    buffers: H[],
    operandOffsets: number[],
    elements: number[],
    dims: DimBindings,
    dimsWithSums: DimBindings,
  ): void {
    // Binding 0 is the parameter block: offset words name bindings from 1.
    const offsets = [0, ...operandOffsets];
    const note = this.backend.timing?.method ? this.noteFor(spec, elements, dims) : undefined;
    let params = this.params.get(spec);
    if (!params) {
      params = new Uint32Array(Math.max(1, spec.params.length));
      this.params.set(spec, params);
    }
    spec.params.forEach((w, i) => {
      switch (w.kind) {
        case "dim":
          params![i] = evalDim(w.dim, dimsWithSums);
          break;
        case "offset":
          params![i] = offsets[w.binding]!;
          break;
        case "seed":
          params![i] = this.opts.seed >>> 0;
          break;
        case "step":
          params![i] = this.opts.step >>> 0;
          break;
      }
    });
    if (spec.custom) {
      const ctx = { dims, offsets: operandOffsets };
      const [x, y, z] = spec.custom.dispatch(ctx);
      if (x * y * z > 0)
        this.backend.dispatch(kernel, buffers, spec.custom.params(ctx), x, y, z, note);
      return;
    }
    const threads = spec.grid.threads(dims);
    const groups = Math.ceil(threads / spec.workgroupSize);
    if (groups === 0) return;
    const maxX = this.backend.maxWorkgroupsPerDimension;
    const x = Math.min(groups, maxX);
    const y = Math.ceil(groups / x);
    this.backend.dispatch(kernel, buffers, params, x, y, 1, note);
  }

  /** A value's shape, symbolic and evaluated, where the bound sizes determine it. */
  private shapeIfBound(
    v: Value,
    dims: DimBindings,
  ): { symbolic: readonly Dim[]; sizes: number[] } | undefined {
    try {
      return { symbolic: v.shape, sizes: evalShape(v.shape, dims) };
    } catch {
      return undefined; // a size bound only inside a loop: the cost model does without it
    }
  }

  /** What one dispatch of `spec` computes, for the profiler (runtime/profile/cost.ts). */
  private noteFor(spec: KernelSpec, elements: readonly number[], dims: DimBindings): DispatchNote {
    const storage = spec.bindings.filter(isStorageBinding);
    const operands = spec.operands.map((o, i) => ({
      elements: elements[i]!,
      written: storage[i]?.kind === "read_write",
      // The shapes this dispatch covers: one chunk's rows, for a kernel run by row ranges.
      shape: o.kind === "value" ? this.shapeIfBound(o.value, dims) : undefined,
    }));
    return {
      kernel: spec.name,
      kind: spec.kind,
      implements: spec.implements,
      ...(spec.custom ? { shapes: spec.grid.formula } : {}),
      ...dispatchCost(spec.kind, operands),
    };
  }

  private async runScan(
    step: Extract<Step, { kind: "scan" }>,
    env: Map<Value, TensorRef<H>>,
  ): Promise<void> {
    const { count, reverse, numCarry: nc, numXs, body } = step;
    const ins = step.inputs.map((v) => this.get(env, v));
    let carry = ins.slice(0, nc).map((r) => this.retain(r));
    const xs = ins.slice(nc, nc + numXs);
    const consts = ins.slice(nc + numXs);
    const xsSlot = step.inputs
      .slice(nc, nc + numXs)
      .map((v) => numElements(evalShape(v.shape.slice(1), this.dims)));
    const ysValues = step.outputs.slice(nc);
    const ys = ysValues.map((v) => this.allocateStack(v, v.hint ?? "stacked"));
    const ysSlot = ysValues.map((v) => numElements(evalShape(v.shape.slice(1), this.dims)));
    const bodyYs = body.outputs.slice(nc);
    // Stored values a kernel writes go straight into their slot; others (inputs kept as
    // residuals, aliases) are copied there after the iteration.
    const kernelWritten = new Set(
      body.steps.flatMap((st) => (st.kind === "kernel" ? st.writes : [])),
    );
    for (let k = 0; k < count; k++) {
      const i = reverse ? count - 1 - k : k;
      const slices = xs.map((r, j) => this.slice(r, i, xsSlot[j]!));
      const preBound = new Map<Value, View<H>>();
      bodyYs.forEach((v, j) => {
        if (kernelWritten.has(v) && !body.outputs.slice(0, nc).includes(v))
          preBound.set(v, this.slice(ys[j]!, i, ysSlot[j]!));
      });
      const outs = await this.runBlock(body, [...carry, ...slices, ...consts], preBound);
      // A stored value that no kernel wrote in place (a body input kept as a residual) is copied.
      bodyYs.forEach((v, j) => {
        if (preBound.has(v)) return;
        const src = outs[nc + j]! as View<H>;
        const dst = this.slice(ys[j]!, i, ysSlot[j]!);
        this.backend.copy(
          src.buf.handle,
          src.offset * 4,
          dst.buf.handle,
          dst.offset * 4,
          ysSlot[j]! * 4,
        );
      });
      outs.slice(nc).forEach((r) => this.release(r));
      carry.forEach((r) => this.release(r));
      carry = outs.slice(0, nc);
    }
    step.outputs.forEach((v, j) => {
      const r = j < nc ? carry[j]! : ys[j - nc]!;
      const prev = env.get(v);
      env.set(v, r);
      if (prev) this.release(prev);
    });
  }
  private async readScalar(r: TensorRef<H>): Promise<number> {
    const v = r as View<H>;
    const [x] = await this.backend.read(v.buf.handle, 1, v.offset * 4);
    return x!;
  }

  /**
   * z ← f(z) until ‖f(z) − z‖ ≤ tol·max(‖f(z)‖, 1), plain or with Anderson mixing, reading back
   * two scalars per iteration. Nothing of the iterations is kept: memory is that of the cell plus
   * the Anderson history, whatever max_iter is.
   */
  private async runFixpoint(
    step: Extract<Step, { kind: "fixpoint" }>,
    env: Map<Value, TensorRef<H>>,
  ): Promise<void> {
    const { tol, maxIter, solver, memory, tag } = step.attrs;
    const ins = step.inputs.map((v) => this.get(env, v));
    let z = this.retain(ins[0]!);
    const consts = ins.slice(1);
    const history: { fz: TensorRef<H>; r: TensorRef<H> }[] = [];
    let gram: number[][] = [];
    const alphas =
      solver === "anderson" ? this.allocate(memory, "workspace", "anderson_weights") : undefined;
    let residual = Infinity;
    let it = 0;
    while (it < maxIter) {
      // The oldest iterate leaves the history before the next one is made, so the loop never
      // holds more than `memory` of them.
      if (history.length === memory) {
        const old = history.shift()!;
        this.release(old.fz);
        this.release(old.r);
        gram = gram.slice(1).map((row) => row.slice(1));
      }
      const [fz] = await this.runBlock(step.body, [z, ...consts], new Map());
      it++;
      const [r, num, den] = await this.runBlock(step.residual, [z, fz!], new Map());
      residual =
        Math.sqrt(await this.readScalar(num!)) /
        Math.max(Math.sqrt(await this.readScalar(den!)), 1);
      this.release(num!);
      this.release(den!);
      // A plan computes nothing: it iterates until the history is full (the loop's peak).
      const converged = this.backend.plansOnly
        ? it > memory
        : residual <= tol || !Number.isFinite(residual);
      if (converged) {
        this.release(z);
        this.release(r!);
        z = fz!;
        break;
      }
      if (solver !== "anderson") {
        this.release(z);
        this.release(r!);
        z = fz!;
        continue;
      }
      history.push({ fz: fz!, r: r! });
      // ⟨r_new, r_k⟩ for every kept residual (slots past the history repeat r_new).
      const pad = (k: number) => history[k]?.r ?? r!;
      const dots = await this.runBlock(
        step.dots,
        [r!, ...Array.from({ length: memory }, (_, k) => pad(k))],
        new Map(),
      );
      const row: number[] = [];
      for (let k = 0; k < history.length; k++) row.push(await this.readScalar(dots[k]!));
      dots.forEach((d) => this.release(d));
      gram = gram.map((g, k) => [...g, row[k]!]);
      gram.push(row);
      const alpha = andersonWeightsFromGram(gram);
      this.backend.write(
        alphas!.buf.handle,
        Float32Array.from({ length: memory }, (_, k) => alpha[k] ?? 0),
      );
      const weights = Array.from({ length: memory }, (_, k): View<H> => ({
        ...alphas!,
        offset: k,
        elements: 1,
      }));
      const fs = Array.from({ length: memory }, (_, k) => history[k]?.fz ?? fz!);
      const [mixed] = await this.runBlock(step.mix, [...fs, ...weights], new Map());
      this.release(z);
      z = mixed!;
    }
    for (const h of history) {
      this.release(h.fz);
      this.release(h.r);
    }
    if (alphas) this.release(alphas);
    this.fixpointStats.push({ tag, iterations: it, residual });
    const prev = env.get(step.output);
    env.set(step.output, z);
    if (prev) this.release(prev);
  }
}

/** An operand for messages: its value's name and shape. */
function describeOperand(spec: KernelSpec, operand: number): string {
  const o = spec.operands[operand]!;
  if (o.kind === "graph") return o.name;
  return `${o.value.hint ?? `t${o.value.id}`} ${shapeToString(o.value.shape)}`;
}

function readsOf(s: Step): Value[] {
  switch (s.kind) {
    case "kernel":
      return s.kernel.operands.flatMap((o) =>
        o.kind === "value" && !s.writes.includes(o.value) ? [o.value] : [],
      );
    case "alias":
      return [s.from];
    case "scan":
    case "fixpoint":
      return s.inputs;
  }
}

function writesOf(s: Step): Value[] {
  switch (s.kind) {
    case "kernel":
      return s.writes;
    case "alias":
      return [s.to];
    case "scan":
      return s.outputs;
    case "fixpoint":
      return [s.output];
  }
}

/** A graph known by its sizes only: enough to plan memory. */
export interface GraphSize {
  numNodes: number;
  numEdges: number;
  /** Graphs in the batch (default 1). */
  numGraphs?: number;
}

/** Graphs in a batch: its offsets' count, or 1 for a graph without a batch structure. */
function numGraphsOf(g: GraphData | GraphSize): number {
  if ("dstRowPtr" in g) return g.graphPtr ? g.graphPtr.length - 1 : 1;
  return g.numGraphs ?? 1;
}

function graphArrayElements(name: GraphBufferName, n: number, e: number, graphs: number): number {
  switch (name) {
    case "graph_ptr":
      return graphs + 1;
    case "graph_id":
      return n;
    case "csr_rowptr":
    case "csc_colptr":
      return n + 1;
    case "in_degree":
    case "out_degree":
      return n;
    case "edge_src_loops":
    case "edge_dst_loops":
      return e + n;
    default:
      return e;
  }
}

function graphArray(g: GraphData, name: GraphBufferName, n: number): Uint32Array | Float32Array {
  const e = g.numEdges;
  switch (name) {
    case "csr_rowptr":
      return g.dstRowPtr;
    case "csr_src":
      return g.srcIdx;
    case "csc_colptr":
      return g.srcColPtr;
    case "csc_dst":
      return g.dstIdx;
    case "csc_eid":
      return g.cscToCsr;
    case "in_degree":
      return g.inDegree;
    case "graph_ptr":
      return g.graphPtr ?? Uint32Array.from([0, n]);
    case "graph_id": {
      const ptr = g.graphPtr ?? Uint32Array.from([0, n]);
      const out = new Uint32Array(n);
      for (let s = 0; s + 1 < ptr.length; s++) out.fill(s, ptr[s]!, ptr[s + 1]!);
      return out;
    }
    case "out_degree": {
      const out = new Float32Array(n);
      for (let k = 0; k < e; k++) out[g.srcIdx[k]!]!++;
      return out;
    }
    case "edge_src":
    case "edge_dst": {
      const out = new Uint32Array(e);
      for (let v = 0; v < n; v++) {
        for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++)
          out[k] = name === "edge_src" ? g.srcIdx[k]! : v;
      }
      return out;
    }
    case "edge_src_loops":
    case "edge_dst_loops": {
      const out = new Uint32Array(e + n);
      let p = 0;
      for (let v = 0; v < n; v++) {
        for (let k = g.dstRowPtr[v]!; k < g.dstRowPtr[v + 1]!; k++)
          out[p++] = name === "edge_src_loops" ? g.srcIdx[k]! : v;
        out[p++] = v;
      }
      return out;
    }
  }
}

export { shapeToString };
