// ==== k1_matmul
// revgnn kernel k1_matmul (matmul)
// A·B: [N, F], [F, 8] → [N, 8]
// 4×4 register block per invocation
// implements IR ops: matmul
// invocations: ceil(N/4)*ceil(8/4)

struct Params {
  off_x: u32,
  off_W_in: u32,
  off_t0: u32,
  dim_N: u32,
  dim_F: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> W_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> t0: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 64u + lid;
  let tiles = ((P.dim_N + 3u) / 4u) * ((8u + 3u) / 4u);
  if (idx >= tiles) { return; }
  let t = idx;
  let i0 = (t / ((8u + 3u) / 4u)) * 4u;
  let j0 = (t % ((8u + 3u) / 4u)) * 4u;
  let ia0 = min(i0 + 0u, P.dim_N - 1u);
  let ia1 = min(i0 + 1u, P.dim_N - 1u);
  let ia2 = min(i0 + 2u, P.dim_N - 1u);
  let ia3 = min(i0 + 3u, P.dim_N - 1u);
  let jb0 = min(j0 + 0u, 8u - 1u);
  let jb1 = min(j0 + 1u, 8u - 1u);
  let jb2 = min(j0 + 2u, 8u - 1u);
  let jb3 = min(j0 + 3u, 8u - 1u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let p0 = 0u;
  let p1 = P.dim_F;
  for (var p = p0; p < p1; p = p + 1u) {
    let bv = vec4<f32>(W_in[P.off_W_in + (p) * 8u + jb0], W_in[P.off_W_in + (p) * 8u + jb1], W_in[P.off_W_in + (p) * 8u + jb2], W_in[P.off_W_in + (p) * 8u + jb3]);
    acc0 = acc0 + x[P.off_x + (ia0) * P.dim_F + p] * bv;
    acc1 = acc1 + x[P.off_x + (ia1) * P.dim_F + p] * bv;
    acc2 = acc2 + x[P.off_x + (ia2) * P.dim_F + p] * bv;
    acc3 = acc3 + x[P.off_x + (ia3) * P.dim_F + p] * bv;
  }
  if (i0 + 0u < P.dim_N && j0 + 0u < 8u) { t0[P.off_t0 + (i0 + 0u) * 8u + j0 + 0u] = acc0[0]; }
  if (i0 + 0u < P.dim_N && j0 + 1u < 8u) { t0[P.off_t0 + (i0 + 0u) * 8u + j0 + 1u] = acc0[1]; }
  if (i0 + 0u < P.dim_N && j0 + 2u < 8u) { t0[P.off_t0 + (i0 + 0u) * 8u + j0 + 2u] = acc0[2]; }
  if (i0 + 0u < P.dim_N && j0 + 3u < 8u) { t0[P.off_t0 + (i0 + 0u) * 8u + j0 + 3u] = acc0[3]; }
  if (i0 + 1u < P.dim_N && j0 + 0u < 8u) { t0[P.off_t0 + (i0 + 1u) * 8u + j0 + 0u] = acc1[0]; }
  if (i0 + 1u < P.dim_N && j0 + 1u < 8u) { t0[P.off_t0 + (i0 + 1u) * 8u + j0 + 1u] = acc1[1]; }
  if (i0 + 1u < P.dim_N && j0 + 2u < 8u) { t0[P.off_t0 + (i0 + 1u) * 8u + j0 + 2u] = acc1[2]; }
  if (i0 + 1u < P.dim_N && j0 + 3u < 8u) { t0[P.off_t0 + (i0 + 1u) * 8u + j0 + 3u] = acc1[3]; }
  if (i0 + 2u < P.dim_N && j0 + 0u < 8u) { t0[P.off_t0 + (i0 + 2u) * 8u + j0 + 0u] = acc2[0]; }
  if (i0 + 2u < P.dim_N && j0 + 1u < 8u) { t0[P.off_t0 + (i0 + 2u) * 8u + j0 + 1u] = acc2[1]; }
  if (i0 + 2u < P.dim_N && j0 + 2u < 8u) { t0[P.off_t0 + (i0 + 2u) * 8u + j0 + 2u] = acc2[2]; }
  if (i0 + 2u < P.dim_N && j0 + 3u < 8u) { t0[P.off_t0 + (i0 + 2u) * 8u + j0 + 3u] = acc2[3]; }
  if (i0 + 3u < P.dim_N && j0 + 0u < 8u) { t0[P.off_t0 + (i0 + 3u) * 8u + j0 + 0u] = acc3[0]; }
  if (i0 + 3u < P.dim_N && j0 + 1u < 8u) { t0[P.off_t0 + (i0 + 3u) * 8u + j0 + 1u] = acc3[1]; }
  if (i0 + 3u < P.dim_N && j0 + 2u < 8u) { t0[P.off_t0 + (i0 + 3u) * 8u + j0 + 2u] = acc3[2]; }
  if (i0 + 3u < P.dim_N && j0 + 3u < 8u) { t0[P.off_t0 + (i0 + 3u) * 8u + j0 + 3u] = acc3[3]; }
}

// ==== k2_map
// revgnn kernel k2_map (map)
// [N, 8] 
// implements IR ops: add
// invocations: N*8

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_b_in: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> b_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 8u) { return; }
  let row = idx / 8u;
  let col = idx % 8u;
  let rd0 = t0[P.off_t0 + row * 8u + col];
  let rd1 = b_in[P.off_b_in + col];
  let ex2 = (rd0 + rd1);
  t1[P.off_t1 + idx] = ex2;
}

