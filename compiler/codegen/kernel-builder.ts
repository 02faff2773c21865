// Assembles one WGSL compute kernel: named storage bindings, the per-dispatch parameter block
// (symbolic sizes, element offsets of views, the dropout keys), helper functions, and the body.
// Names are derived from the IR's value hints and made unique in order, so the same IR always
// gives the same text (the pipeline cache key, and what golden tests pin).
import type { Dim } from "../ir/types.js";
import { dimToString } from "../ir/dims.js";
import type { Value } from "../ir/types.js";
import { WGSL_RNG } from "../ir/rng.js";
import type {
  BindingSpec,
  GraphBufferName,
  Grid,
  KernelSpec,
  Operand,
  ParamWord,
} from "../contract.js";

const RESERVED = new Set([
  "main",
  "array",
  "var",
  "let",
  "fn",
  "return",
  "loop",
  "for",
  "if",
  "else",
  "u32",
  "f32",
  "i32",
  "bool",
  "vec2",
  "vec3",
  "vec4",
  "select",
  "min",
  "max",
  "exp",
  "log",
  "sqrt",
  "step",
  "sign",
  "abs",
  "tanh",
  "P",
  "Params",
  "idx",
  "gid",
  "wid",
  "lid",
  "nwg",
  "switch",
  "case",
  "default",
  "break",
  "continue",
  "struct",
  "const",
  "override",
  "true",
  "false",
  "ptr",
  "mat2x2",
  "type",
  "enable",
  "alias",
  "atomic",
  "sampler",
  "texture",
  "uniform",
  "storage",
  "read",
  "write",
]);

/** Names the generated kernel bodies use for their own variables and temporaries. */
const KERNEL_LOCALS =
  /^(r|r0|r1|k|k0|k1|c|q|t|acc\d*|p|p0|p1|tiles|i0|j0|ia\d+|jb\d+|bv|chunks?|node|row|col|rd\d+|ex\d+)$/;

function sanitize(hint: string): string {
  const last = hint.split(".").pop() ?? hint;
  let s = last.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+/, "");
  if (!s || /^[0-9]/.test(s)) s = `v${s}`;
  if (RESERVED.has(s) || KERNEL_LOCALS.test(s) || s.startsWith("__")) s = `${s}_`;
  return s.slice(0, 24);
}

/** The largest finite float32: WGSL's constant evaluation rejects infinities. */
export const F32_MAX = "3.4028234663852886e38";

export function f32Literal(x: number): string {
  if (Number.isNaN(x)) throw new Error("codegen: NaN constant");
  if (x === Infinity) return F32_MAX;
  if (x === -Infinity) return `-${F32_MAX}`;
  const f = Math.fround(x);
  if (f !== 0 && Math.abs(f) < 1.1754944e-38) return "0.0"; // denormals flush on most GPUs
  let s = String(f);
  if (!/[.eE]/.test(s)) s += ".0";
  if (/e/.test(s) && !/\./.test(s.split("e")[0]!)) s = s.replace("e", ".0e");
  return s;
}

export class KernelBuilder {
  readonly bindings: BindingSpec[] = [{ name: "P", kind: "uniform" }];
  readonly operands: Operand[] = [];
  readonly params: ParamWord[] = [];
  private readonly paramNames: string[] = [];
  private readonly used = new Set<string>(["P"]);
  /** Unnamed values are numbered per kernel (t0, t1, …), never by their global value id, so
   *  the text depends only on the kernel: deterministic output and pipeline-cache hits. */
  private unnamed = 0;
  private readonly byValue = new Map<Value, number>();
  private readonly byGraph = new Map<GraphBufferName, number>();
  private readonly paramIndex = new Map<string, number>();
  readonly helpers = new Set<string>();
  /** Linear index expressions each value is read at (to find values read only element-wise). */
  private readonly reads = new Map<Value, Set<string>>();
  private readonly aliases = new Map<Value, Value>();
  readonly implements: string[] = [];

  constructor(readonly kind: string) {}

