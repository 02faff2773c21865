import type { BindingSpec, KernelSource } from "../../contract.js";
// What every kernel template returns, and the helpers templates share: the uniform parameter
// block (layout + packing), workgroup-grid folding for large 1-D launches, and small WGSL
// snippets. A template is a pure function of its options: the same options give the same WGSL
// text, which is the pipeline cache key.

export type ScalarType = "u32" | "i32" | "f32";

export interface UniformField {
  name: string;
  type: ScalarType;
}

export type Grid = [number, number, number];

export interface KernelTemplate<D> extends KernelSource {
  label: string;
  workgroupSize: Grid;
  /** The per-dispatch parameter block, in struct order (binding kind "uniform"). */
  uniforms: readonly UniformField[];
  /** Workgroup counts for a problem. */
  dispatch(dims: D): Grid;
  /** The packed parameter block for a problem (pass it to CommandStream.dispatch). */
  params(dims: D): Uint32Array;
}

/** WGSL struct declaration for a parameter block (padded to 16 bytes as uniform layout needs). */
export function paramsStruct(name: string, fields: readonly UniformField[]): string {
  const lines = fields.map((f) => `  ${f.name}: ${f.type},`);
  for (let i = fields.length; i % 4 !== 0 || i === 0; i++) lines.push(`  _pad${i}: u32,`);
  return `struct ${name} {\n${lines.join("\n")}\n}`;
}

/** Packs values into a parameter block; missing values are 0, f32 fields are stored as bits. */
export function packParams(
  fields: readonly UniformField[],
  values: Readonly<Record<string, number | undefined>>,
): Uint32Array {
  const words = Math.max(4, Math.ceil(fields.length / 4) * 4);
  const out = new Uint32Array(words);
  const asF32 = new Float32Array(out.buffer);
  const asI32 = new Int32Array(out.buffer);
  fields.forEach((f, i) => {
    const v = values[f.name] ?? 0;
    if (f.type === "f32") asF32[i] = v;
    else if (f.type === "i32") asI32[i] = v;
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new RangeError(`parameter ${f.name} = ${v} is not a u32`);
      }
      out[i] = v;
    }
  });
  return out;
}

/** Storage binding declarations, `@group(0) @binding(i)`, in order. */
export function declareBindings(
  bindings: readonly (BindingSpec & { type?: string })[],
  paramsType: string,
): string {
  return bindings
    .map((b, i) => {
      if (b.kind === "uniform")
        return `@group(0) @binding(${i}) var<uniform> ${b.name}: ${paramsType};`;
      const access = b.kind === "read" ? "read" : "read_write";
      return `@group(0) @binding(${i}) var<storage, ${access}> ${b.name}: ${b.type ?? "array<f32>"};`;
    })
    .join("\n");
}

/**
 * Splits `groups` workgroups into an (x, y) grid that respects maxComputeWorkgroupsPerDimension;
 * kernels recover the linear id with `linearGroupId` (some trailing groups may be idle).
 */
export function foldGrid(groups: number, maxPerDim: number): Grid {
  if (groups <= maxPerDim) return [Math.max(groups, 0), 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/** WGSL expression for the linear workgroup index of a folded grid. */
export const linearGroupId = "(wid.y * nwg.x + wid.x)";

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** A WGSL identifier check for names that callers splice into generated code. */
export function assertIdent(name: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new Error(`${what}: "${name}" is not a WGSL identifier`);
}