// ==== k3_map
// revgnn kernel k3_map (map)
// [N, 1] 
// implements IR ops: rsqrt, add, degree, fill
// invocations: N*1

struct Params {
  dim_N: u32,
  off_t0: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> in_degree: array<f32>;
@group(0) @binding(2) var<storage, read_write> t0: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 1u) { return; }
  let row = idx / 1u;
  let col = idx % 1u;
  let ex0 = in_degree[row];
  let ex1 = (ex0 + 1.0);
  let ex2 = inverseSqrt(ex1);
  t0[P.off_t0 + idx] = ex2;
}

// ==== k5_row_sum
// revgnn kernel k5_row_sum (row_reduce)
// row_sum [N, 4] → [N, 1]
// implements IR ops: row_sum, slice_cols
// invocations: N

struct Params {
  dim_N: u32,
  off_h: u32,
  off_t0: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read_write> t0: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  var acc = 0.0;
  for (var c = 0u; c < 4u; c = c + 1u) {
    let rd0 = h[P.off_h + row * 8u + (c + 4u)];
    let ex1 = rd0;
    acc = acc + ex1;
  }
  t0[P.off_t0 + row] = acc;
}

// ==== k6_row_sum
// revgnn kernel k6_row_sum (row_reduce)
// row_sum [N, 4] → [N, 1]
// implements IR ops: row_sum, mul, sub, slice_cols, fill
// invocations: N

struct Params {
  dim_N: u32,
  off_h: u32,
  off_t0: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> t0: array<f32>;
@group(0) @binding(3) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  let rd2 = t0[P.off_t0 + row];
  let ex3 = (rd2 * 0.25);
  var acc = 0.0;
  for (var c = 0u; c < 4u; c = c + 1u) {
    let rd0 = h[P.off_h + row * 8u + (c + 4u)];
    let ex1 = rd0;
    let ex4 = (ex1 - ex3);
    let ex5 = (ex4 * ex4);
    acc = acc + ex5;
  }
  t1[P.off_t1 + row] = acc;
}

// ==== k7_map
// revgnn kernel k7_map (map)
// [N, 4] 
// implements IR ops: relu, add, mul, sub, slice_cols, fill, rsqrt
// invocations: N*4

struct Params {
  dim_N: u32,
  off_h: u32,
  off_t0: u32,
  off_t1: u32,
  off_gamma: u32,
  off_beta: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> t0: array<f32>;
@group(0) @binding(3) var<storage, read> t1: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let row = idx / 4u;
  let col = idx % 4u;
  let rd0 = h[P.off_h + row * 8u + (col + 4u)];
  let ex1 = rd0;
  let rd2 = t0[P.off_t0 + row];
  let ex3 = (rd2 * 0.25);
  let ex4 = (ex1 - ex3);
  let rd5 = t1[P.off_t1 + row];
  let ex6 = (rd5 * 0.25);
  let ex7 = (ex6 + 0.000009999999747378752);
  let ex8 = inverseSqrt(ex7);
  let ex9 = (ex4 * ex8);
  let rd10 = gamma[P.off_gamma + col];
  let ex11 = (ex9 * rd10);
  let rd12 = beta[P.off_beta + col];
  let ex13 = (ex11 + rd12);
  let ex14 = max(ex13, 0.0);
  t2[P.off_t2 + idx] = ex14;
}

// ==== k8_matmul
// revgnn kernel k8_matmul (matmul)
// A·B: [N, 4], [4, 4] → [N, 4]
// 4×4 register block per invocation
// implements IR ops: matmul
// invocations: ceil(N/4)*ceil(4/4)

