// WGSL matmul templates: C[M, N] = op(A) · op(B) for the three forms a GNN needs
//   "nn": A[M, K] · B[K, N]     (X · W, M up to ~170k rows, K, N = 16..512)
//   "nt": A[M, K] · B[N, K]ᵀ    (dY · Wᵀ)
//   "tn": A[K, M]ᵀ · B[K, N]    (Xᵀ · dY: the inner dimension is the long node axis; split-K)
// Every operand is a strided view: element (i, j) of a [rows, cols] operand lives at
// off + i·ld + j, so channel-group slices of wider [N, D] tensors need no copy.
//
// Two variants, chosen per adapter class by the tuning (compiler/target.ts):
//  - "subgroup" (CPU drivers: lavapipe/llvmpipe, 8-wide SIMD across invocations). Each invocation
//    owns TM rows × TN columns of C in registers; the TN columns are the same for the whole
//    workgroup. The lane-varying operand (A) is read with vec4 loads; the tile of B needed by
//    the whole subgroup for four k-steps is loaded once cooperatively (one vec4 per lane) and
//    handed out with subgroupBroadcast. On llvmpipe every load inside a loop costs a per-lane
//    loop, while a broadcast is one shuffle, so this cuts the loads per FMA ~8×. Workgroup
//    memory is not used: barriers are coroutine switches on llvmpipe and measured slower.
//    Measured on lavapipe (2 cores): 64 invocations × 2 rows × 16 columns (32 vec4
//    accumulators, the register file) beat 1×8, 1×16, 2×8, 4×8, 4×16 and 2×32.
//  - "tiled" (GPUs): classic 64×64 output tile per 16×16 workgroup, 4×4 per invocation (strided
//    by 16 so neighbouring invocations touch neighbouring addresses), K-tiles of 16 staged in
//    padded workgroup memory. Checked for correctness on lavapipe; not timed on a GPU here.
// Both handle shapes that are not tile multiples (rows/cols are clamped for loads and masked for
// stores; k beyond K reads as 0) and take an optional fused epilogue and accumulate mode.
//
// Split-K ("tn" with a long K): `matmulSplitK` returns a partial kernel that writes one [M, N]
// slab per K-chunk into a workspace and a `slabSum` kernel that adds the slabs in order and
// applies the epilogue: deterministic, no atomics.
import type { Tuning } from "../../target.js";
import { slabSum, type SlabEpilogue, type SlabSumDims } from "./reduce.js";
import {
  assertIdent,
  ceilDiv,
  declareBindings,
  packParams,
  paramsStruct,
  type Grid,
  type KernelTemplate,
  type UniformField,
} from "./template.js";
import type { BindingSpec } from "../../contract.js";

export type MatmulForm = "nn" | "nt" | "tn";

/** A fused epilogue: `fn epilogue(row: u32, col: u32, acc: f32) -> f32` (e.g. + bias[col]). */
export type MatmulEpilogue = SlabEpilogue;

export interface MatmulOptions {
  form: MatmulForm;
  /**
   * The caller guarantees that every leading dimension, every offset and N (and M for "tn")
   * are multiples of 4, which allows vec4 loads and stores. Checked in params().
   */
  vec4?: boolean;
  /** C += result instead of C = result (applied after the epilogue). */
  accumulate?: boolean;
  epilogue?: MatmulEpilogue;
  /** Overrides the tuning's variant (tests use this to check both on one adapter). */
  variant?: "subgroup" | "tiled";
  /**
   * The N the kernel will mostly run with, if known when generating: the "subgroup" variant
   * then narrows its column block for small N (e.g. 7 classes) instead of computing padding.
   * Any N still works.
   */
  nHint?: number;
  /**
   * The M the kernel will mostly run with, if known: the "subgroup" variant then narrows its
   * workgroup to the subgroups that have rows to compute. A weight gradient Xᵀ·dY at D = 32 has
   * M = 32 rows, 8 invocations' worth at 4 rows each; a 32-wide workgroup computed 3/4 padding.
   * Any M still works.
   */
  mHint?: number;
  label?: string;
}

export interface MatmulDims {
  m: number;
  n: number;
  k: number;
  /** Leading dimensions (row strides) of the stored operands; defaults are the dense ones. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Element offsets of the operands in their buffers. */
  offA?: number;
  offB?: number;
  offC?: number;
  /** Values of the epilogue's extra parameter fields. */
  extra?: Record<string, number>;
}

