// The sparse input path: when the node features are mostly zeros (bag-of-words inputs such as
// Cora's are ~1 % non-zero), the device holds x as one packed buffer with both its rows (CSR)
// and its columns (CSC), and the two matmuls that read x become sparse × dense products:
//   forward   x · W   (x [N, F], W [F, D]):  row i of the result sums val·W[col, :] over row i of x
//   gradient  xᵀ · G  (G [N, D]):            row f sums val·G[row, :] over column f of x (the CSC)
// One kernel does both, walking whichever compressed index it is given. Each output row is one
// invocation's sequential sum in a fixed order: deterministic, and no float atomics (WGSL has
// none). The float64 interpreter and the dense path compute the same sums densely.
//
// The packed buffer (32-bit words; values stored as f32 bits):
//   rowPtr[N+1] | col[nnz] | val[nnz] | colPtr[F+1] | row[nnz] | valT[nnz]
import { evalDim, shapeToString } from "../ir/dims.js";
import { readOnlyAsLeftMatmulOperand } from "../ir/left-operand.js";
import type { Value, Op, Graph } from "../ir/types.js";
import type { BindingSpec, KernelSpec, LaunchContext, Step } from "../contract.js";
import type { KernelContext } from "./context.js";
import {
  ceilDiv,
  foldGrid,
  linearGroupId,
  packParams,
  paramsStruct,
} from "./templates/template.js";

/** The dims key under which a session binds the feature matrix's number of non-zeros. */
export const FEATURE_NONZEROS = "nnz(x)";

/** Word offsets of the packed sparse feature buffer's parts, and its length. */
export interface SparseFeatureLayout {
  rowPtr: number;
  col: number;
  val: number;
  colPtr: number;
  row: number;
  valT: number;
  words: number;
}

export function sparseFeatureLayout(n: number, f: number, nnz: number): SparseFeatureLayout {
  const col = n + 1;
  const val = col + nnz;
  const colPtr = val + nnz;
  const row = colPtr + f + 1;
  const valT = row + nnz;
  return { rowPtr: 0, col, val, colPtr, row, valT, words: valT + nnz };
}

/**
 * Whether every op of `g` reading its input `x` is x·B or xᵀ·B (B not transposed): the two
 * products the sparse kernel computes. Anything else (dropout on x, x read elementwise, x as an
 * output) keeps x dense.
 */
export function sparseInputEligible(g: Graph, x: Value): boolean {
  return readOnlyAsLeftMatmulOperand(g, x, (attrs) => !attrs.transB);
}

const WG = 64;
/** Output columns per invocation (four vec4 accumulators; the kernel's body is written for 16). */
const COLUMNS = 16;
const FIELDS = [
  { name: "rows", type: "u32" },
  { name: "cols", type: "u32" },
  { name: "ldB", type: "u32" },
  { name: "offX", type: "u32" },
  { name: "offB", type: "u32" },
  { name: "offC", type: "u32" },
  { name: "ptrAt", type: "u32" },
  { name: "idxAt", type: "u32" },
  { name: "valAt", type: "u32" },
] as const;

const BINDINGS: BindingSpec[] = [
  { name: "X", kind: "read" },
  { name: "B", kind: "read" },
  { name: "C", kind: "read_write" },
  { name: "params", kind: "uniform" },
];