struct Params {
  off_t0: u32,
  off_W: u32,
  off_t1: u32,
  dim_N: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 64u + lid;
  let tiles = ((P.dim_N + 3u) / 4u) * ((4u + 3u) / 4u);
  if (idx >= tiles) { return; }
  let t = idx;
  let i0 = (t / ((4u + 3u) / 4u)) * 4u;
  let j0 = (t % ((4u + 3u) / 4u)) * 4u;
  let ia0 = min(i0 + 0u, P.dim_N - 1u);
  let ia1 = min(i0 + 1u, P.dim_N - 1u);
  let ia2 = min(i0 + 2u, P.dim_N - 1u);
  let ia3 = min(i0 + 3u, P.dim_N - 1u);
  let jb0 = min(j0 + 0u, 4u - 1u);
  let jb1 = min(j0 + 1u, 4u - 1u);
  let jb2 = min(j0 + 2u, 4u - 1u);
  let jb3 = min(j0 + 3u, 4u - 1u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let p0 = 0u;
  let p1 = 4u;
  for (var p = p0; p < p1; p = p + 1u) {
    let bv = vec4<f32>(W[P.off_W + (p) * 4u + jb0], W[P.off_W + (p) * 4u + jb1], W[P.off_W + (p) * 4u + jb2], W[P.off_W + (p) * 4u + jb3]);
    acc0 = acc0 + t0[P.off_t0 + (ia0) * 4u + p] * bv;
    acc1 = acc1 + t0[P.off_t0 + (ia1) * 4u + p] * bv;
    acc2 = acc2 + t0[P.off_t0 + (ia2) * 4u + p] * bv;
    acc3 = acc3 + t0[P.off_t0 + (ia3) * 4u + p] * bv;
  }
  if (i0 + 0u < P.dim_N && j0 + 0u < 4u) { t1[P.off_t1 + (i0 + 0u) * 4u + j0 + 0u] = acc0[0]; }
  if (i0 + 0u < P.dim_N && j0 + 1u < 4u) { t1[P.off_t1 + (i0 + 0u) * 4u + j0 + 1u] = acc0[1]; }
  if (i0 + 0u < P.dim_N && j0 + 2u < 4u) { t1[P.off_t1 + (i0 + 0u) * 4u + j0 + 2u] = acc0[2]; }
  if (i0 + 0u < P.dim_N && j0 + 3u < 4u) { t1[P.off_t1 + (i0 + 0u) * 4u + j0 + 3u] = acc0[3]; }
  if (i0 + 1u < P.dim_N && j0 + 0u < 4u) { t1[P.off_t1 + (i0 + 1u) * 4u + j0 + 0u] = acc1[0]; }
  if (i0 + 1u < P.dim_N && j0 + 1u < 4u) { t1[P.off_t1 + (i0 + 1u) * 4u + j0 + 1u] = acc1[1]; }
  if (i0 + 1u < P.dim_N && j0 + 2u < 4u) { t1[P.off_t1 + (i0 + 1u) * 4u + j0 + 2u] = acc1[2]; }
  if (i0 + 1u < P.dim_N && j0 + 3u < 4u) { t1[P.off_t1 + (i0 + 1u) * 4u + j0 + 3u] = acc1[3]; }
  if (i0 + 2u < P.dim_N && j0 + 0u < 4u) { t1[P.off_t1 + (i0 + 2u) * 4u + j0 + 0u] = acc2[0]; }
  if (i0 + 2u < P.dim_N && j0 + 1u < 4u) { t1[P.off_t1 + (i0 + 2u) * 4u + j0 + 1u] = acc2[1]; }
  if (i0 + 2u < P.dim_N && j0 + 2u < 4u) { t1[P.off_t1 + (i0 + 2u) * 4u + j0 + 2u] = acc2[2]; }
  if (i0 + 2u < P.dim_N && j0 + 3u < 4u) { t1[P.off_t1 + (i0 + 2u) * 4u + j0 + 3u] = acc2[3]; }
  if (i0 + 3u < P.dim_N && j0 + 0u < 4u) { t1[P.off_t1 + (i0 + 3u) * 4u + j0 + 0u] = acc3[0]; }
  if (i0 + 3u < P.dim_N && j0 + 1u < 4u) { t1[P.off_t1 + (i0 + 3u) * 4u + j0 + 1u] = acc3[1]; }
  if (i0 + 3u < P.dim_N && j0 + 2u < 4u) { t1[P.off_t1 + (i0 + 3u) * 4u + j0 + 2u] = acc3[2]; }
  if (i0 + 3u < P.dim_N && j0 + 3u < 4u) { t1[P.off_t1 + (i0 + 3u) * 4u + j0 + 3u] = acc3[3]; }
}

// ==== k9_sum_by_dst
// revgnn kernel k9_sum_by_dst (segment_csr)
// segment_sum by destination (CSR) with self loops: message inlined, never stored
// implements IR ops: segment_sum, mul, gather
// invocations: N*4

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> csr_rowptr: array<u32>;
@group(0) @binding(2) var<storage, read> csr_src: array<u32>;
@group(0) @binding(3) var<storage, read> t0: array<f32>;
@group(0) @binding(4) var<storage, read> t1: array<f32>;
@group(0) @binding(5) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let node = idx / 4u;
  let col = idx % 4u;
  let rd1 = t0[P.off_t0 + node];
  let ex5 = (rd1 * rd1);
  let rd6 = t1[P.off_t1 + node * 4u + col];
  let ex7 = (ex5 * rd6);
  var acc = ex7;
  let k0 = csr_rowptr[node];
  let k1 = csr_rowptr[node + 1u];
  for (var k = k0; k < k1; k = k + 1u) {
    let rd0 = t0[P.off_t0 + csr_src[k]];
    let ex2 = (rd0 * rd1);
    let rd3 = t1[P.off_t1 + csr_src[k] * 4u + col];
    let ex4 = (ex2 * rd3);
    acc = acc + ex4;
  }
  t2[P.off_t2 + idx] = acc;
}

// ==== k10_row_sum
// revgnn kernel k10_row_sum (row_reduce)
// row_sum [N, 4] → [N, 1]
// implements IR ops: row_sum, add, slice_cols
// invocations: N

struct Params {
  dim_N: u32,
  off_h: u32,
  off_t0: u32,
  off_b: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> t0: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  var acc = 0.0;
  for (var c = 0u; c < 4u; c = c + 1u) {
    let rd0 = h[P.off_h + row * 8u + (c + 0u)];
    let ex1 = rd0;
    let rd2 = t0[P.off_t0 + row * 4u + c];
    let rd3 = b[P.off_b + c];
    let ex4 = (rd2 + rd3);
    let ex5 = (ex1 + ex4);
    acc = acc + ex5;
  }
  t1[P.off_t1 + row] = acc;
}

// ==== k11_map
// revgnn kernel k11_map (map)
// [N, 4] 
// implements IR ops: sub, add, slice_cols, mul, fill
// invocations: N*4