export interface MatmulKernel extends KernelTemplate<MatmulDims> {
  form: MatmulForm;
  variant: "subgroup" | "tiled";
}

const BASE_FIELDS: UniformField[] = [
  { name: "m", type: "u32" },
  { name: "n", type: "u32" },
  { name: "k", type: "u32" },
  { name: "lda", type: "u32" },
  { name: "ldb", type: "u32" },
  { name: "ldc", type: "u32" },
  { name: "offA", type: "u32" },
  { name: "offB", type: "u32" },
  { name: "offC", type: "u32" },
  // Split-K: invocation z covers k in [z·kChunk, (z+1)·kChunk) and writes slab z at
  // offC + z·m·ldc. Plain kernels run with kChunk = k and one z.
  { name: "kChunk", type: "u32" },
];

interface Resolved {
  form: MatmulForm;
  vec4: boolean;
  accumulate: boolean;
  epilogue: MatmulEpilogue | undefined;
  splitK: boolean;
  nHint: number | undefined;
  mHint: number | undefined;
  fields: UniformField[];
  bindings: (BindingSpec & { type?: string })[];
  label: string;
}

/** The matmul kernel for `opts` on an adapter with `tuning`. */
export function matmul(opts: MatmulOptions, tuning: Tuning): MatmulKernel {
  const variant = opts.variant ?? tuning.matmul.variant;
  return build(resolve(opts, false, variant), variant, tuning);
}

export interface SplitKPlan {
  partial: MatmulKernel;
  reduce: KernelTemplate<SlabSumDims>;
  /** Number of K-chunks (partial slabs) for a problem. */
  chunks(dims: MatmulDims): number;
  /** Workspace floats the partial slabs need. */
  workspaceFloats(dims: MatmulDims): number;
  /** Dimensions for the partial kernel (its C is the workspace). */
  partialDims(dims: MatmulDims): MatmulDims;
  /** Dimensions for the slab-sum kernel (its output is the real C view). */
  reduceDims(dims: MatmulDims): SlabSumDims;
}

/**
 * Split-K for a long inner dimension (any form; meant for "tn": Xᵀ·dY over all nodes).
 * Run `partial` with (workspace as C) then `reduce` with (workspace, C, epilogue bindings...).
 */
export function matmulSplitK(opts: MatmulOptions, tuning: Tuning): SplitKPlan {
  const chunkRows = tuning.splitKRows;
  if (chunkRows % 4 !== 0)
    throw new Error("matmulSplitK: tuning.splitKRows must be a multiple of 4");
  const variant = opts.variant ?? tuning.matmul.variant;
  const partialOpts = { ...opts, accumulate: false, epilogue: undefined };
  const partial = build(resolve(partialOpts, true, variant), variant, tuning);
  const reduce = slabSum({
    accumulate: opts.accumulate,
    epilogue: opts.epilogue,
    maxWorkgroupsPerDim: tuning.maxWorkgroupsPerDim,
    workgroupSize: tuning.elementwiseWorkgroup,
    label: `${partial.label}_reduce`,
  });
  const chunks = (d: MatmulDims) => Math.max(1, ceilDiv(d.k, chunkRows));
  return {
    partial,
    reduce,
    chunks,
    workspaceFloats: (d) => Math.max(1, chunks(d) * d.m * d.n),
    partialDims: (d) => ({ ...d, ldc: d.n, offC: 0, extra: { kChunk: chunkRows } }),
    reduceDims: (d) => ({
      slabs: chunks(d),
      rows: d.m,
      cols: d.n,
      ldOut: d.ldc ?? d.n,
      offOut: d.offC ?? 0,
      extra: d.extra,
    }),
  };
}

