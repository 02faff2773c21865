// Deterministic reductions (no atomics: WGSL has no float atomics, and atomics would make the
// summation order — hence the bits of the result — depend on scheduling).
//
//  - columnSum: out[c] = Σ_r X[r, c] over a long axis (bias gradients: sum over N rows of an
//    [N, D] tensor). Stage 1 (`columnPartials`) sums fixed chunks of `rowsPerChunk` rows into a
//    partial slab each; stage 2 (`slabSum`) adds the slabs in order.
//  - vectorSum: Σ_i x[i] to one scalar: stage 1 sums fixed chunks with a fixed-shape tree inside a
//    workgroup; stage 2 sums the chunk results with the same kernel until one value is left.
//  - slabSum: out[row, col] = Σ_z W[z, row, col] (+ epilogue), also used by split-K matmul.
// Chunk boundaries depend only on the problem size and the template options, never on the
// adapter's scheduling, so results are bitwise reproducible run to run on a given device.
import {
  ceilDiv,
  declareBindings,
  foldGrid,
  linearGroupId,
  packParams,
  paramsStruct,
  type Grid,
  type KernelTemplate,
  type UniformField,
} from "./template.js";
import type { BindingSpec } from "../../contract.js";

export interface SlabEpilogue {
  /** WGSL defining `fn epilogue(row: u32, col: u32, acc: f32) -> f32`. */
  code: string;
  /** Extra bindings the snippet reads; bound after the template's own buffers. */
  bindings?: (BindingSpec & { type?: string })[];
  /** Extra parameter-block fields, readable in the snippet as `params.<name>`. */
  params?: UniformField[];
}

export interface SlabSumOptions {
  /** Add into the existing output (out += Σ) instead of overwriting it. */
  accumulate?: boolean;
  epilogue?: SlabEpilogue;
  maxWorkgroupsPerDim: number;
  workgroupSize?: number;
  label?: string;
}

export interface SlabSumDims {
  /** Number of slabs (partial results) to add. */
  slabs: number;
  rows: number;
  cols: number;
  /** Element offset of slab 0 in W and the distance between slabs (default rows·cols). */
  offW?: number;
  slabStride?: number;
  /** Output view: out[offOut + row·ldOut + col] (default ldOut = cols). */
  ldOut?: number;
  offOut?: number;
  extra?: Record<string, number>;
}

const SLAB_FIELDS: UniformField[] = [
  { name: "slabs", type: "u32" },
  { name: "rows", type: "u32" },
  { name: "cols", type: "u32" },
  { name: "offW", type: "u32" },
  { name: "slabStride", type: "u32" },
  { name: "ldOut", type: "u32" },
  { name: "offOut", type: "u32" },
];

/** out[row, col] (=|+=) epilogue(row, col, Σ_z W[offW + z·slabStride + row·cols + col]). */
export function slabSum(opts: SlabSumOptions): KernelTemplate<SlabSumDims> {
  const wg = opts.workgroupSize ?? 64;
  const epi = opts.epilogue;
  const fields = [...SLAB_FIELDS, ...(epi?.params ?? [])];
  const bindings: (BindingSpec & { type?: string })[] = [
    { name: "W", kind: "read" },
    { name: "out", kind: "read_write" },
    ...(epi?.bindings ?? []),
    { name: "params", kind: "uniform" },
  ];
  const label = opts.label ?? `slab_sum${opts.accumulate ? "_acc" : ""}${epi ? "_epi" : ""}`;
  const code = `// ${label}: out[row, col] ${opts.accumulate ? "+=" : "="} ${epi ? "epilogue(row, col, " : ""}sum over z of W[z, row, col]${epi ? ")" : ""}
// One invocation per output element; the slabs are added in order z = 0, 1, ... (deterministic).
${paramsStruct("SlabParams", fields)}
${declareBindings(bindings, "SlabParams")}
${epi ? epi.code : ""}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = ${linearGroupId} * ${wg}u + lid;
  if (i >= params.rows * params.cols) { return; }
  var acc = 0.0;
  var w = params.offW + i;
  for (var z = 0u; z < params.slabs; z++) {
    acc += W[w];
    w += params.slabStride;
  }
  let row = i / params.cols;
  let col = i % params.cols;
  let o = params.offOut + row * params.ldOut + col;
  ${epi ? "acc = epilogue(row, col, acc);" : ""}
  ${opts.accumulate ? "out[o] = out[o] + acc;" : "out[o] = acc;"}
}
`;
  return {
    label,
    code,
    entryPoint: "main",
    bindings,
    workgroupSize: [wg, 1, 1],
    uniforms: fields,
    dispatch: (d) => foldGrid(ceilDiv(d.rows * d.cols, wg), opts.maxWorkgroupsPerDim),
    params: (d) =>
      packParams(fields, {
        ...d.extra,
        slabs: d.slabs,
        rows: d.rows,
        cols: d.cols,
        offW: d.offW ?? 0,
        slabStride: d.slabStride ?? d.rows * d.cols,
        ldOut: d.ldOut ?? d.cols,
        offOut: d.offOut ?? 0,
      }),
  };
}

export interface ColumnPartialsDims {
  rows: number;
  cols: number;
  /** Input view: X[offX + r·ldX + c] (default ldX = cols). */
  ldX?: number;
  offX?: number;
}

/**
 * Stage 1 of a column sum: P[z, c] = Σ_{r in chunk z} X[r, c], chunk z = rows
 * [z·rowsPerChunk, (z+1)·rowsPerChunk). One invocation per (chunk, column), rows added in order.
 * Columns are the fastest-varying invocation index, so neighbouring invocations read neighbouring
 * addresses of the same row.
 */