struct Params {
  dim_N: u32,
  off_h: u32,
  off_t0: u32,
  off_b: u32,
  off_t1: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> t0: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> t1: array<f32>;
@group(0) @binding(5) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let row = idx / 4u;
  let col = idx % 4u;
  let rd0 = h[P.off_h + row * 8u + (col + 0u)];
  let ex1 = rd0;
  let rd2 = t0[P.off_t0 + row * 4u + col];
  let rd3 = b[P.off_b + col];
  let ex4 = (rd2 + rd3);
  let ex5 = (ex1 + ex4);
  let rd6 = t1[P.off_t1 + row];
  let ex7 = (rd6 * 0.25);
  let ex8 = (ex5 - ex7);
  t2[P.off_t2 + idx] = ex8;
}

// ==== k12_row_sum
// revgnn kernel k12_row_sum (row_reduce)
// row_sum [N, 4] → [N, 1]
// implements IR ops: row_sum, mul
// invocations: N

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  var acc = 0.0;
  for (var c = 0u; c < 4u; c = c + 1u) {
    let rd0 = t0[P.off_t0 + row * 4u + c];
    let ex1 = (rd0 * rd0);
    acc = acc + ex1;
  }
  t1[P.off_t1 + row] = acc;
}

// ==== k13_map
// revgnn kernel k13_map (map)
// [N, 4] 
// implements IR ops: relu, add, mul, rsqrt, fill
// invocations: N*4

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_gamma: u32,
  off_beta: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let row = idx / 4u;
  let col = idx % 4u;
  let rd0 = t0[P.off_t0 + row * 4u + col];
  let rd1 = t1[P.off_t1 + row];
  let ex2 = (rd1 * 0.25);
  let ex3 = (ex2 + 0.000009999999747378752);
  let ex4 = inverseSqrt(ex3);
  let ex5 = (rd0 * ex4);
  let rd6 = gamma[P.off_gamma + col];
  let ex7 = (ex5 * rd6);
  let rd8 = beta[P.off_beta + col];
  let ex9 = (ex7 + rd8);
  let ex10 = max(ex9, 0.0);
  t2[P.off_t2 + idx] = ex10;
}

// ==== k16_map
// revgnn kernel k16_map (map)
// [N, 8] 
// implements IR ops: concat_cols, add, slice_cols
// invocations: N*8

struct Params {
  dim_N: u32,
  off_h: u32,
  off_t0: u32,
  off_b: u32,
  off_t1: u32,
  off_b_2: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> h: array<f32>;
@group(0) @binding(2) var<storage, read> t0: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> t1: array<f32>;
@group(0) @binding(5) var<storage, read> b_2: array<f32>;
@group(0) @binding(6) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 8u) { return; }
  let row = idx / 8u;
  let col = idx % 8u;
  let rd0 = h[P.off_h + row * 8u + (min(col - min(col, (0u + 4u)), 4u - 1u) + 4u)];
  let ex1 = rd0;
  let rd2 = t0[P.off_t0 + row * 4u + min(col - min(col, (0u + 4u)), 4u - 1u)];
  let rd3 = b[P.off_b + min(col - min(col, (0u + 4u)), 4u - 1u)];
  let ex4 = (rd2 + rd3);
  let ex5 = (ex1 + ex4);
  let rd6 = h[P.off_h + row * 8u + (min(col - min(col, 0u), 4u - 1u) + 0u)];
  let ex7 = rd6;
  let rd8 = t1[P.off_t1 + row * 4u + min(col - min(col, 0u), 4u - 1u)];
  let rd9 = b_2[P.off_b_2 + min(col - min(col, 0u), 4u - 1u)];
  let ex10 = (rd8 + rd9);
  let ex11 = (ex7 + ex10);
  let ex12 = select(ex5, ex11, col < (0u + 4u));
  t2[P.off_t2 + idx] = ex12;
}

// ==== k17_map_inplace
// revgnn kernel k17_map_inplace (map)
// [N, 4] 
// in place: overwrites its input
// implements IR ops: relu, add, mul, rsqrt, fill
// invocations: N*4

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_gamma: u32,
  off_beta: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let row = idx / 4u;
  let col = idx % 4u;
  let rd0 = t0[P.off_t0 + row * 4u + col];
  let rd1 = t1[P.off_t1 + row];
  let ex2 = (rd1 * 0.25);
  let ex3 = (ex2 + 0.000009999999747378752);
  let ex4 = inverseSqrt(ex3);
  let ex5 = (rd0 * ex4);
  let rd6 = gamma[P.off_gamma + col];
  let ex7 = (ex5 * rd6);
  let rd8 = beta[P.off_beta + col];
  let ex9 = (ex7 + rd8);
  let ex10 = max(ex9, 0.0);
  t0[P.off_t0 + idx] = ex10;
}

// ==== k18_row_sum
// revgnn kernel k18_row_sum (row_reduce)
// row_sum [N, 8] → [N, 1]
// implements IR ops: row_sum
// invocations: N

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  var acc = 0.0;
  for (var c = 0u; c < 8u; c = c + 1u) {
    let rd0 = t0[P.off_t0 + row * 8u + c];
    acc = acc + rd0;
  }
  t1[P.off_t1 + row] = acc;
}