function resolve(opts: MatmulOptions, splitK: boolean, variant: "subgroup" | "tiled"): Resolved {
  const epi = opts.epilogue;
  const extraFields = epi?.params ?? [];
  const extraBindings = epi?.bindings ?? [];
  for (const f of extraFields) assertIdent(f.name, "epilogue parameter");
  for (const b of extraBindings) assertIdent(b.name, "epilogue binding");
  // The tiled variant stages everything through workgroup memory with scalar loads, where vec4
  // buys nothing; ignoring the flag there keeps one pipeline per form instead of two.
  const vec4 = Boolean(opts.vec4) && variant === "subgroup";
  const bindings: (BindingSpec & { type?: string })[] = [
    { name: "A", kind: "read", type: vec4 ? "array<vec4f>" : "array<f32>" },
    { name: "B", kind: "read", type: vec4 ? "array<vec4f>" : "array<f32>" },
    { name: "C", kind: "read_write", type: vec4 ? "array<vec4f>" : "array<f32>" },
    ...extraBindings,
    { name: "params", kind: "uniform" },
  ];
  const names = new Set<string>();
  for (const b of bindings) {
    if (names.has(b.name)) throw new Error(`matmul: binding name "${b.name}" used twice`);
    names.add(b.name);
  }
  const tag = [
    opts.form,
    vec4 ? "v4" : "s",
    opts.accumulate ? "acc" : "",
    epi ? "epi" : "",
    splitK ? "splitk" : "",
  ].filter(Boolean);
  return {
    form: opts.form,
    vec4,
    accumulate: Boolean(opts.accumulate),
    epilogue: epi,
    splitK,
    nHint: opts.nHint,
    mHint: opts.mHint,
    fields: [...BASE_FIELDS, ...extraFields],
    bindings,
    label: opts.label ?? `matmul_${tag.join("_")}`,
  };
}

function build(r: Resolved, v: "subgroup" | "tiled", tuning: Tuning): MatmulKernel {
  if (v === "subgroup" && !tuning.subgroupSize) {
    throw new Error("matmul: the subgroup variant needs an adapter with a fixed subgroup size");
  }
  const body = v === "subgroup" ? subgroupBody(r, tuning) : tiledBody(r);
  const label = `${r.label}_${v}`;
  const code = [
    `// ${label}: ${describe(r)}`,
    `// Operand (i, j) of a stored [rows, cols] view is X[offX + i*ldX + j]; ${r.vec4 ? "vec4 loads/stores (all dims and strides multiples of 4)" : "scalar loads"}.`,
    body.header,
    body.usesSubgroups ? "enable subgroups;" : "",
    paramsStruct("MatmulParams", r.fields),
    declareBindings(r.bindings, "MatmulParams"),
    r.epilogue ? r.epilogue.code : "",
    commonFns(r),
    body.code,
  ]
    .filter((s) => s.length > 0)
    .join("\n");
  const fields = r.fields;
  const wgs = body.workgroupSize;
  return {
    label,
    code,
    entryPoint: "main",
    bindings: r.bindings,
    workgroupSize: wgs,
    uniforms: fields,
    form: r.form,
    variant: v,
    dispatch: (d) => {
      const z = r.splitK ? Math.max(1, ceilDiv(d.k, d.extra?.kChunk ?? d.k)) : 1;
      return [ceilDiv(d.m, body.rowsPerGroup), ceilDiv(d.n, body.colsPerGroup), z];
    },
    params: (d) => {
      const p = withDefaults(r.form, d);
      if (r.vec4) checkVec4(r.form, p, label);
      return packParams(fields, { ...d.extra, ...p, kChunk: d.extra?.kChunk ?? p.k });
    },
  };
}

type FullDims = Required<Omit<MatmulDims, "extra">>;

function withDefaults(form: MatmulForm, d: MatmulDims): FullDims {
  const lda = d.lda ?? (form === "tn" ? d.m : d.k);
  const ldb = d.ldb ?? (form === "nt" ? d.k : d.n);
  return {
    m: d.m,
    n: d.n,
    k: d.k,
    lda,
    ldb,
    ldc: d.ldc ?? d.n,
    offA: d.offA ?? 0,
    offB: d.offB ?? 0,
    offC: d.offC ?? 0,
  };
}

function checkVec4(form: MatmulForm, d: FullDims, label: string): void {
  // K needs no alignment: k advances in steps of 4 from a multiple of 4 (kChunk % 4 == 0) and
  // a ragged end is loaded element by element.
  const must: [string, number][] = [
    ["n", d.n],
    ["lda", d.lda],
    ["ldb", d.ldb],
    ["ldc", d.ldc],
    ["offA", d.offA],
    ["offB", d.offB],
    ["offC", d.offC],
  ];
  if (form === "tn") must.push(["m", d.m]);
  const bad = must.filter(([, x]) => x % 4 !== 0);
  if (bad.length > 0) {
    throw new Error(
      `${label}: vec4 kernel needs multiples of 4, got ${bad.map(([k, x]) => `${k}=${x}`).join(", ")}`,
    );
  }
}

