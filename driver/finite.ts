// The finiteness check of a training step: after each update, count the NaN and the ±Infinity
// values of every parameter and optimizer-state tensor on the device, and read the counts back
// with the loss (one readback per step, as before).
//
// Why the loss alone is not enough: on lavapipe (and any Vulkan driver that does not preserve NaN)
// `max` and `relu` turn NaN into a finite number, so a run whose weights are all NaN can still
// report a finite loss, and an Adam second moment that overflowed to Infinity freezes its weight
// (update m/∞ = 0) without a trace in the loss. The test is on the bit pattern (exponent all
// ones), in integer arithmetic, which no floating-point optimisation may fold away — `x != x`
// and `x - x` may be.
//
// One dispatch covers up to MAX_PER_DISPATCH tensors (one storage binding each), so a step costs
// ceil(tensors / MAX_PER_DISPATCH) dispatches, each reading the weights and state once; each
// invocation accumulates in registers and touches the counters only when it found something.
import type { Backend } from "../runtime/exec/backend.js";
import {
  chunkElements,
  elementsOfRef,
  type Executor,
  type TensorRef,
  type View,
} from "../runtime/exec/executor.js";
import {
  declareBindings,
  paramsStruct,
  type UniformField,
} from "../compiler/codegen/templates/template.js";
import type { KernelSpec } from "../compiler/contract.js";

/** Tensors per dispatch: 3 parameter words each must fit the 64-word parameter block. */
const MAX_PER_DISPATCH = 15;
const WORKGROUP = 64;
/** Elements each invocation scans at least, so small tensors do not launch idle workgroups. */
const PER_INVOCATION = 16;
/** Enough workgroups to occupy a GPU; the loop strides over larger tensors. */
const MAX_WORKGROUPS = 4096;

export interface NonFiniteTensor {
  name: string;
  nan: number;
  inf: number;
  elements: number;
}

/** Thrown by a training step whose update left NaN or ±Infinity in a parameter or its state. */
export class NonFiniteStateError extends Error {
  constructor(
    /** The affected tensors, parameters first, in the order of the step's outputs. */
    readonly tensors: NonFiniteTensor[],
    /** The optimizer step (1-based) whose update produced them. */
    readonly step: number,
    /** The loss of that step (as read back; possibly finite even so). */
    readonly loss: number,
  ) {
    super(`non-finite values after optimizer step ${step}: ${describeTensors(tensors)}`);
  }
}

/** "W_in (12 NaN of 32), and 3 more tensors". */
export function describeTensors(tensors: readonly NonFiniteTensor[]): string {
  const t = tensors[0]!;
  const what = [t.nan ? `${t.nan} NaN` : "", t.inf ? `${t.inf} infinite` : ""]
    .filter(Boolean)
    .join(" and ");
  const more = tensors.length - 1;
  return `${t.name} (${what} of ${t.elements} values)${more > 0 ? `, and ${more} more tensor${more === 1 ? "" : "s"}` : ""}`;
}

function fields(k: number): UniformField[] {
  const f: UniformField[] = [];
  for (let i = 0; i < k; i++)
    f.push(
      { name: `n${i}`, type: "u32" },
      { name: `o${i}`, type: "u32" },
      { name: `s${i}`, type: "u32" },
    );
  return f;
}

/** The kernel for k tensors: counts[s_i] += NaNs of t_i, counts[s_i + 1] += infinities. */
export function finiteCheckKernel(k: number): KernelSpec {
  const bindings = [
    ...Array.from({ length: k }, (_, i) => ({
      name: `t${i}`,
      kind: "read" as const,
      type: "array<u32>",
    })),
    { name: "counts", kind: "read_write" as const, type: "array<atomic<u32>>" },
    { name: "params", kind: "uniform" as const },
  ];
  const scan = (i: number) => `  {
    var nan = 0u;
    var inf = 0u;
    for (var j = gid.x; j < params.n${i}; j += stride) {
      let e = t${i}[params.o${i} + j] & 0x7fffffffu;
      nan += select(0u, 1u, e > 0x7f800000u);
      inf += select(0u, 1u, e == 0x7f800000u);
    }
    if (nan > 0u) { atomicAdd(&counts[params.s${i}], nan); }
    if (inf > 0u) { atomicAdd(&counts[params.s${i} + 1u], inf); }
  }`;
  const code = `// finite_check_${k}: NaN and ±Infinity counts of ${k} float32 tensors, by bit pattern
// (exponent all ones: mantissa ≠ 0 is NaN, = 0 is infinite), in integer arithmetic.
${paramsStruct("FiniteParams", fields(k))}
${declareBindings(bindings, "FiniteParams")}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * ${WORKGROUP}u;
${Array.from({ length: k }, (_, i) => scan(i)).join("\n")}
}
`;
  return {
    name: `finite_check_${k}`,
    code,
    entryPoint: "main",
    bindings: bindings.map(({ name, kind }) => ({ name, kind })),
    operands: [],
    params: [],
    workgroupSize: WORKGROUP,
    grid: { formula: "finite check", threads: () => 0 },
    implements: [],
    kind: "finite_check",
    inPlace: new Map(),
  };
}