// ==== k19_row_sum
// revgnn kernel k19_row_sum (row_reduce)
// row_sum [N, 8] → [N, 1]
// implements IR ops: row_sum, mul, sub, fill
// invocations: N

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  let rd1 = t1[P.off_t1 + row];
  let ex2 = (rd1 * 0.125);
  var acc = 0.0;
  for (var c = 0u; c < 8u; c = c + 1u) {
    let rd0 = t0[P.off_t0 + row * 8u + c];
    let ex3 = (rd0 - ex2);
    let ex4 = (ex3 * ex3);
    acc = acc + ex4;
  }
  t2[P.off_t2 + row] = acc;
}

// ==== k20_map
// revgnn kernel k20_map (map)
// [N, 8] 
// implements IR ops: relu, add, mul, sub, fill, rsqrt
// invocations: N*8

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
  off_gamma: u32,
  off_beta: u32,
  off_t3: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read> t2: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> t3: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 8u) { return; }
  let row = idx / 8u;
  let col = idx % 8u;
  let rd0 = t0[P.off_t0 + row * 8u + col];
  let rd1 = t1[P.off_t1 + row];
  let ex2 = (rd1 * 0.125);
  let ex3 = (rd0 - ex2);
  let rd4 = t2[P.off_t2 + row];
  let ex5 = (rd4 * 0.125);
  let ex6 = (ex5 + 0.000009999999747378752);
  let ex7 = inverseSqrt(ex6);
  let ex8 = (ex3 * ex7);
  let rd9 = gamma[P.off_gamma + col];
  let ex10 = (ex8 * rd9);
  let rd11 = beta[P.off_beta + col];
  let ex12 = (ex10 + rd11);
  let ex13 = max(ex12, 0.0);
  t3[P.off_t3 + idx] = ex13;
}

// ==== k21_matmul
// revgnn kernel k21_matmul (matmul)
// A·B: [N, 8], [8, K] → [N, K]
// 4×4 register block per invocation
// implements IR ops: matmul
// invocations: ceil(N/4)*ceil(K/4)

struct Params {
  off_t0: u32,
  off_W_out: u32,
  off_t1: u32,
  dim_N: u32,
  dim_K: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> W_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 64u + lid;
  let tiles = ((P.dim_N + 3u) / 4u) * ((P.dim_K + 3u) / 4u);
  if (idx >= tiles) { return; }
  let t = idx;
  let i0 = (t / ((P.dim_K + 3u) / 4u)) * 4u;
  let j0 = (t % ((P.dim_K + 3u) / 4u)) * 4u;
  let ia0 = min(i0 + 0u, P.dim_N - 1u);
  let ia1 = min(i0 + 1u, P.dim_N - 1u);
  let ia2 = min(i0 + 2u, P.dim_N - 1u);
  let ia3 = min(i0 + 3u, P.dim_N - 1u);
  let jb0 = min(j0 + 0u, P.dim_K - 1u);
  let jb1 = min(j0 + 1u, P.dim_K - 1u);
  let jb2 = min(j0 + 2u, P.dim_K - 1u);
  let jb3 = min(j0 + 3u, P.dim_K - 1u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let p0 = 0u;
  let p1 = 8u;
  for (var p = p0; p < p1; p = p + 1u) {
    let bv = vec4<f32>(W_out[P.off_W_out + (p) * P.dim_K + jb0], W_out[P.off_W_out + (p) * P.dim_K + jb1], W_out[P.off_W_out + (p) * P.dim_K + jb2], W_out[P.off_W_out + (p) * P.dim_K + jb3]);
    acc0 = acc0 + t0[P.off_t0 + (ia0) * 8u + p] * bv;
    acc1 = acc1 + t0[P.off_t0 + (ia1) * 8u + p] * bv;
    acc2 = acc2 + t0[P.off_t0 + (ia2) * 8u + p] * bv;
    acc3 = acc3 + t0[P.off_t0 + (ia3) * 8u + p] * bv;
  }
  if (i0 + 0u < P.dim_N && j0 + 0u < P.dim_K) { t1[P.off_t1 + (i0 + 0u) * P.dim_K + j0 + 0u] = acc0[0]; }
  if (i0 + 0u < P.dim_N && j0 + 1u < P.dim_K) { t1[P.off_t1 + (i0 + 0u) * P.dim_K + j0 + 1u] = acc0[1]; }
  if (i0 + 0u < P.dim_N && j0 + 2u < P.dim_K) { t1[P.off_t1 + (i0 + 0u) * P.dim_K + j0 + 2u] = acc0[2]; }
  if (i0 + 0u < P.dim_N && j0 + 3u < P.dim_K) { t1[P.off_t1 + (i0 + 0u) * P.dim_K + j0 + 3u] = acc0[3]; }
  if (i0 + 1u < P.dim_N && j0 + 0u < P.dim_K) { t1[P.off_t1 + (i0 + 1u) * P.dim_K + j0 + 0u] = acc1[0]; }
  if (i0 + 1u < P.dim_N && j0 + 1u < P.dim_K) { t1[P.off_t1 + (i0 + 1u) * P.dim_K + j0 + 1u] = acc1[1]; }
  if (i0 + 1u < P.dim_N && j0 + 2u < P.dim_K) { t1[P.off_t1 + (i0 + 1u) * P.dim_K + j0 + 2u] = acc1[2]; }
  if (i0 + 1u < P.dim_N && j0 + 3u < P.dim_K) { t1[P.off_t1 + (i0 + 1u) * P.dim_K + j0 + 3u] = acc1[3]; }
  if (i0 + 2u < P.dim_N && j0 + 0u < P.dim_K) { t1[P.off_t1 + (i0 + 2u) * P.dim_K + j0 + 0u] = acc2[0]; }
  if (i0 + 2u < P.dim_N && j0 + 1u < P.dim_K) { t1[P.off_t1 + (i0 + 2u) * P.dim_K + j0 + 1u] = acc2[1]; }
  if (i0 + 2u < P.dim_N && j0 + 2u < P.dim_K) { t1[P.off_t1 + (i0 + 2u) * P.dim_K + j0 + 2u] = acc2[2]; }
  if (i0 + 2u < P.dim_N && j0 + 3u < P.dim_K) { t1[P.off_t1 + (i0 + 2u) * P.dim_K + j0 + 3u] = acc2[3]; }
  if (i0 + 3u < P.dim_N && j0 + 0u < P.dim_K) { t1[P.off_t1 + (i0 + 3u) * P.dim_K + j0 + 0u] = acc3[0]; }
  if (i0 + 3u < P.dim_N && j0 + 1u < P.dim_K) { t1[P.off_t1 + (i0 + 3u) * P.dim_K + j0 + 1u] = acc3[1]; }
  if (i0 + 3u < P.dim_N && j0 + 2u < P.dim_K) { t1[P.off_t1 + (i0 + 3u) * P.dim_K + j0 + 2u] = acc3[2]; }
  if (i0 + 3u < P.dim_N && j0 + 3u < P.dim_K) { t1[P.off_t1 + (i0 + 3u) * P.dim_K + j0 + 3u] = acc3[3]; }
}

// ==== k22_colsum_partials
// revgnn kernel k22_colsum_partials (column_reduce_partials)
// sum_all [N, 1] → [], stage 1 of 2
// implements IR ops: sum_all
// invocations: ceil(N/256)*1

struct Params {
  dim_N: u32,
  off_train_mask: u32,
  off_sum_partials: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> train_mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum_partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  let col = idx % 1u;
  let chunk = idx / 1u;
  if (chunk >= ((P.dim_N + 255u) / 256u)) { return; }
  let r0 = chunk * 256u;
  let r1 = min(r0 + 256u, P.dim_N);
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let rd0 = train_mask[P.off_train_mask + r];
    acc = acc + rd0;
  }
  sum_partials[P.off_sum_partials + chunk * 1u + col] = acc;
}