function describe(r: Resolved): string {
  const op = { nn: "A[M,K] * B[K,N]", nt: "A[M,K] * B[N,K]^T", tn: "A[K,M]^T * B[K,N]" }[r.form];
  const lhs = r.splitK ? "Cpart[z][M,N]" : "C[M,N]";
  const rhs = r.epilogue ? `epilogue(row, col, ${op})` : op;
  return `${lhs} ${r.accumulate ? "+=" : "="} ${rhs}${r.splitK ? " over K-chunk z" : ""}`;
}

/** Scalar element accessors shared by both variants (bounds: k beyond K reads 0). */
function commonFns(r: Resolved): string {
  const el = (buf: string, idx: string) =>
    r.vec4 ? `${buf}[(${idx}) >> 2u][(${idx}) & 3u]` : `${buf}[${idx}]`;
  // op(A)(row, k) and op(B)(k, col) as scalars, with row/col clamped by the caller.
  const aIdx =
    r.form === "tn" ? "params.offA + k * params.lda + row" : "params.offA + row * params.lda + k";
  const bIdx =
    r.form === "nt" ? "params.offB + col * params.ldb + k" : "params.offB + k * params.ldb + col";
  return `
// op(A)(row, k) and op(B)(k, col); k >= K reads 0 so partial K-steps need no special case.
fn elemA(row: u32, k: u32, kEnd: u32) -> f32 {
  if (k >= kEnd) { return 0.0; }
  return ${el("A", aIdx)};
}
fn elemB(k: u32, col: u32, kEnd: u32) -> f32 {
  if (k >= kEnd) { return 0.0; }
  return ${el("B", bIdx)};
}`;
}

interface Body {
  header: string;
  code: string;
  usesSubgroups: boolean;
  workgroupSize: Grid;
  rowsPerGroup: number;
  colsPerGroup: number;
}

/** Stores one output quad (cols col..col+3 of row), applying epilogue and accumulate. */
function storeQuad(r: Resolved, row: string, col: string, value: string): string {
  const epi = (i: number) =>
    r.epilogue ? `epilogue(${row}, ${col} + ${i}u, ${value}[${i}])` : `${value}[${i}]`;
  const lines: string[] = [];
  if (r.vec4) {
    // n % 4 == 0 and col % 4 == 0: the quad is entirely inside or outside.
    lines.push(`if (${row} < params.m && ${col} < params.n) {`);
    lines.push(`  let o = (cBase + ${row} * params.ldc + ${col}) >> 2u;`);
    lines.push(`  var v = vec4f(${[0, 1, 2, 3].map(epi).join(", ")});`);
    if (r.accumulate) lines.push(`  v += C[o];`);
    lines.push(`  C[o] = v;`);
    lines.push(`}`);
  } else {
    lines.push(`if (${row} < params.m) {`);
    for (let i = 0; i < 4; i++) {
      lines.push(`  if (${col} + ${i}u < params.n) {`);
      lines.push(`    let o = cBase + ${row} * params.ldc + ${col} + ${i}u;`);
      lines.push(`    C[o] = ${epi(i)}${r.accumulate ? " + C[o]" : ""};`);
      lines.push(`  }`);
    }
    lines.push(`}`);
  }
  return lines.join("\n    ");
}

/** k-range and output base shared by both variants (split-K uses workgroup z). */
const K_RANGE = `
  let kBegin = wid.z * params.kChunk;
  let kEnd = min(params.k, kBegin + params.kChunk);
  let cBase = params.offC + wid.z * params.m * params.ldc;`;

