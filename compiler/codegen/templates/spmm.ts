// CSR SpMM, destination-major ("pull"): for every destination node v
//   out[v, c] (=|+=) d[v] · ( selfWeight · s[v] · x[v, c]  +  Σ_{e ∈ in(v)} w_e · s[src_e] · x[src_e, c] )
// with rowPtr[N+1] (edges of v are rowPtr[v] .. rowPtr[v+1]-1), colIdx[E] = src_e, optional
// per-edge weights w[E], optional per-node source scale s[N] and destination scale d[N] (GCN's
// D^-1/2 A D^-1/2 is s = d = deg^-1/2), and an optional self loop that is not stored in the CSR.
// Every destination is written exactly once by one invocation, in edge order: no atomics,
// deterministic.
//
// Thread mapping (the reference structure for the code generator's fused graph kernels): one
// invocation per (destination node, 4·QL consecutive channels); vec4s of the destination's row
// are accumulated in registers while walking its in-edges in CSR order. The generator inlines its
// own per-edge expression where this template computes `w_e · s[src] · x[src, c..c+3]`.
//  - "subgroup" (CPU drivers): one subgroup covers one destination and 4·S·QL channels (S = 8,
//    QL = 4 on llvmpipe: 128 channels), so the whole subgroup walks the same edge list. Lane i
//    loads edge i of each chunk of S edges (source and weight: one load for S edges) and the
//    lanes pass them around with subgroupShuffle; each lane then loads its vec4s of x per edge.
//    On llvmpipe (Mesa 25.0) every load inside a loop is a per-lane scalar loop with bounds
//    checks (~30 instructions per lane per vec4) while a shuffle is one permute, so the x loads
//    are what is left. With a random 170k-node graph those loads miss cache and TLB row by
//    row; touching the S source rows of a chunk first with one load (one row per lane) lets
//    their misses overlap, ~25 % faster. Measured on lavapipe and rejected: lanes over edges
//    with a final subgroupAdd (no faster, lanes idle on low-degree nodes), 1 or 2 quads per
//    lane (no faster, more index traffic), fully unrolled edge chunks (no faster, 5× the
//    compile time).
//  - "plain" (GPUs): the same (node, 4 channels) mapping without subgroup operations; lanes of
//    a warp share a destination when the channel count is ≥ 128, so index loads are broadcast
//    by the cache.
import type { Tuning } from "../../target.js";
import {
  ceilDiv,
  declareBindings,
  foldGrid,
  linearGroupId,
  packParams,
  paramsStruct,
  type KernelTemplate,
  type UniformField,
} from "./template.js";
import type { BindingSpec } from "../../contract.js";

export interface SpmmOptions {
  /** Per-edge weights w[E] (else 1). */
  edgeWeights?: boolean;
  /** Per-node scale of the source rows, s[N]. */
  srcScale?: boolean;
  /** Per-node scale of the destination rows, d[N], applied to the whole sum. */
  dstScale?: boolean;
  /** Add selfWeight · s[v] · x[v, c] as if there were an edge v → v. */
  selfLoop?: boolean;
  /** out += result instead of out = result. */
  accumulate?: boolean;
  /** The caller guarantees channels, ldX, ldOut, offX, offOut are multiples of 4. */
  vec4?: boolean;
  variant?: "subgroup" | "plain";
  /**
   * The channel count the kernel will mostly run with, if known when generating: the
   * "subgroup" variant then gives each lane fewer quads for narrow tensors (D = 16, 64) so
   * that no lane idles. Any channel count still works.
   */
  channelsHint?: number;
  label?: string;
}

export interface SpmmDims {
  /** Destination nodes (rows of out; rowPtr has nodes + 1 entries). */
  nodes: number;
  channels: number;
  /** x[offX + src·ldX + c] and out[offOut + v·ldOut + c]; defaults: dense rows. */
  ldX?: number;
  offX?: number;
  ldOut?: number;
  offOut?: number;
  /** Weight of the implicit self loop (default 1). */
  selfWeight?: number;
}

export interface SpmmKernel extends KernelTemplate<SpmmDims> {
  variant: "subgroup" | "plain";
}

const FIELDS: UniformField[] = [
  { name: "nodes", type: "u32" },
  { name: "channels", type: "u32" },
  { name: "ldX", type: "u32" },
  { name: "offX", type: "u32" },
  { name: "ldOut", type: "u32" },
  { name: "offOut", type: "u32" },
  { name: "selfWeight", type: "f32" },
];

