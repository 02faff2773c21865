// ==== k10_sum_by_dst
// revgnn kernel k10_sum_by_dst (segment_csr)
// segment_sum by destination (CSR) with self loops: message inlined, never stored
// implements IR ops: segment_sum, mul, gather, rsqrt, add, degree, fill
// invocations: N*4

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> csr_rowptr: array<u32>;
@group(0) @binding(2) var<storage, read> csr_src: array<u32>;
@group(0) @binding(3) var<storage, read> in_degree: array<f32>;
@group(0) @binding(4) var<storage, read> t0: array<f32>;
@group(0) @binding(5) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let node = idx / 4u;
  let col = (idx % 4u) * 4u;
  let ex3 = in_degree[node];
  let ex4 = (ex3 + 1.0);
  let ex5 = inverseSqrt(ex4);
  let ex15 = (ex5 * ex5);
  let rd16 = t0[P.off_t0 + node * 16u + col];
  let ex17 = (ex15 * rd16);
  let rd18 = t0[P.off_t0 + node * 16u + (col + 1u)];
  let ex19 = (ex15 * rd18);
  let rd20 = t0[P.off_t0 + node * 16u + (col + 2u)];
  let ex21 = (ex15 * rd20);
  let rd22 = t0[P.off_t0 + node * 16u + (col + 3u)];
  let ex23 = (ex15 * rd22);
  var acc0 = ex17;
  var acc1 = ex19;
  var acc2 = ex21;
  var acc3 = ex23;
  let k0 = csr_rowptr[node];
  let k1 = csr_rowptr[node + 1u];
  for (var k = k0; k < k1; k = k + 1u) {
    let ex0 = in_degree[csr_src[k]];
    let ex1 = (ex0 + 1.0);
    let ex2 = inverseSqrt(ex1);
    let ex6 = (ex2 * ex5);
    let rd7 = t0[P.off_t0 + csr_src[k] * 16u + col];
    let ex8 = (ex6 * rd7);
    let rd9 = t0[P.off_t0 + csr_src[k] * 16u + (col + 1u)];
    let ex10 = (ex6 * rd9);
    let rd11 = t0[P.off_t0 + csr_src[k] * 16u + (col + 2u)];
    let ex12 = (ex6 * rd11);
    let rd13 = t0[P.off_t0 + csr_src[k] * 16u + (col + 3u)];
    let ex14 = (ex6 * rd13);
    acc0 = acc0 + ex8;
    acc1 = acc1 + ex10;
    acc2 = acc2 + ex12;
    acc3 = acc3 + ex14;
  }
  t1[P.off_t1 + node * 16u + col] = acc0;
  t1[P.off_t1 + node * 16u + (col + 1u)] = acc1;
  t1[P.off_t1 + node * 16u + (col + 2u)] = acc2;
  t1[P.off_t1 + node * 16u + (col + 3u)] = acc3;
}

// ==== k57_sum_by_src
// revgnn kernel k57_sum_by_src (segment_csc)
// segment_sum by source (CSC) with self loops: message inlined, never stored
// implements IR ops: segment_sum, mul, gather, slice_cols, rsqrt, add, degree, fill
// invocations: N*4