interface Part<H> {
  handle: H;
  offset: number;
  elements: number;
  /** Index of the tensor it belongs to. */
  tensor: number;
}

function parts<H>(refs: readonly TensorRef<H>[]): Part<H>[] {
  const out: Part<H>[] = [];
  refs.forEach((r, tensor) => {
    if (r.kind === "view") {
      out.push({ handle: r.buf.handle, offset: r.offset, elements: r.elements, tensor });
      return;
    }
    const sizes = chunkElements(r);
    r.chunks.forEach((c, i) =>
      out.push({ handle: c.handle, offset: 0, elements: sizes[i]!, tensor }),
    );
  });
  return out;
}

/**
 * Counts non-finite values of a fixed list of tensors (by position) into a small device buffer
 * laid out [loss, then NaN and infinite counts of each tensor], read back in one go.
 */
export class FiniteCheck<H, K> {
  private kernel?: Promise<K>;
  private counts?: View<H>;
  readonly perDispatch: number;

  constructor(
    private readonly backend: Backend<H, K>,
    /** Tensor names, in the order `run` receives them. */
    readonly names: readonly string[],
  ) {
    this.perDispatch = Math.max(
      1,
      Math.min(MAX_PER_DISPATCH, backend.maxStorageBuffers - 1, names.length),
    );
  }

  /** Compiles the kernel (once). */
  prepare(): Promise<K> {
    this.kernel ??= this.backend.compile(finiteCheckKernel(this.perDispatch));
    return this.kernel;
  }

  /** The counter buffer, from the executor's pool (workspace, so that the memory plan has it). */
  allocate(ex: Pick<Executor<H, K>, "allocate">): void {
    this.counts ??= ex.allocate(1 + 2 * this.names.length, "workspace", "finite_counts");
  }

  /**
   * Records the check of `tensors` (in `names` order) and the copy of the loss next to the
   * counts, then reads both back: the step's one synchronisation.
   */
  async run(
    tensors: readonly TensorRef<H>[],
    loss: View<H>,
  ): Promise<{ loss: number; bad: NonFiniteTensor[] }> {
    const counts = this.counts!;
    const kernel = await this.prepare();
    const be = this.backend;
    const words = 1 + 2 * this.names.length;
    be.write(counts.buf.handle, new Uint32Array(words), counts.offset * 4);
    const all = parts(tensors);
    const k = this.perDispatch;
    for (let first = 0; first < all.length; first += k) {
      const group = all.slice(first, first + k);
      const values: number[] = [];
      const handles: H[] = [];
      let largest = 0;
      for (let i = 0; i < k; i++) {
        const p = group[i];
        // Unused bindings repeat the first tensor with a count of 0 (read-only bindings may alias).
        handles.push((p ?? group[0]!).handle);
        values.push(p?.elements ?? 0, p?.offset ?? 0, p ? counts.offset + 1 + 2 * p.tensor : 0);
        largest = Math.max(largest, p?.elements ?? 0);
      }
      handles.push(counts.buf.handle);
      const params = new Uint32Array(Math.max(4, Math.ceil(values.length / 4) * 4));
      params.set(values);
      const groups = Math.min(
        MAX_WORKGROUPS,
        Math.max(1, Math.ceil(largest / (WORKGROUP * PER_INVOCATION))),
      );
      be.dispatch(kernel, handles, params, groups, 1, 1);
    }
    be.copy(loss.buf.handle, loss.offset * 4, counts.buf.handle, counts.offset * 4, 4);
    const read = await be.read(counts.buf.handle, words, counts.offset * 4);
    const u = new Uint32Array(read.buffer, read.byteOffset, words);
    const elements = tensors.map(elementsOfRef);
    const bad: NonFiniteTensor[] = [];
    this.names.forEach((name, i) => {
      const nan = u[1 + 2 * i]!;
      const inf = u[2 + 2 * i]!;
      if (nan + inf > 0) bad.push({ name, nan, inf, elements: elements[i]! });
    });
    return { loss: read[0]!, bad };
  }
}