export function spmm(opts: SpmmOptions, tuning: Tuning): SpmmKernel {
  const variant = opts.variant ?? tuning.spmm.variant;
  const S = tuning.subgroupSize ?? 0;
  if (variant === "subgroup" && !S)
    throw new Error("spmm: the subgroup variant needs a fixed subgroup size");
  const vec4 = Boolean(opts.vec4);
  const WG = tuning.spmm.workgroupSize;
  if (variant === "subgroup" && WG % S !== 0)
    throw new Error("spmm: workgroup size must be a multiple of the subgroup size");
  const xType = vec4 ? "array<vec4f>" : "array<f32>";
  const bindings: (BindingSpec & { type?: string })[] = [
    { name: "rowPtr", kind: "read", type: "array<u32>" },
    { name: "colIdx", kind: "read", type: "array<u32>" },
    { name: "x", kind: "read", type: xType },
    { name: "out", kind: "read_write", type: xType },
  ];
  if (opts.edgeWeights) bindings.push({ name: "w", kind: "read" });
  if (opts.srcScale) bindings.push({ name: "srcScale", kind: "read" });
  if (opts.dstScale) bindings.push({ name: "dstScale", kind: "read" });
  bindings.push({ name: "params", kind: "uniform" });

  const tag = [
    vec4 ? "v4" : "s",
    opts.edgeWeights ? "w" : "",
    opts.srcScale ? "ss" : "",
    opts.dstScale ? "ds" : "",
    opts.selfLoop ? "self" : "",
    opts.accumulate ? "acc" : "",
  ].filter(Boolean);
  const label = opts.label ?? `spmm_${tag.join("_")}_${variant}`;
  const edgeWeight = (e: string, src: string) =>
    [opts.edgeWeights ? `w[${e}]` : "", opts.srcScale ? `srcScale[${src}]` : ""]
      .filter(Boolean)
      .join(" * ") || "1.0";

  const common = `
// x[src, c..c+3]; channels at or beyond params.channels read 0.
fn loadX(src: u32, c: u32) -> vec4f {
  ${
    vec4
      ? `return x[(params.offX + src * params.ldX + c) >> 2u];`
      : `let base = params.offX + src * params.ldX;
  let last = params.channels - 1u;
  let v = vec4f(x[base + min(c, last)], x[base + min(c + 1u, last)], x[base + min(c + 2u, last)], x[base + min(c + 3u, last)]);
  return select(vec4f(0.0), v, vec4u(c, c + 1u, c + 2u, c + 3u) < vec4u(params.channels));`
  }
}

fn finish(v: u32, c: u32, sum: vec4f) {
  var r = sum;
  ${opts.selfLoop ? `r += (params.selfWeight${opts.srcScale ? " * srcScale[v]" : ""}) * loadX(v, c);` : ""}
  ${opts.dstScale ? "r *= dstScale[v];" : ""}
  ${
    vec4
      ? `let o = (params.offOut + v * params.ldOut + c) >> 2u;
  out[o] = r${opts.accumulate ? " + out[o]" : ""};`
      : `let o = params.offOut + v * params.ldOut + c;
  for (var i = 0u; i < 4u; i++) {
    if (c + i < params.channels) { out[o + i] = r[i]${opts.accumulate ? " + out[o + i]" : ""}; }
  }`
  }
}`;

  let body: string;
  let dispatch: (d: SpmmDims) => [number, number, number];
  if (variant === "subgroup") {
    // Quads per lane: the tuned value, lowered for narrow tensors so that all S lanes get work.
    const hintQuads = opts.channelsHint ? Math.ceil(opts.channelsHint / 4) : Infinity;
    const QL = Math.max(1, Math.min(tuning.spmm.quadsPerLane, Math.floor(hintQuads / S)));
    const interleave = tuning.spmm.interleave;
    const prefetch = tuning.spmm.prefetch;
    const J = Array.from({ length: QL }, (_, j) => j);
    body = `enable subgroups;
// Every lane of a subgroup works on the same destination, so the edge loop below is uniform
// within the subgroup; the analysis cannot see that (rowPtr comes from storage).
diagnostic(off, subgroup_uniformity);
${paramsStruct("SpmmParams", FIELDS)}
${declareBindings(bindings, "SpmmParams")}
const S = ${S}u;    // subgroup size: lanes that share one destination and its edge list
const WG = ${WG}u;  // invocations per workgroup = WG / S subgroups
const QL = ${QL}u;  // channel quads (vec4) per lane: a subgroup covers 4·S·QL channels
${common}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  // Subgroup g handles destination v = g / blocks and the block g % blocks of S·QL quads.
  let quads = (params.channels + 3u) / 4u;
  let blocks = (quads + S * QL - 1u) / (S * QL);
  // Broadcasting g from lane 0 makes it provably subgroup-uniform.
  let g = subgroupBroadcast(${linearGroupId} * (WG / S) + lid / S, 0u);
  let v = g / blocks;
  if (v >= params.nodes) { return; }
  let q0 = (g % blocks) * S * QL;
${J.map(
  (q) => `  let quad${q} = q0 + ${interleave ? `${q}u * S + lane` : `lane * QL + ${q}u`};
  let c${q} = min(quad${q}, quads - 1u) * 4u;  // idle lanes load a valid quad, store nothing`,
).join("\n")}
  let e0 = rowPtr[v];
  let e1 = rowPtr[v + 1u];