struct Params {
  dim_N: u32,
  off_d: u32,
  off_t0: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> csr_rowptr: array<u32>;
@group(0) @binding(2) var<storage, read> csc_colptr: array<u32>;
@group(0) @binding(3) var<storage, read> csc_dst: array<u32>;
@group(0) @binding(4) var<storage, read> csc_eid: array<u32>;
@group(0) @binding(5) var<storage, read> d: array<f32>;
@group(0) @binding(6) var<storage, read> in_degree: array<f32>;
@group(0) @binding(7) var<storage, read_write> t0: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let node = idx / 4u;
  let col = (idx % 4u) * 4u;
  let ex2 = in_degree[node];
  let ex3 = (ex2 + 1.0);
  let ex4 = inverseSqrt(ex3);
  let rd19 = d[P.off_d + node * 32u + (col + 16u)];
  let ex20 = rd19;
  let ex21 = (ex4 * ex4);
  let ex22 = (ex20 * ex21);
  let rd23 = d[P.off_d + node * 32u + ((col + 1u) + 16u)];
  let ex24 = rd23;
  let ex25 = (ex24 * ex21);
  let rd26 = d[P.off_d + node * 32u + ((col + 2u) + 16u)];
  let ex27 = rd26;
  let ex28 = (ex27 * ex21);
  let rd29 = d[P.off_d + node * 32u + ((col + 3u) + 16u)];
  let ex30 = rd29;
  let ex31 = (ex30 * ex21);
  var acc0 = ex22;
  var acc1 = ex25;
  var acc2 = ex28;
  var acc3 = ex31;
  let k0 = csc_colptr[node];
  let k1 = csc_colptr[node + 1u];
  for (var k = k0; k < k1; k = k + 1u) {
    let rd0 = d[P.off_d + csc_dst[k] * 32u + (col + 16u)];
    let ex1 = rd0;
    let ex5 = in_degree[csc_dst[k]];
    let ex6 = (ex5 + 1.0);
    let ex7 = inverseSqrt(ex6);
    let ex8 = (ex4 * ex7);
    let ex9 = (ex1 * ex8);
    let rd10 = d[P.off_d + csc_dst[k] * 32u + ((col + 1u) + 16u)];
    let ex11 = rd10;
    let ex12 = (ex11 * ex8);
    let rd13 = d[P.off_d + csc_dst[k] * 32u + ((col + 2u) + 16u)];
    let ex14 = rd13;
    let ex15 = (ex14 * ex8);
    let rd16 = d[P.off_d + csc_dst[k] * 32u + ((col + 3u) + 16u)];
    let ex17 = rd16;
    let ex18 = (ex17 * ex8);
    acc0 = acc0 + ex9;
    acc1 = acc1 + ex12;
    acc2 = acc2 + ex15;
    acc3 = acc3 + ex18;
  }
  t0[P.off_t0 + node * 16u + col] = acc0;
  t0[P.off_t0 + node * 16u + (col + 1u)] = acc1;
  t0[P.off_t0 + node * 16u + (col + 2u)] = acc2;
  t0[P.off_t0 + node * 16u + (col + 3u)] = acc3;
}

// ==== k75_sum_by_src
// revgnn kernel k75_sum_by_src (segment_csc)
// segment_sum by source (CSC) with self loops: message inlined, never stored
// implements IR ops: segment_sum, mul, gather, rsqrt, add, degree, fill
// invocations: N*4

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> csr_rowptr: array<u32>;
@group(0) @binding(2) var<storage, read> csc_colptr: array<u32>;
@group(0) @binding(3) var<storage, read> csc_dst: array<u32>;
@group(0) @binding(4) var<storage, read> csc_eid: array<u32>;
@group(0) @binding(5) var<storage, read> t0: array<f32>;
@group(0) @binding(6) var<storage, read> in_degree: array<f32>;
@group(0) @binding(7) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let node = idx / 4u;
  let col = (idx % 4u) * 4u;
  let ex1 = in_degree[node];
  let ex2 = (ex1 + 1.0);
  let ex3 = inverseSqrt(ex2);
  let rd15 = t0[P.off_t0 + node * 16u + col];
  let ex16 = (ex3 * ex3);
  let ex17 = (rd15 * ex16);
  let rd18 = t0[P.off_t0 + node * 16u + (col + 1u)];
  let ex19 = (rd18 * ex16);
  let rd20 = t0[P.off_t0 + node * 16u + (col + 2u)];
  let ex21 = (rd20 * ex16);
  let rd22 = t0[P.off_t0 + node * 16u + (col + 3u)];
  let ex23 = (rd22 * ex16);
  var acc0 = ex17;
  var acc1 = ex19;
  var acc2 = ex21;
  var acc3 = ex23;
  let k0 = csc_colptr[node];
  let k1 = csc_colptr[node + 1u];
  for (var k = k0; k < k1; k = k + 1u) {
    let rd0 = t0[P.off_t0 + csc_dst[k] * 16u + col];
    let ex4 = in_degree[csc_dst[k]];
    let ex5 = (ex4 + 1.0);
    let ex6 = inverseSqrt(ex5);
    let ex7 = (ex3 * ex6);
    let ex8 = (rd0 * ex7);
    let rd9 = t0[P.off_t0 + csc_dst[k] * 16u + (col + 1u)];
    let ex10 = (rd9 * ex7);
    let rd11 = t0[P.off_t0 + csc_dst[k] * 16u + (col + 2u)];
    let ex12 = (rd11 * ex7);
    let rd13 = t0[P.off_t0 + csc_dst[k] * 16u + (col + 3u)];
    let ex14 = (rd13 * ex7);
    acc0 = acc0 + ex8;
    acc1 = acc1 + ex10;
    acc2 = acc2 + ex12;
    acc3 = acc3 + ex14;
  }
  t1[P.off_t1 + node * 16u + col] = acc0;
  t1[P.off_t1 + node * 16u + (col + 1u)] = acc1;
  t1[P.off_t1 + node * 16u + (col + 2u)] = acc2;
  t1[P.off_t1 + node * 16u + (col + 3u)] = acc3;
}