// ---------------------------------------------------------------------------------------------
// CPU variant: register blocking + subgroup broadcast of the shared B tile.
// ---------------------------------------------------------------------------------------------
function subgroupBody(r: Resolved, tuning: Tuning): Body {
  const S = tuning.subgroupSize!;
  const cfg = r.form === "tn" ? tuning.matmul.tn : tuning.matmul.nn;
  // Columns per workgroup (multiple of 4), narrowed when the caller says N is small.
  const TN = Math.min(cfg.cols, Math.max(4, Math.ceil((r.nHint ?? cfg.cols) / 4) * 4));
  const Q = TN / 4; // column quads
  // "tn" reads A along M with vec4 loads, so its rows per invocation come in groups of 4.
  const TM = r.form === "tn" ? 4 * Math.max(1, Math.round(cfg.rows / 4)) : cfg.rows;
  // Invocations per workgroup, narrowed (in whole subgroups) when the caller says M is small.
  const WG = Math.min(
    cfg.workgroupSize,
    Math.max(S, Math.ceil((r.mHint ?? Infinity) / TM / S) * S),
  );
  if (WG % S !== 0 || TN % 4 !== 0) throw new Error("matmul tuning: bad subgroup config");
  const tileVecs = TN; // the 4 × TN tile of op(B) is TN vec4s in both layouts
  const loads = Math.ceil(tileVecs / S);
  const L: string[] = [];
  const rowsPerGroup = WG * TM;

  L.push(`const WG = ${WG}u;  // invocations per workgroup (multiple of the subgroup size ${S})`);
  L.push(`const TM = ${TM}u;  // rows of C per invocation`);
  L.push(`const TN = ${TN}u;  // columns of C per workgroup (shared by all its invocations)`);
  L.push(tileLoadFn(r));
  L.push(aLoadFn(r));
  L.push(`@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {${K_RANGE}
  let col0 = wid.y * TN;`);
  // Rows owned by this invocation (strided by WG so a subgroup reads neighbouring rows).
  if (r.form === "tn") {
    for (let g = 0; g < TM / 4; g++) {
      L.push(
        `  let row${g} = (wid.x * ${WG * (TM / 4)}u + ${g * WG}u + lid) * 4u;  // rows row${g}..row${g}+3`,
      );
    }
  } else {
    for (let i = 0; i < TM; i++)
      L.push(`  let row${i} = wid.x * ${rowsPerGroup}u + ${i * WG}u + lid;`);
  }
  for (let i = 0; i < TM; i++)
    for (let q = 0; q < Q; q++) L.push(`  var acc${i}_${q} = vec4f(0.0);`);
  L.push(`  for (var k = kBegin; k < kEnd; k += 4u) {`);
  L.push(`    // This lane's share of the 4 x TN tile of op(B) for k..k+3.`);
  for (let j = 0; j < loads; j++) {
    L.push(`    let t${j} = loadTile(k, kEnd, col0, min(lane + ${j * S}u, ${tileVecs - 1}u));`);
  }
  // A values: a{i} = vec4 over kk of op(A)(row_i, k+kk)  (nn/nt)  or  per-kk vec4 over 4 rows (tn).
  if (r.form === "tn") {
    for (let g = 0; g < TM / 4; g++)
      for (let kk = 0; kk < 4; kk++) {
        L.push(`    let a${g}_${kk} = loadA4rows(row${g}, k + ${kk}u, kEnd);`);
      }
  } else {
    for (let i = 0; i < TM; i++) L.push(`    let a${i} = loadA4k(row${i}, k, kEnd);`);
  }
  // Broadcast the tile and accumulate.
  const bcast = (v: number) => `subgroupBroadcast(t${Math.floor(v / S)}, ${v % S}u)`;
  if (r.form === "nt") {
    // Tile vec c holds op(B)(k..k+3, col0 + c).
    for (let q = 0; q < Q; q++) {
      for (let c = 0; c < 4; c++) L.push(`    let b${4 * q + c} = ${bcast(4 * q + c)};`);
      for (let kk = 0; kk < 4; kk++) {
        const bq = `vec4f(b${4 * q}[${kk}], b${4 * q + 1}[${kk}], b${4 * q + 2}[${kk}], b${4 * q + 3}[${kk}])`;
        L.push(`    { let bq = ${bq};`);
        for (let i = 0; i < TM; i++)
          L.push(`      acc${i}_${q} = fma(vec4f(a${i}[${kk}]), bq, acc${i}_${q});`);
        L.push(`    }`);
      }
    }
  } else {
    // Tile vec kk*Q + q holds op(B)(k + kk, col0 + 4q .. 4q+3).
    for (let kk = 0; kk < 4; kk++) {
      for (let q = 0; q < Q; q++) {
        L.push(`    { let bq = ${bcast(kk * Q + q)};`);
        for (let i = 0; i < TM; i++) {
          const a = r.form === "tn" ? `a${Math.floor(i / 4)}_${kk}[${i % 4}]` : `a${i}[${kk}]`;
          L.push(`      acc${i}_${q} = fma(vec4f(${a}), bq, acc${i}_${q});`);
        }
        L.push(`    }`);
      }
    }
  }
  L.push(`  }`);
  // Store through a loop over a local array: the epilogue and bounds checks are then compiled
  // once instead of TM x TN/4 times (unrolled stores made lavapipe compile for seconds).
  L.push(`  var result: array<vec4f, ${TM * Q}>;`);
  for (let i = 0; i < TM; i++)
    for (let q = 0; q < Q; q++) L.push(`  result[${i * Q + q}] = acc${i}_${q};`);
  L.push(`  for (var i = 0u; i < ${TM * Q}u; i++) {`);
  if (r.form === "tn") {
    L.push(
      `    let ri = i / ${Q}u;  // row index within this invocation: group ri / 4, row ri % 4`,
    );
    L.push(`    let row = (wid.x * ${WG * (TM / 4)}u + (ri / 4u) * WG + lid) * 4u + ri % 4u;`);
  } else {
    L.push(`    let row = wid.x * ${rowsPerGroup}u + (i / ${Q}u) * WG + lid;`);
  }
  L.push(`    let col = col0 + 4u * (i % ${Q}u);`);
  L.push(`    let value = result[i];`);
  L.push(`    ${storeQuad(r, "row", "col", "value")}`);
  L.push(`  }`);
  L.push(`}`);
  return {
    header: `// Variant "subgroup": ${WG} invocations x ${TM} rows x ${TN} columns per workgroup; the B tile is shared via subgroupBroadcast (subgroup size ${S}).`,
    code: L.join("\n"),
    usesSubgroups: true,
    workgroupSize: [WG, 1, 1],
    rowsPerGroup,
    colsPerGroup: TN,
  };
}