${J.map((q) => `  var acc${q} = vec4f(0.0);`).join("\n")}
  var touch = 0.0;
  for (var eb = e0; eb < e1; eb += S) {
    // Lane i loads edge eb + i (source and weight) once for the whole subgroup.
    let myE = min(eb + lane, e1 - 1u);
    let mySrc = colIdx[myE];
    let myW = ${edgeWeight("myE", "mySrc")};
${
  prefetch === "chunk"
    ? `    // Prefetch: each lane reads one value of the row of *its own* edge, so one load touches S
    // rows at once and their cache and TLB misses overlap; the walk below then mostly hits.
    // (On lavapipe this took ~25 % off a random 170k-node graph.)
    touch += loadX(mySrc, c0).x;
`
    : ""
}    let n = min(S, e1 - eb);
    for (var j = 0u; j < n; j++) {
      let src = subgroupShuffle(mySrc, j);
      let we = vec4f(subgroupShuffle(myW, j));
${J.map((q) => `      acc${q} = fma(we, loadX(src, c${q}), acc${q});`).join("\n")}
    }
  }
${J.map((q) => `  if (quad${q} < quads) { finish(v, c${q}, acc${q}); }`).join("\n")}
  // Keeps the prefetch loads alive; never true (no workgroups run when channels == 0).
  if (params.channels == 0u) { out[0] = ${vec4 ? "vec4f(touch)" : "touch"}; }
}
`;
    dispatch = (d) => {
      const blocks = ceilDiv(ceilDiv(d.channels, 4), S * QL);
      return foldGrid(ceilDiv(d.nodes * blocks, WG / S), tuning.maxWorkgroupsPerDim);
    };
  } else {
    body = `${paramsStruct("SpmmParams", FIELDS)}
${declareBindings(bindings, "SpmmParams")}
const WG = ${WG}u;
${common}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let quads = (params.channels + 3u) / 4u;
  let i = ${linearGroupId} * WG + lid;
  let v = i / quads;
  if (v >= params.nodes) { return; }
  let c = (i % quads) * 4u;
  var acc = vec4f(0.0);
  let e1 = rowPtr[v + 1u];
  for (var e = rowPtr[v]; e < e1; e++) {
    let src = colIdx[e];
    acc = fma(vec4f(${edgeWeight("e", "src")}), loadX(src, c), acc);
  }
  finish(v, c, acc);
}
`;
    dispatch = (d) =>
      foldGrid(ceilDiv(d.nodes * ceilDiv(d.channels, 4), WG), tuning.maxWorkgroupsPerDim);
  }
  const header = `// ${label}: out[v, c] ${opts.accumulate ? "+=" : "="} ${opts.dstScale ? "dstScale[v] * " : ""}(${
    opts.selfLoop ? `selfWeight${opts.srcScale ? " * srcScale[v]" : ""} * x[v, c] + ` : ""
  }sum over e in rowPtr[v]..rowPtr[v+1] of ${edgeWeight("e", "colIdx[e]")} * x[colIdx[e], c])
// One invocation per (destination, 4 channels); variant "${variant}". x and out are views:
// x[offX + src*ldX + c], out[offOut + v*ldOut + c].`;
  return {
    label,
    code: `${header}\n${body}`,
    entryPoint: "main",
    bindings,
    workgroupSize: [WG, 1, 1],
    uniforms: FIELDS,
    variant,
    dispatch,
    params: (d) => {
      const p = {
        nodes: d.nodes,
        channels: d.channels,
        ldX: d.ldX ?? d.channels,
        offX: d.offX ?? 0,
        ldOut: d.ldOut ?? d.channels,
        offOut: d.offOut ?? 0,
        selfWeight: d.selfWeight ?? 1,
      };
      if (vec4) {
        const bad = (["channels", "ldX", "offX", "ldOut", "offOut"] as const).filter(
          (k) => p[k] % 4 !== 0,
        );
        if (bad.length > 0)
          throw new Error(`${label}: vec4 kernel needs multiples of 4 (${bad.join(", ")})`);
      }
      return packParams(FIELDS, p);
    },
  };
}