// ==== k23_colsum_final
// revgnn kernel k23_colsum_final (column_reduce_final)
// sum_all, stage 2 of 2
// implements IR ops: sum_all
// invocations: 1

struct Params {
  off_sum_partials: u32,
  off_t0: u32,
  dim_N: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> sum_partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> t0: array<f32>;

@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 1u + lid;
  if (idx >= 1u) { return; }
  var acc = 0.0;
  for (var k = 0u; k < ((P.dim_N + 255u) / 256u) * 1u; k = k + 1u) { acc = acc + sum_partials[P.off_sum_partials + k]; }
  t0[P.off_t0] = acc;
}

// ==== k24_row_max
// revgnn kernel k24_row_max (row_reduce)
// row_max [N, K] → [N, 1]
// implements IR ops: row_max, add
// invocations: N

struct Params {
  dim_N: u32,
  off_t0: u32,
  dim_K: u32,
  off_b_out: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> b_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  var acc = -3.4028234663852886e38;
  for (var c = 0u; c < P.dim_K; c = c + 1u) {
    let rd0 = t0[P.off_t0 + row * P.dim_K + c];
    let rd1 = b_out[P.off_b_out + c];
    let ex2 = (rd0 + rd1);
    acc = max(acc, ex2);
  }
  t1[P.off_t1 + row] = acc;
}

// ==== k25_row_sum
// revgnn kernel k25_row_sum (row_reduce)
// row_sum [N, K] → [N, 1]
// implements IR ops: row_sum, exp, sub, add, stop_gradient
// invocations: N

struct Params {
  dim_N: u32,
  off_t0: u32,
  dim_K: u32,
  off_b_out: u32,
  off_t1: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> b_out: array<f32>;
@group(0) @binding(3) var<storage, read> t1: array<f32>;
@group(0) @binding(4) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  let rd3 = t1[P.off_t1 + row];
  let ex4 = rd3;
  var acc = 0.0;
  for (var c = 0u; c < P.dim_K; c = c + 1u) {
    let rd0 = t0[P.off_t0 + row * P.dim_K + c];
    let rd1 = b_out[P.off_b_out + c];
    let ex2 = (rd0 + rd1);
    let ex5 = (ex2 - ex4);
    let ex6 = exp(ex5);
    acc = acc + ex6;
  }
  t2[P.off_t2 + row] = acc;
}

// ==== k26_row_sum
// revgnn kernel k26_row_sum (row_reduce)
// row_sum [N, K] → [N, 1]
// implements IR ops: row_sum, mul, one_hot, add
// invocations: N

struct Params {
  dim_N: u32,
  off_y: u32,
  off_t0: u32,
  dim_K: u32,
  off_b_out: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> t0: array<f32>;
@group(0) @binding(3) var<storage, read> b_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  let rd0 = y[P.off_y + row];
  var acc = 0.0;
  for (var c = 0u; c < P.dim_K; c = c + 1u) {
    let ex1 = select(0.0, 1.0, rd0 == f32(c));
    let rd2 = t0[P.off_t0 + row * P.dim_K + c];
    let rd3 = b_out[P.off_b_out + c];
    let ex4 = (rd2 + rd3);
    let ex5 = (ex1 * ex4);
    acc = acc + ex5;
  }
  t1[P.off_t1 + row] = acc;
}