  private uniqueName(base: string): string {
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** The binding that holds v (bound once per kernel); returns its WGSL name. */
  value(v: Value, access: "read" | "read_write"): string {
    v = this.aliases.get(v) ?? v;
    const existing = this.byValue.get(v);
    if (existing !== undefined) {
      const b = this.bindings[existing]!;
      if (access === "read_write") b.kind = "read_write";
      return b.name;
    }
    const name = this.uniqueName(sanitize(v.hint ?? `t${this.unnamed++}`));
    this.bindings.push({ name, kind: access });
    this.operands.push({ kind: "value", value: v });
    this.byValue.set(v, this.bindings.length - 1);
    this.param({ kind: "offset", binding: this.bindings.length - 1 }, `off_${name}`);
    return name;
  }

  noteRead(v: Value, index: string): void {
    const set = this.reads.get(v) ?? new Set<string>();
    set.add(index);
    this.reads.set(v, set);
  }

  /**
   * Values read only at the elements the kernel writes (`indices`, each read where it is
   * written): candidates to overwrite.
   */
  inPlaceCandidates(indices: string[], out: Value): Value[] {
    const found: Value[] = [];
    for (const [v, set] of this.reads)
      if (v !== out && [...set].every((i) => indices.includes(i))) found.push(v);
    return found;
  }

  /**
   * Makes the kernel write `out` through the binding of `into` (an in-place variant): WebGPU
   * forbids binding one buffer twice when one binding is writable, so the variant binds it once.
   */
  writeInto(out: Value, into: Value): void {
    this.aliases.set(out, into);
  }

  /** Element offset of v's view inside its buffer. */
  offset(v: Value): string {
    v = this.aliases.get(v) ?? v;
    const name = this.bindings[this.byValue.get(v)!]!.name;
    return `P.off_${name}`;
  }

  graph(name: GraphBufferName): string {
    if (!this.byGraph.has(name)) {
      this.used.add(name);
      this.bindings.push({ name, kind: "read" });
      this.operands.push({ kind: "graph", name });
      this.byGraph.set(name, this.bindings.length - 1);
    }
    return name;
  }

  private param(word: ParamWord, name: string): string {
    const existing = this.paramIndex.get(name);
    if (existing === undefined) {
      this.paramIndex.set(name, this.params.length);
      this.params.push(word);
      this.paramNames.push(name);
    }
    return `P.${name}`;
  }

  /** A WGSL u32 expression for a dimension: a literal when known, else a parameter. */
  dim(d: Dim): string {
    if (typeof d === "number") return `${d}u`;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) return this.param({ kind: "dim", dim: d }, `dim_${d}`);
    // Sums such as E+N get their own word, evaluated by the runtime.
    return this.param({ kind: "dim", dim: d }, `dim_${d.replace(/[^A-Za-z0-9]/g, "_")}`);
  }

  /** A WGSL u32 expression for a count the driver should not see as a constant: a parameter. */
  count(d: Dim): string {
    if (typeof d !== "number") return this.dim(d);
    return this.param({ kind: "dim", dim: d }, `count_${d}`);
  }

  seed(): string {
    this.helpers.add(WGSL_RNG);
    return this.param({ kind: "seed" }, "seed");
  }

  step(): string {
    this.helpers.add(WGSL_RNG);
    return this.param({ kind: "step" }, "step");
  }

  /** The complete WGSL text. */
  finish(
    name: string,
    body: string,
    workgroupSize: number,
    header: string[],
    grid: Grid,
  ): KernelSpec {
    const paramFields = this.paramNames.length
      ? this.paramNames.map((n) => `  ${n}: u32,`)
      : ["  unused: u32,"];
    const decls = this.bindings.map((b, i) => {
      if (b.kind === "uniform") return `@group(0) @binding(${i}) var<uniform> P: Params;`;
      const elem =
        this.operands[i - 1]!.kind === "graph" && !["in_degree", "out_degree"].includes(b.name)
          ? "u32"
          : "f32";
      return `@group(0) @binding(${i}) var<storage, ${b.kind === "read" ? "read" : "read_write"}> ${b.name}: array<${elem}>;`;
    });
    const code = [
      `// revgnn kernel ${name} (${this.kind})`,
      ...header.map((h) => `// ${h}`),
      `// implements IR ops: ${[...new Set(this.implements)].join(", ") || "(copy)"}`,
      `// invocations: ${grid.formula}`,
      "",
      "struct Params {",
      ...paramFields,
      "}",
      "",
      ...decls,
      ...[...this.helpers],
      "",
      `@compute @workgroup_size(${workgroupSize})`,
      "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
      `  let idx = (wid.y * nwg.x + wid.x) * ${workgroupSize}u + lid;`,
      body,
      "}",
      "",
    ].join("\n");
    return {
      name,
      code,
      entryPoint: "main",
      bindings: this.bindings,
      operands: this.operands,
      params: this.params,
      workgroupSize,
      grid,
      implements: [...new Set(this.implements)],
      kind: this.kind,
      inPlace: new Map(),
    };
  }
}

/** Grid helpers: a product of dimensions, and ceil-divisions of it. */
export function gridOf(dims: Dim[], extra?: { divide?: number; times?: Dim[] }): Grid {
  const parts = dims.map(dimToString);
  const times = (extra?.times ?? []).map(dimToString);
  const base = parts.length ? parts.join("*") : "1";
  const formula = extra?.divide
    ? `ceil(${base}/${extra.divide})${times.length ? "*" + times.join("*") : ""}`
    : [base, ...times].join("*");
  return {
    formula,
    threads: (b) => {
      const ev = (d: Dim) => (typeof d === "number" ? d : evalSymbolic(d, b));
      let n = dims.reduce<number>((acc, d) => acc * ev(d), 1);
      if (extra?.divide) n = Math.ceil(n / extra.divide);
      for (const t of extra?.times ?? []) n *= ev(t);
      return n;
    },
  };
}

function evalSymbolic(d: string, b: Readonly<Record<string, number>>): number {
  return d
    .split("+")
    .reduce((acc, t) => acc + (/^\d+$/.test(t.trim()) ? Number(t) : b[t.trim()]!), 0);
}
