// Matmul kernels: each invocation computes a 4×4 block of C with register accumulators (on CPU
// drivers such as lavapipe, workgroup-memory tiling loses: barriers cost more than caches save).
// When the inner dimension is a data size (N or E: weight gradients Xᵀ·dY over all nodes), the
// product is split along it into partial products of CHUNK_K rows, summed by a second kernel in a
// fixed order — deterministic, and no float atomics (WGSL has none).
import { shapeToString } from "../ir/dims.js";
import { Value, tensorType, type Dim, type Op } from "../ir/types.js";
import { gridOf, KernelBuilder } from "./kernel-builder.js";
import { matmul, matmulSplitK, type MatmulDims, type MatmulForm } from "./templates/matmul.js";
import type { Tuning } from "../target.js";
import type { Padding } from "../padding.js";
import type { KernelContext } from "./context.js";
import type { BindingSpec, CustomLaunch, KernelSpec, LaunchContext, Step } from "../contract.js";
import { outputRowsRange, splitKRowsRange } from "./row-ranges.js";

const T = 4;
const CHUNK_K = 1024;
const WORKGROUP = 64;

type Register = (k: KernelSpec) => KernelSpec;
type Namer = (kind: string, hint?: string) => string;
type Workspace = Map<
  Value,
  { formula: string; elements(dims: Readonly<Record<string, number>>): number }
>;

/**
 * The matmul of one op: the adapter-tuned templates of ./templates when a tuning is given
 * (the subgroup variant on CPU drivers, the tiled one on GPUs), else a portable generated kernel.
 */
export function matmulKernels(
  ctx: KernelContext,
  op: Op,
  tuning?: Tuning,
  padding: Padding = new Map(),
): Step[] {
  const register: Register = (k) => ctx.register(k);
  const name: Namer = (kind, hint) => ctx.name(kind, hint);
  const workspace: Workspace = ctx.workspace;
  const tA = !!op.attrs.transA;
  const tB = !!op.attrs.transB;
  if (tuning && !(tA && tB)) return templateMatmul(op, register, name, workspace, tuning, padding);
  return generatedMatmul(op, register, name, workspace);
}

function multipleOf4(d: Dim, padding: Padding): boolean {
  if (typeof d === "number") return d % 4 === 0;
  const multiple = padding.get(d);
  return multiple !== undefined && multiple % 4 === 0;
}

const isGraphSize = (k: Dim) => typeof k === "string" && /(^|\+)\s*(N|E)\s*($|\+)/.test(k);

function dimValue(d: Dim, dims: Readonly<Record<string, number>>): number {
  return gridOf([d]).threads(dims);
}

interface Template {
  code: string;
  bindings: readonly BindingSpec[];
  uniforms: readonly { name: string }[];
  label: string;
  workgroupSize: [number, number, number];
}

function templateSpec(
  t: Template,
  kname: string,
  kind: string,
  operands: Value[],
  launch: Omit<CustomLaunch, "fields">,
  formula: string,
): KernelSpec {
  return {
    name: kname,
    // The template's text follows a header naming the kernel and the IR op, like generated ones.
    code: `// revgnn kernel ${kname} (${kind})\n// implements IR ops: matmul\n// template: ${t.label}\n${t.code}`,
    entryPoint: "main",
    bindings: t.bindings.map((b) => ({ name: b.name, kind: b.kind })),
    operands: operands.map((value) => ({ kind: "value" as const, value })),
    params: [],
    workgroupSize: t.workgroupSize[0] * t.workgroupSize[1] * t.workgroupSize[2],
    grid: { formula, threads: () => 0 },
    implements: ["matmul"],
    kind,
    inPlace: new Map(),
    custom: { ...launch, fields: t.uniforms.map((u) => u.name) },
  };
}