/** `loadTile(k, kEnd, col0, v)`: vec v of the 4 x TN tile of op(B) at rows k..k+3. */
function tileLoadFn(r: Resolved): string {
  if (r.form === "nt") {
    // vec v = op(B)(k..k+3, col0 + v) = B[col0+v][k..k+3]: contiguous along k.
    const fast = `B[(params.offB + col * params.ldb + k) >> 2u]`;
    return `fn loadTile(k: u32, kEnd: u32, col0: u32, v: u32) -> vec4f {
  let col = min(col0 + v, params.n - 1u);
  ${r.vec4 ? `if (k + 3u < kEnd) { return ${fast}; }` : ""}
  return vec4f(elemB(k, col, kEnd), elemB(k + 1u, col, kEnd), elemB(k + 2u, col, kEnd), elemB(k + 3u, col, kEnd));
}`;
  }
  // nn / tn: vec v = op(B)(k + v / Q, col0 + 4 (v % Q) .. +3) = B[k + kk][cols]: contiguous along n.
  const fast = `B[(params.offB + kr * params.ldb + col) >> 2u]`;
  return `fn loadTile(k: u32, kEnd: u32, col0: u32, v: u32) -> vec4f {
  let kr = k + v / (TN / 4u);
  let col = min(col0 + 4u * (v % (TN / 4u)), ${r.vec4 ? "params.n - 4u" : "params.n - 1u"});
  ${
    r.vec4
      ? `if (kr < kEnd) { return ${fast}; }
  return vec4f(0.0);`
      : `let c1 = min(col + 1u, params.n - 1u);
  let c2 = min(col + 2u, params.n - 1u);
  let c3 = min(col + 3u, params.n - 1u);
  return vec4f(elemB(kr, col, kEnd), elemB(kr, c1, kEnd), elemB(kr, c2, kEnd), elemB(kr, c3, kEnd));`
  }
}`;
}

/** A-side loads of the subgroup variant. */
function aLoadFn(r: Resolved): string {
  if (r.form === "tn") {
    // op(A)(row..row+3, k) = A[k][row..row+3]: contiguous along M.
    return `fn loadA4rows(row: u32, k: u32, kEnd: u32) -> vec4f {
  ${
    r.vec4
      ? `let rr = min(row, params.m - 4u);
  if (k < kEnd) { return A[(params.offA + k * params.lda + rr) >> 2u]; }
  return vec4f(0.0);`
      : `let last = params.m - 1u;
  return vec4f(elemA(min(row, last), k, kEnd), elemA(min(row + 1u, last), k, kEnd),
               elemA(min(row + 2u, last), k, kEnd), elemA(min(row + 3u, last), k, kEnd));`
  }
}`;
  }
  // nn / nt: op(A)(row, k..k+3) = A[row][k..k+3]: contiguous along K.
  return `fn loadA4k(row: u32, k: u32, kEnd: u32) -> vec4f {
  let rr = min(row, params.m - 1u);
  ${r.vec4 ? `if (k + 3u < kEnd) { return A[(params.offA + rr * params.lda + k) >> 2u]; }` : ""}
  return vec4f(elemA(rr, k, kEnd), elemA(rr, k + 1u, kEnd), elemA(rr, k + 2u, kEnd), elemA(rr, k + 3u, kEnd));
}`;
}