export function columnPartials(opts: {
  rowsPerChunk: number;
  maxWorkgroupsPerDim: number;
  workgroupSize?: number;
}): KernelTemplate<ColumnPartialsDims> & { chunks(rows: number): number } {
  const wg = opts.workgroupSize ?? 64;
  const chunk = opts.rowsPerChunk;
  const fields: UniformField[] = [
    { name: "rows", type: "u32" },
    { name: "cols", type: "u32" },
    { name: "ldX", type: "u32" },
    { name: "offX", type: "u32" },
  ];
  const bindings: BindingSpec[] = [
    { name: "X", kind: "read" },
    { name: "P", kind: "read_write" },
    { name: "params", kind: "uniform" },
  ];
  const label = `column_partials_${chunk}`;
  const code = `// ${label}: P[z, c] = sum of X[r, c] over rows r in [z*${chunk}, (z+1)*${chunk}), in row order.
${paramsStruct("ColParams", fields)}
${declareBindings(bindings, "ColParams")}
const CHUNK = ${chunk}u;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = ${linearGroupId} * ${wg}u + lid;
  let chunks = (params.rows + CHUNK - 1u) / CHUNK;
  if (i >= chunks * params.cols) { return; }
  let z = i / params.cols;
  let c = i % params.cols;
  let r0 = z * CHUNK;
  let r1 = min(params.rows, r0 + CHUNK);
  var acc = 0.0;
  var x = params.offX + r0 * params.ldX + c;
  for (var r = r0; r < r1; r++) {
    acc += X[x];
    x += params.ldX;
  }
  P[i] = acc;
}
`;
  const chunks = (rows: number) => Math.max(1, ceilDiv(rows, chunk));
  return {
    label,
    code,
    entryPoint: "main",
    bindings,
    workgroupSize: [wg, 1, 1],
    uniforms: fields,
    chunks,
    dispatch: (d) => foldGrid(ceilDiv(chunks(d.rows) * d.cols, wg), opts.maxWorkgroupsPerDim),
    params: (d) =>
      packParams(fields, { rows: d.rows, cols: d.cols, ldX: d.ldX ?? d.cols, offX: d.offX ?? 0 }),
  };
}

export interface VectorSumDims {
  count: number;
  offX?: number;
  /** Where the chunk sums go in the output buffer. */
  offOut?: number;
}

/**
 * One level of a deterministic vector sum: out[offOut + g] = Σ of x[offX + g·CHUNK ...] over a
 * chunk of `itemsPerThread · workgroupSize` elements. Each invocation adds its items in index
 * order (strided by the workgroup size so that neighbouring invocations read neighbouring
 * addresses), then a fixed binary tree in workgroup memory combines the invocations. Apply
 * repeatedly (see vectorSumLevels) until one value is left.
 */
export function vectorSum(opts: {
  workgroupSize?: number;
  itemsPerThread?: number;
  maxWorkgroupsPerDim: number;
}): KernelTemplate<VectorSumDims> & { chunk: number } {
  const wg = opts.workgroupSize ?? 64;
  if ((wg & (wg - 1)) !== 0) throw new Error("vectorSum: workgroup size must be a power of two");
  const per = opts.itemsPerThread ?? 64;
  const chunk = wg * per;
  const fields: UniformField[] = [
    { name: "count", type: "u32" },
    { name: "offX", type: "u32" },
    { name: "offOut", type: "u32" },
  ];
  const bindings: BindingSpec[] = [
    { name: "X", kind: "read" },
    { name: "out", kind: "read_write" },
    { name: "params", kind: "uniform" },
  ];
  const label = `vector_sum_${wg}x${per}`;
  const code = `// ${label}: out[g] = sum of X[g*${chunk} .. (g+1)*${chunk}) in a fixed order:
// invocation t adds items t, t+${wg}, t+${2 * wg}, ... then a binary tree over the ${wg} invocations.
${paramsStruct("SumParams", fields)}
${declareBindings(bindings, "SumParams")}
var<workgroup> partial: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let g = ${linearGroupId};
  let begin = g * ${chunk}u;
  var acc = 0.0;
  for (var j = 0u; j < ${per}u; j++) {
    let i = begin + j * ${wg}u + lid;
    if (i < params.count) { acc += X[params.offX + i]; }
  }
  partial[lid] = acc;
  for (var width = ${wg / 2}u; width > 0u; width >>= 1u) {
    workgroupBarrier();
    if (lid < width) { partial[lid] += partial[lid + width]; }
  }
  if (lid == 0u && begin < max(params.count, 1u)) { out[params.offOut + g] = partial[0]; }
}
`;
  return {
    label,
    code,
    entryPoint: "main",
    bindings,
    workgroupSize: [wg, 1, 1],
    uniforms: fields,
    chunk,
    dispatch: (d) => foldGrid(Math.max(1, ceilDiv(d.count, chunk)), opts.maxWorkgroupsPerDim),
    params: (d) => packParams(fields, { count: d.count, offX: d.offX ?? 0, offOut: d.offOut ?? 0 }),
  };
}

/**
 * Element counts of successive vectorSum levels: [count, after level 1, ..., 1]. There is always
 * at least one level, so even count = 0 or 1 yields a written scalar.
 */
export function vectorSumLevels(count: number, chunk: number): number[] {
  const levels = [count];
  let n = count;
  do {
    n = Math.max(1, ceilDiv(n, chunk));
    levels.push(n);
  } while (n > 1);
  return levels;
}

export type { Grid };