// ==== k27_colsum_partials
// revgnn kernel k27_colsum_partials (column_reduce_partials)
// sum_all [N, 1] → [], stage 1 of 2
// implements IR ops: sum_all, mul, sub, add, stop_gradient, log
// invocations: ceil(N/256)*1

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
  off_train_mask: u32,
  off_sum_partials: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read> t2: array<f32>;
@group(0) @binding(4) var<storage, read> train_mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> sum_partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  let col = idx % 1u;
  let chunk = idx / 1u;
  if (chunk >= ((P.dim_N + 255u) / 256u)) { return; }
  let r0 = chunk * 256u;
  let r1 = min(r0 + 256u, P.dim_N);
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let rd0 = t0[P.off_t0 + r];
    let ex1 = rd0;
    let rd2 = t1[P.off_t1 + r];
    let ex3 = log(rd2);
    let ex4 = (ex1 + ex3);
    let rd5 = t2[P.off_t2 + r];
    let ex6 = (ex4 - rd5);
    let rd7 = train_mask[P.off_train_mask + r];
    let ex8 = (ex6 * rd7);
    acc = acc + ex8;
  }
  sum_partials[P.off_sum_partials + chunk * 1u + col] = acc;
}

// ==== k29_map_loss
// revgnn kernel k29_map_loss (map)
// [] loss
// implements IR ops: div
// invocations: 1

struct Params {
  off_t0: u32,
  off_t1: u32,
  off_loss: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= 1u) { return; }
  let rd0 = t0[P.off_t0 + 0u];
  let rd1 = t1[P.off_t1 + 0u];
  let ex2 = (rd0 / rd1);
  loss[P.off_loss + idx] = ex2;
}

// ==== k30_colsum_partials
// revgnn kernel k30_colsum_partials (column_reduce_partials)
// sum_all [N, 1] → [], stage 1 of 2
// implements IR ops: sum_all
// invocations: ceil(N/256)*1

struct Params {
  dim_N: u32,
  off_valid_mask: u32,
  off_sum_partials: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> valid_mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum_partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  let col = idx % 1u;
  let chunk = idx / 1u;
  if (chunk >= ((P.dim_N + 255u) / 256u)) { return; }
  let r0 = chunk * 256u;
  let r1 = min(r0 + 256u, P.dim_N);
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let rd0 = valid_mask[P.off_valid_mask + r];
    acc = acc + rd0;
  }
  sum_partials[P.off_sum_partials + chunk * 1u + col] = acc;
}

// ==== k35_colsum_partials
// revgnn kernel k35_colsum_partials (column_reduce_partials)
// sum_all [N, 1] → [], stage 1 of 2
// implements IR ops: sum_all, mul, sub, add, stop_gradient, log
// invocations: ceil(N/256)*1

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
  off_valid_mask: u32,
  off_sum_partials: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read> t2: array<f32>;
@group(0) @binding(4) var<storage, read> valid_mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> sum_partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  let col = idx % 1u;
  let chunk = idx / 1u;
  if (chunk >= ((P.dim_N + 255u) / 256u)) { return; }
  let r0 = chunk * 256u;
  let r1 = min(r0 + 256u, P.dim_N);
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let rd0 = t0[P.off_t0 + r];
    let ex1 = rd0;
    let rd2 = t1[P.off_t1 + r];
    let ex3 = log(rd2);
    let ex4 = (ex1 + ex3);
    let rd5 = t2[P.off_t2 + r];
    let ex6 = (ex4 - rd5);
    let rd7 = valid_mask[P.off_valid_mask + r];
    let ex8 = (ex6 * rd7);
    acc = acc + ex8;
  }
  sum_partials[P.off_sum_partials + chunk * 1u + col] = acc;
}

// ==== k37_map
// revgnn kernel k37_map (map)
// [] 
// implements IR ops: div
// invocations: 1

struct Params {
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= 1u) { return; }
  let rd0 = t0[P.off_t0 + 0u];
  let rd1 = t1[P.off_t1 + 0u];
  let ex2 = (rd0 / rd1);
  t2[P.off_t2 + idx] = ex2;
}

// ==== k38_row_argmax
// revgnn kernel k38_row_argmax (row_reduce)
// row_argmax [N, K] → [N, 1]
// implements IR ops: row_argmax, add
// invocations: N

struct Params {
  dim_N: u32,
  off_t0: u32,
  dim_K: u32,
  off_b_out: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> b_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N) { return; }
  let row = idx;
  var acc = -3.4028234663852886e38;
  var acc_at = 0u;
  for (var c = 0u; c < P.dim_K; c = c + 1u) {
    let rd0 = t0[P.off_t0 + row * P.dim_K + c];
    let rd1 = b_out[P.off_b_out + c];
    let ex2 = (rd0 + rd1);
    { let acc_v = ex2; if (acc_v > acc) { acc = acc_v; acc_at = c; } }
  }
  t1[P.off_t1 + row] = f32(acc_at);
}