const CODE = `${paramsStruct("Params", FIELDS)}
@group(0) @binding(0) var<storage, read> X: array<u32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// Row r of B, columns c..c+3 (0 beyond the last column).
fn loadB(r: u32, c: u32) -> vec4f {
  let base = params.offB + r * params.ldB + c;
  var v = vec4f(0.0);
  for (var q = 0u; q < 4u; q = q + 1u) {
    if (c + q < params.cols) { v[q] = B[base + q]; }
  }
  return v;
}

// Row r of B, columns c..c+3, all inside the row.
fn loadFullB(r: u32, c: u32) -> vec4f {
  let base = params.offB + r * params.ldB + c;
  return vec4f(B[base], B[base + 1u], B[base + 2u], B[base + 3u]);
}

fn store(out: u32, c: u32, v: vec4f) {
  for (var q = 0u; q < 4u; q = q + 1u) {
    if (c + q < params.cols) { C[out + q] = v[q]; }
  }
}

// One invocation per (output row, ${COLUMNS} columns): the row's indices and values are read once
// for all of them (on lavapipe every load is a per-lane sequence, so sharing them is what pays).
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let groups = (params.cols + ${COLUMNS - 1}u) / ${COLUMNS}u;
  let t = ${linearGroupId} * ${WG}u + lid;
  if (t >= params.rows * groups) { return; }
  let r = t / groups;
  let c = (t % groups) * ${COLUMNS}u;
  let full = c + ${COLUMNS}u <= params.cols;
  let x = params.offX;
  let k1 = X[x + params.ptrAt + r + 1u];
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k = X[x + params.ptrAt + r]; k < k1; k = k + 1u) {
    let a = vec4f(bitcast<f32>(X[x + params.valAt + k]));
    let j = X[x + params.idxAt + k];
    if (full) {
      acc0 = fma(a, loadFullB(j, c), acc0);
      acc1 = fma(a, loadFullB(j, c + 4u), acc1);
      acc2 = fma(a, loadFullB(j, c + 8u), acc2);
      acc3 = fma(a, loadFullB(j, c + 12u), acc3);
    } else {
      acc0 = fma(a, loadB(j, c), acc0);
      acc1 = fma(a, loadB(j, c + 4u), acc1);
      acc2 = fma(a, loadB(j, c + 8u), acc2);
      acc3 = fma(a, loadB(j, c + 12u), acc3);
    }
  }
  let out = params.offC + r * params.cols + c;
  store(out, c, acc0);
  store(out + 4u, c + 4u, acc1);
  store(out + 8u, c + 8u, acc2);
  store(out + 12u, c + 12u, acc3);
}
`;

/**
 * The kernel of a matmul reading the sparse features `x` (x·B forward, xᵀ·B for the weight's
 * gradient). `featureDim` is the symbol of x's columns; `maxWorkgroupsPerDim` folds large grids.
 */
export function sparseInputMatmul(
  ctx: KernelContext,
  op: Op,
  featureDim: string,
  maxWorkgroupsPerDim = 65535,
): Step[] {
  const [, B] = op.inputs as [Value, Value];
  const C = op.outputs[0]!;
  const transposed = !!op.attrs.transA;
  const dimsOf = (l: LaunchContext) => {
    const n = l.dims.N!;
    const f = l.dims[featureDim]!;
    const layout = sparseFeatureLayout(n, f, l.dims[FEATURE_NONZEROS]!);
    const cols = evalDim(C.shape[1]!, l.dims);
    return { n, f, layout, cols };
  };
  const launch = (l: LaunchContext) => {
    const { n, f, layout, cols } = dimsOf(l);
    return {
      rows: transposed ? f : n,
      cols,
      ldB: cols,
      offX: l.offsets[0]!,
      offB: l.offsets[1]!,
      offC: l.offsets[2]!,
      ptrAt: transposed ? layout.colPtr : layout.rowPtr,
      idxAt: transposed ? layout.row : layout.col,
      valAt: transposed ? layout.valT : layout.val,
    };
  };
  const name = ctx.name("matmul_sparse_x", C.hint);
  const spec: KernelSpec = {
    name,
    code: `// revgnn kernel ${name} (matmul_sparse_input)\n// implements IR ops: matmul\n// template: sparse_input_matmul\n// x·B (rows of x, CSR) or xᵀ·B (columns of x, CSC): one invocation per (output row, ${COLUMNS} columns)\n${CODE}`,
    entryPoint: "main",
    bindings: BINDINGS,
    operands: [op.inputs[0]!, B, C].map((value) => ({ kind: "value" as const, value })),
    params: [],
    workgroupSize: WG,
    grid: {
      formula: `${shapeToString(op.inputs[0]!.shape)} sparse ${transposed ? "tn" : "nn"} ${shapeToString(B.shape)} → ${shapeToString(C.shape)}`,
      threads: () => 0,
    },
    implements: ["matmul"],
    kind: "matmul_sparse_input",
    inPlace: new Map(),
    custom: {
      fields: FIELDS.map((f) => f.name),
      params: (l) => packParams(FIELDS, launch(l)),
      dispatch: (l) => {
        const p = launch(l);
        return foldGrid(ceilDiv(p.rows * ceilDiv(p.cols, COLUMNS), WG), maxWorkgroupsPerDim);
      },
    },
  };
  return [{ kind: "kernel", kernel: ctx.register(spec), writes: [C] }];
}