// ---------------------------------------------------------------------------------------------
// GPU variant: 64x64 output tile per 16x16 workgroup, K-tiles of 16 in workgroup memory.
// ---------------------------------------------------------------------------------------------
function tiledBody(r: Resolved): Body {
  const BM = 64;
  const BN = 64;
  const BK = 16;
  const code = `const BM = ${BM}u;  // rows of C per workgroup
const BN = ${BN}u;  // columns of C per workgroup
const BK = ${BK}u;  // k-steps staged in workgroup memory per iteration
// Rows padded by one element: the staging stores of the [M, K] / [N, K] layouts walk down a
// column of the tile, which would otherwise hit one memory bank 16 times.
var<workgroup> tileA: array<array<f32, ${BM + 1}>, ${BK}>;  // tileA[kk][i] = op(A)(row0 + i, k0 + kk)
var<workgroup> tileB: array<array<f32, ${BN + 1}>, ${BK}>;  // tileB[kk][j] = op(B)(k0 + kk, col0 + j)

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u,
        @builtin(local_invocation_index) lid: u32) {${K_RANGE}
  let row0 = wid.x * BM;
  let col0 = wid.y * BN;
  // This invocation owns rows ty + 16i and columns tx + 16j (i, j < 4) of the tile: strided, so
  // that neighbouring invocations read neighbouring tile entries and store neighbouring
  // addresses of C.
  let ty = lid3.y;
  let tx = lid3.x;
  var acc: array<vec4f, 4>;  // acc[i][j]
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    // 256 invocations stage 16x64 values of each operand, 4 each. The index order makes
    // neighbouring invocations read neighbouring addresses of the stored layout.
    for (var s = 0u; s < 4u; s++) {
      let e = s * 256u + lid;
      ${
        r.form === "tn"
          ? `let ai = e % BM; let ak = e / BM;  // A stored [K, M]: contiguous along M`
          : `let ai = e / BK; let ak = e % BK;  // A stored [M, K]: contiguous along K`
      }
      tileA[ak][ai] = elemA(min(row0 + ai, params.m - 1u), k0 + ak, kEnd);
      ${
        r.form === "nt"
          ? `let bj = e / BK; let bk = e % BK;  // B stored [N, K]: contiguous along K`
          : `let bj = e % BN; let bk = e / BN;  // B stored [K, N]: contiguous along N`
      }
      tileB[bk][bj] = elemB(k0 + bk, min(col0 + bj, params.n - 1u), kEnd);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let b = vec4f(tileB[kk][tx], tileB[kk][tx + 16u], tileB[kk][tx + 32u], tileB[kk][tx + 48u]);
      acc[0] = fma(vec4f(tileA[kk][ty]), b, acc[0]);
      acc[1] = fma(vec4f(tileA[kk][ty + 16u]), b, acc[1]);
      acc[2] = fma(vec4f(tileA[kk][ty + 32u]), b, acc[2]);
      acc[3] = fma(vec4f(tileA[kk][ty + 48u]), b, acc[3]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + ty + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + tx + 16u * j;
      if (row < params.m && col < params.n) {
        let o = cBase + row * params.ldc + col;
        C[o] = ${r.epilogue ? "epilogue(row, col, acc[i][j])" : "acc[i][j]"}${r.accumulate ? " + C[o]" : ""};
      }
    }
  }
}`;
  return {
    header: `// Variant "tiled": ${BM}x${BN} tile of C per 16x16 workgroup, 4x4 (strided by 16) per invocation, K-tiles of ${BK} in workgroup memory.`,
    code,
    usesSubgroups: false,
    workgroupSize: [16, 16, 1],
    rowsPerGroup: BM,
    colsPerGroup: BN,
  };
}