// ==== k39_colsum_partials
// revgnn kernel k39_colsum_partials (column_reduce_partials)
// sum_all [N, 1] → [], stage 1 of 2
// implements IR ops: sum_all, mul, eq
// invocations: ceil(N/256)*1

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_y: u32,
  off_train_mask: u32,
  off_sum_partials: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> train_mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> sum_partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  let col = idx % 1u;
  let chunk = idx / 1u;
  if (chunk >= ((P.dim_N + 255u) / 256u)) { return; }
  let r0 = chunk * 256u;
  let r1 = min(r0 + 256u, P.dim_N);
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let rd0 = t0[P.off_t0 + r];
    let rd1 = y[P.off_y + r];
    let ex2 = select(0.0, 1.0, rd0 == rd1);
    let rd3 = train_mask[P.off_train_mask + r];
    let ex4 = (ex2 * rd3);
    acc = acc + ex4;
  }
  sum_partials[P.off_sum_partials + chunk * 1u + col] = acc;
}

// ==== k41_colsum_partials
// revgnn kernel k41_colsum_partials (column_reduce_partials)
// sum_all [N, 1] → [], stage 1 of 2
// implements IR ops: sum_all, mul, eq
// invocations: ceil(N/256)*1

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_y: u32,
  off_valid_mask: u32,
  off_sum_partials: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> valid_mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> sum_partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  let col = idx % 1u;
  let chunk = idx / 1u;
  if (chunk >= ((P.dim_N + 255u) / 256u)) { return; }
  let r0 = chunk * 256u;
  let r1 = min(r0 + 256u, P.dim_N);
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let rd0 = t0[P.off_t0 + r];
    let rd1 = y[P.off_y + r];
    let ex2 = select(0.0, 1.0, rd0 == rd1);
    let rd3 = valid_mask[P.off_valid_mask + r];
    let ex4 = (ex2 * rd3);
    acc = acc + ex4;
  }
  sum_partials[P.off_sum_partials + chunk * 1u + col] = acc;
}

// ==== k43_colsum_partials
// revgnn kernel k43_colsum_partials (column_reduce_partials)
// sum_all [N, 1] → [], stage 1 of 2
// implements IR ops: sum_all, mul, eq
// invocations: ceil(N/256)*1

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_y: u32,
  off_test_mask: u32,
  off_sum_partials: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> test_mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> sum_partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  let col = idx % 1u;
  let chunk = idx / 1u;
  if (chunk >= ((P.dim_N + 255u) / 256u)) { return; }
  let r0 = chunk * 256u;
  let r1 = min(r0 + 256u, P.dim_N);
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let rd0 = t0[P.off_t0 + r];
    let rd1 = y[P.off_y + r];
    let ex2 = select(0.0, 1.0, rd0 == rd1);
    let rd3 = test_mask[P.off_test_mask + r];
    let ex4 = (ex2 * rd3);
    acc = acc + ex4;
  }
  sum_partials[P.off_sum_partials + chunk * 1u + col] = acc;
}

// ==== k45_map_inplace
// revgnn kernel k45_map_inplace (map)
// [N, 8] 
// in place: overwrites its input
// implements IR ops: add
// invocations: N*8

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_b_in: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> t0: array<f32>;
@group(0) @binding(2) var<storage, read> b_in: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 8u) { return; }
  let row = idx / 8u;
  let col = idx % 8u;
  let rd0 = t0[P.off_t0 + row * 8u + col];
  let rd1 = b_in[P.off_b_in + col];
  let ex2 = (rd0 + rd1);
  t0[P.off_t0 + idx] = ex2;
}

// ==== k46_map_inplace
// revgnn kernel k46_map_inplace (map)
// [N, 8] 
// in place: overwrites its input
// implements IR ops: relu, add, mul, sub, fill, rsqrt
// invocations: N*8

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
  off_gamma: u32,
  off_beta: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read> t2: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 8u) { return; }
  let row = idx / 8u;
  let col = idx % 8u;
  let rd0 = t0[P.off_t0 + row * 8u + col];
  let rd1 = t1[P.off_t1 + row];
  let ex2 = (rd1 * 0.125);
  let ex3 = (rd0 - ex2);
  let rd4 = t2[P.off_t2 + row];
  let ex5 = (rd4 * 0.125);
  let ex6 = (ex5 + 0.000009999999747378752);
  let ex7 = inverseSqrt(ex6);
  let ex8 = (ex3 * ex7);
  let rd9 = gamma[P.off_gamma + col];
  let ex10 = (ex8 * rd9);
  let rd11 = beta[P.off_beta + col];
  let ex12 = (ex10 + rd11);
  let ex13 = max(ex12, 0.0);
  t0[P.off_t0 + idx] = ex13;
}

// ==== k47_map_inplace_loss
// revgnn kernel k47_map_inplace_loss (map)
// [] loss
// in place: overwrites its input
// implements IR ops: div
// invocations: 1

struct Params {
  off_t0: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= 1u) { return; }
  let rd0 = t0[P.off_t0 + 0u];
  let rd1 = t1[P.off_t1 + 0u];
  let ex2 = (rd0 / rd1);
  t0[P.off_t0 + idx] = ex2;
}

// ==== k48_map_inplace
// revgnn kernel k48_map_inplace (map)
// [] 
// in place: overwrites its input
// implements IR ops: div
// invocations: 1

struct Params {
  off_t0: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= 1u) { return; }
  let rd0 = t0[P.off_t0 + 0u];
  let rd1 = t1[P.off_t1 + 0u];
  let ex2 = (rd0 / rd1);
  t0[P.off_t0 + idx] = ex2;
}