function templateMatmul(
  op: Op,
  register: Register,
  name: Namer,
  workspace: Workspace,
  tuning: Tuning,
  padding: Padding,
): Step[] {
  const [A, B] = op.inputs as [Value, Value];
  const C = op.outputs[0]!;
  const form: MatmulForm = op.attrs.transA ? "tn" : op.attrs.transB ? "nt" : "nn";
  const [m, n] = C.shape as [Dim, Dim];
  const k: Dim = op.attrs.transA ? A.shape[0]! : A.shape[1]!;
  // vec4 loads need the leading dimensions and N multiples of 4 (offsets are checked at dispatch):
  // known for integers, and for symbols the runtime binds padded to a multiple of 4 (F).
  const vec4 = [form === "tn" ? m : k, n].every((d) => multipleOf4(d, padding));
  const nHint = typeof n === "number" ? n : undefined;
  const mHint = typeof m === "number" ? m : undefined;
  const opts = { form, vec4, nHint, mHint, label: `matmul_${form}` };
  const full = (d: Readonly<Record<string, number>>): MatmulDims => ({
    m: dimValue(m, d),
    n: dimValue(n, d),
    k: dimValue(k, d),
  });
  const desc = `${shapeToString(A.shape)} ${form} ${shapeToString(B.shape)} → ${shapeToString(C.shape)}`;
  if (!isGraphSize(k)) {
    const t = matmul(opts, tuning);
    const dimsOf = (ctx: LaunchContext): MatmulDims => ({
      ...full(ctx.dims),
      offA: ctx.offsets[0]!,
      offB: ctx.offsets[1]!,
      offC: ctx.offsets[2]!,
    });
    const spec = templateSpec(
      t,
      name("matmul", C.hint),
      "matmul",
      [A, B, C],
      { params: (ctx) => t.params(dimsOf(ctx)), dispatch: (ctx) => t.dispatch(dimsOf(ctx)) },
      desc,
    );
    // By ranges of A's rows (dense features in row chunks): C's rows follow A's.
    const rows = form === "tn" ? undefined : outputRowsRange(A, B, C);
    if (rows) spec.rowRange = rows;
    return [{ kind: "kernel", kernel: register(spec), writes: [C] }];
  }
  // Split along the long inner dimension: partial slabs in a workspace, then their in-order sum.
  const plan = matmulSplitK(opts, tuning);
  const slabs = new Value(tensorType([]), `${C.hint ?? "mm"}_slabs`);
  workspace.set(slabs, {
    formula: `ceil(${k}/${tuning.splitKRows})*${m}*${n}`,
    elements: (d) => plan.workspaceFloats(full(d)),
  });
  const partial = templateSpec(
    plan.partial,
    name("matmul_splitk", C.hint),
    "matmul_splitk_partials",
    [A, B, slabs],
    {
      params: (ctx) => {
        const d = plan.partialDims({
          ...full(ctx.dims),
          offA: ctx.offsets[0]!,
          offB: ctx.offsets[1]!,
        });
        return plan.partial.params({ ...d, offC: ctx.offsets[2]! });
      },
      dispatch: (ctx) => plan.partial.dispatch(plan.partialDims(full(ctx.dims))),
    },
    `${desc}, in chunks of ${tuning.splitKRows} rows`,
  );
  // Aᵀ·B by ranges of A's rows that start on a chunk boundary: the same slabs, bitwise.
  const rows = form === "tn" ? splitKRowsRange(A, B, m, n, tuning.splitKRows) : undefined;
  if (rows) partial.rowRange = rows;
  const reduce = templateSpec(
    plan.reduce,
    name("matmul_splitk_sum", C.hint),
    "matmul_splitk_sum",
    [slabs, C],
    {
      params: (ctx) =>
        plan.reduce.params({
          ...plan.reduceDims({ ...full(ctx.dims), offC: ctx.offsets[1]! }),
          offW: ctx.offsets[0]!,
        }),
      dispatch: (ctx) => plan.reduce.dispatch(plan.reduceDims(full(ctx.dims))),
    },
    `${m}*${n}`,
  );
  return [
    { kind: "kernel", kernel: register(partial), writes: [slabs] },
    { kind: "kernel", kernel: register(reduce), writes: [C] },
  ];
}

function generatedMatmul(op: Op, register: Register, name: Namer, workspace: Workspace): Step[] {
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
  const spec1 = kb.finish(
    name(splitK ? "matmul_splitk" : "matmul", C.hint),
    lines.join("\n"),
    WORKGROUP,
    [desc, `${T}×${T} register block per invocation`],
    grid,
  );
  // By ranges of A's rows (dense features in row chunks): see row-ranges.ts.
  const rows = splitK
    ? tA && !tB
      ? splitKRowsRange(A, B, m, n, CHUNK_K)
      : undefined
    : tA
      ? undefined
      : outputRowsRange(A, B, C);
  if (rows) spec1.rowRange = rows;
  const k1 = register(spec1);
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
