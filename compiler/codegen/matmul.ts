// Matmul kernels: each invocation computes a 4×4 block of C with register accumulators (on CPU
// drivers such as lavapipe, workgroup-memory tiling loses: barriers cost more than caches save).
// When the inner dimension is a data size (N or E: weight gradients Xᵀ·dY over all nodes), the
// product is split along it into partial products of CHUNK_K rows, summed by a second kernel in a
// fixed order — deterministic, and no float atomics (WGSL has none).
import { shapeToString } from "../ir/dims.js";
import { Value, tensorType, type Dim, type Op } from "../ir/types.js";
import type { Step } from "./generate.js";
import { gridOf, KernelBuilder, type KernelSpec } from "./kernel-builder.js";

const T = 4;
const CHUNK_K = 1024;
const WORKGROUP = 64;

type Register = (k: KernelSpec) => KernelSpec;
type Namer = (kind: string, hint?: string) => string;
type Workspace = Map<
  Value,
  { formula: string; elements(dims: Readonly<Record<string, number>>): number }
>;

export function matmulKernels(
  op: Op,
  register: Register,
  name: Namer,
  workspace: Workspace,
): Step[] {
  const [A, B] = op.inputs as [Value, Value];
  const C = op.outputs[0]!;
  const tA = !!op.attrs.transA;
  const tB = !!op.attrs.transB;
  const [m, n] = C.shape as [Dim, Dim];
  const k: Dim = tA ? A.shape[0]! : A.shape[1]!;
  const desc = `${tA ? "Aᵀ" : "A"}·${tB ? "Bᵀ" : "B"}: ${shapeToString(A.shape)}, ${shapeToString(B.shape)} → ${shapeToString(C.shape)}`;
  // Split only along the graph's sizes (N, E): those are the long reductions (weight gradients);
  // a data width such as F (input features) is short enough for one pass.
  const splitK = typeof k === "string" && /(^|\+)\s*(N|E)\s*($|\+)/.test(k);

  const kb = new KernelBuilder(splitK ? "matmul_splitk_partials" : "matmul");
  kb.implements.push("matmul");
  const a = kb.value(A, "read");
  const b = kb.value(B, "read");
  let out: Value = C;
  if (splitK) {
    out = new Value(tensorType([]), `${C.hint ?? "mm"}_partials`);
    workspace.set(out, {
      formula: `ceil(${k}/${CHUNK_K})*${m}*${n}`,
      elements: (d) =>
        Math.max(1, Math.ceil(gridOf([k]).threads(d) / CHUNK_K)) * gridOf([m, n]).threads(d),
    });
  }
  const c = kb.value(out, "read_write");
  const M = kb.dim(m);
  const N = kb.dim(n);
  const K = kb.dim(k);
  const aAt = (i: string, p: string) =>
    tA
      ? `${a}[${kb.offset(A)} + (${p}) * ${M} + ${i}]`
      : `${a}[${kb.offset(A)} + (${i}) * ${K} + ${p}]`;
  const bAt = (p: string, j: string) =>
    tB
      ? `${b}[${kb.offset(B)} + (${j}) * ${K} + ${p}]`
      : `${b}[${kb.offset(B)} + (${p}) * ${N} + ${j}]`;
  const tilesN = `((${N} + ${T - 1}u) / ${T}u)`;
  const tilesM = `((${M} + ${T - 1}u) / ${T}u)`;
  const lines: string[] = [];
  lines.push(`  let tiles = ${tilesM} * ${tilesN};`);
  if (splitK)
    lines.push(
      `  let chunk = idx / tiles;`,
      `  let t = idx % tiles;`,
      `  if (chunk >= ((${K} + ${CHUNK_K - 1}u) / ${CHUNK_K}u)) { return; }`,
    );
  else lines.push("  if (idx >= tiles) { return; }", "  let t = idx;");
  lines.push(`  let i0 = (t / ${tilesN}) * ${T}u;`, `  let j0 = (t % ${tilesN}) * ${T}u;`);
  // Clamped indices keep every load in bounds; out-of-range rows/columns are simply not stored.
  for (let r = 0; r < T; r++) lines.push(`  let ia${r} = min(i0 + ${r}u, ${M} - 1u);`);
  for (let q = 0; q < T; q++) lines.push(`  let jb${q} = min(j0 + ${q}u, ${N} - 1u);`);
  for (let r = 0; r < T; r++) lines.push(`  var acc${r} = vec4<f32>(0.0);`);
  const p0 = splitK ? `chunk * ${CHUNK_K}u` : "0u";
  const p1 = splitK ? `min(p0 + ${CHUNK_K}u, ${K})` : K;
  lines.push(`  let p0 = ${p0};`, `  let p1 = ${p1};`);
  lines.push("  for (var p = p0; p < p1; p = p + 1u) {");
  lines.push(`    let bv = vec4<f32>(${[0, 1, 2, 3].map((q) => bAt("p", `jb${q}`)).join(", ")});`);
  for (let r = 0; r < T; r++) lines.push(`    acc${r} = acc${r} + ${aAt(`ia${r}`, "p")} * bv;`);
  lines.push("  }");
  const base = splitK ? `${kb.offset(out)} + chunk * ${M} * ${N}` : kb.offset(out);
  for (let r = 0; r < T; r++) {
    for (let q = 0; q < T; q++) {
      lines.push(
        `  if (i0 + ${r}u < ${M} && j0 + ${q}u < ${N}) { ${c}[${base} + (i0 + ${r}u) * ${N} + j0 + ${q}u] = acc${r}[${q}]; }`,
      );
    }
  }
  const tiles = (d: Readonly<Record<string, number>>) =>
    Math.ceil(gridOf([m]).threads(d) / T) * Math.ceil(gridOf([n]).threads(d) / T);
  const grid = splitK
    ? {
        formula: `ceil(${k}/${CHUNK_K})*ceil(${m}/${T})*ceil(${n}/${T})`,
        threads: (d: Readonly<Record<string, number>>) =>
          Math.ceil(gridOf([k]).threads(d) / CHUNK_K) * tiles(d),
      }
    : { formula: `ceil(${m}/${T})*ceil(${n}/${T})`, threads: tiles };
  const k1 = register(
    kb.finish(
      name(splitK ? "matmul_splitk" : "matmul", C.hint),
      lines.join("\n"),
      WORKGROUP,
      [desc, `${T}×${T} register block per invocation`],
      grid,
    ),
  );
  const steps: Step[] = [{ kind: "kernel", kernel: k1, writes: [out] }];
  if (!splitK) return steps;

  const kb2 = new KernelBuilder("matmul_splitk_sum");
  kb2.implements.push("matmul");
  const p = kb2.value(out, "read");
  const o = kb2.value(C, "read_write");
  const M2 = kb2.dim(m);
  const N2 = kb2.dim(n);
  const K2 = kb2.dim(k);
  const body = [
    `  if (idx >= ${M2} * ${N2}) { return; }`,
    `  let chunks = (${K2} + ${CHUNK_K - 1}u) / ${CHUNK_K}u;`,
    "  var acc = 0.0;",
    `  for (var q = 0u; q < chunks; q = q + 1u) { acc = acc + ${p}[${kb2.offset(out)} + q * ${M2} * ${N2} + idx]; }`,
    `  ${o}[${kb2.offset(C)} + idx] = acc;`,
  ];
  const k2 = register(
    kb2.finish(
      name("matmul_splitk_sum", C.hint),
      body.join("\n"),
      256,
      [desc, "sum of the split-K partial products, in chunk order"],
      gridOf([m, n]),
    ),
  );
  steps.push({ kind: "kernel", kernel: k2, writes: [C] });
  return steps;
}
