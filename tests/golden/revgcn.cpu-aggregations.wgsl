// ==== k12_sum_by_dst
// revgnn kernel k12_sum_by_dst (segment_csr)
// segment_sum by destination (CSR) with self loops: message inlined, never stored
// implements IR ops: segment_sum, mul, gather
// invocations: N*4

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
}

var<immediate> P: Params;
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
  let col = (idx % 4u) * 4u;
  let rd1 = t0[P.off_t0 + node];
  let ex11 = (rd1 * rd1);
  let rd12 = t1[P.off_t1 + node * 16u + col];
  let ex13 = (ex11 * rd12);
  let rd14 = t1[P.off_t1 + node * 16u + (col + 1u)];
  let ex15 = (ex11 * rd14);
  let rd16 = t1[P.off_t1 + node * 16u + (col + 2u)];
  let ex17 = (ex11 * rd16);
  let rd18 = t1[P.off_t1 + node * 16u + (col + 3u)];
  let ex19 = (ex11 * rd18);
  var acc0 = ex13;
  var acc1 = ex15;
  var acc2 = ex17;
  var acc3 = ex19;
  let k0 = csr_rowptr[node];
  let k1 = csr_rowptr[node + 1u];
  for (var k = k0; k < k1; k = k + 1u) {
    let rd0 = t0[P.off_t0 + csr_src[k]];
    let ex2 = (rd0 * rd1);
    let rd3 = t1[P.off_t1 + csr_src[k] * 16u + col];
    let ex4 = (ex2 * rd3);
    let rd5 = t1[P.off_t1 + csr_src[k] * 16u + (col + 1u)];
    let ex6 = (ex2 * rd5);
    let rd7 = t1[P.off_t1 + csr_src[k] * 16u + (col + 2u)];
    let ex8 = (ex2 * rd7);
    let rd9 = t1[P.off_t1 + csr_src[k] * 16u + (col + 3u)];
    let ex10 = (ex2 * rd9);
    acc0 = acc0 + ex4;
    acc1 = acc1 + ex6;
    acc2 = acc2 + ex8;
    acc3 = acc3 + ex10;
  }
  t2[P.off_t2 + node * 16u + col] = acc0;
  t2[P.off_t2 + node * 16u + (col + 1u)] = acc1;
  t2[P.off_t2 + node * 16u + (col + 2u)] = acc2;
  t2[P.off_t2 + node * 16u + (col + 3u)] = acc3;
}

// ==== k61_sum_by_src
// revgnn kernel k61_sum_by_src (segment_csc)
// segment_sum by source (CSC) with self loops: message inlined, never stored
// implements IR ops: segment_sum, mul, gather, slice_cols
// invocations: N*4

struct Params {
  dim_N: u32,
  off_d: u32,
  off_t0: u32,
  off_t1: u32,
}

var<immediate> P: Params;
@group(0) @binding(1) var<storage, read> csr_rowptr: array<u32>;
@group(0) @binding(2) var<storage, read> csc_colptr: array<u32>;
@group(0) @binding(3) var<storage, read> csc_dst: array<u32>;
@group(0) @binding(4) var<storage, read> csc_eid: array<u32>;
@group(0) @binding(5) var<storage, read> d: array<f32>;
@group(0) @binding(6) var<storage, read> t0: array<f32>;
@group(0) @binding(7) var<storage, read_write> t1: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let node = idx / 4u;
  let col = (idx % 4u) * 4u;
  let rd2 = t0[P.off_t0 + node];
  let rd15 = d[P.off_d + node * 32u + (col + 16u)];
  let ex16 = rd15;
  let ex17 = (rd2 * rd2);
  let ex18 = (ex16 * ex17);
  let rd19 = d[P.off_d + node * 32u + ((col + 1u) + 16u)];
  let ex20 = rd19;
  let ex21 = (ex20 * ex17);
  let rd22 = d[P.off_d + node * 32u + ((col + 2u) + 16u)];
  let ex23 = rd22;
  let ex24 = (ex23 * ex17);
  let rd25 = d[P.off_d + node * 32u + ((col + 3u) + 16u)];
  let ex26 = rd25;
  let ex27 = (ex26 * ex17);
  var acc0 = ex18;
  var acc1 = ex21;
  var acc2 = ex24;
  var acc3 = ex27;
  let k0 = csc_colptr[node];
  let k1 = csc_colptr[node + 1u];
  for (var k = k0; k < k1; k = k + 1u) {
    let rd0 = d[P.off_d + csc_dst[k] * 32u + (col + 16u)];
    let ex1 = rd0;
    let rd3 = t0[P.off_t0 + csc_dst[k]];
    let ex4 = (rd2 * rd3);
    let ex5 = (ex1 * ex4);
    let rd6 = d[P.off_d + csc_dst[k] * 32u + ((col + 1u) + 16u)];
    let ex7 = rd6;
    let ex8 = (ex7 * ex4);
    let rd9 = d[P.off_d + csc_dst[k] * 32u + ((col + 2u) + 16u)];
    let ex10 = rd9;
    let ex11 = (ex10 * ex4);
    let rd12 = d[P.off_d + csc_dst[k] * 32u + ((col + 3u) + 16u)];
    let ex13 = rd12;
    let ex14 = (ex13 * ex4);
    acc0 = acc0 + ex5;
    acc1 = acc1 + ex8;
    acc2 = acc2 + ex11;
    acc3 = acc3 + ex14;
  }
  t1[P.off_t1 + node * 16u + col] = acc0;
  t1[P.off_t1 + node * 16u + (col + 1u)] = acc1;
  t1[P.off_t1 + node * 16u + (col + 2u)] = acc2;
  t1[P.off_t1 + node * 16u + (col + 3u)] = acc3;
}

// ==== k79_sum_by_src
// revgnn kernel k79_sum_by_src (segment_csc)
// segment_sum by source (CSC) with self loops: message inlined, never stored
// implements IR ops: segment_sum, mul, gather
// invocations: N*4

struct Params {
  dim_N: u32,
  off_t0: u32,
  off_t1: u32,
  off_t2: u32,
}

var<immediate> P: Params;
@group(0) @binding(1) var<storage, read> csr_rowptr: array<u32>;
@group(0) @binding(2) var<storage, read> csc_colptr: array<u32>;
@group(0) @binding(3) var<storage, read> csc_dst: array<u32>;
@group(0) @binding(4) var<storage, read> csc_eid: array<u32>;
@group(0) @binding(5) var<storage, read> t0: array<f32>;
@group(0) @binding(6) var<storage, read> t1: array<f32>;
@group(0) @binding(7) var<storage, read_write> t2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (idx >= P.dim_N * 4u) { return; }
  let node = idx / 4u;
  let col = (idx % 4u) * 4u;
  let rd1 = t1[P.off_t1 + node];
  let rd11 = t0[P.off_t0 + node * 16u + col];
  let ex12 = (rd1 * rd1);
  let ex13 = (rd11 * ex12);
  let rd14 = t0[P.off_t0 + node * 16u + (col + 1u)];
  let ex15 = (rd14 * ex12);
  let rd16 = t0[P.off_t0 + node * 16u + (col + 2u)];
  let ex17 = (rd16 * ex12);
  let rd18 = t0[P.off_t0 + node * 16u + (col + 3u)];
  let ex19 = (rd18 * ex12);
  var acc0 = ex13;
  var acc1 = ex15;
  var acc2 = ex17;
  var acc3 = ex19;
  let k0 = csc_colptr[node];
  let k1 = csc_colptr[node + 1u];
  for (var k = k0; k < k1; k = k + 1u) {
    let rd0 = t0[P.off_t0 + csc_dst[k] * 16u + col];
    let rd2 = t1[P.off_t1 + csc_dst[k]];
    let ex3 = (rd1 * rd2);
    let ex4 = (rd0 * ex3);
    let rd5 = t0[P.off_t0 + csc_dst[k] * 16u + (col + 1u)];
    let ex6 = (rd5 * ex3);
    let rd7 = t0[P.off_t0 + csc_dst[k] * 16u + (col + 2u)];
    let ex8 = (rd7 * ex3);
    let rd9 = t0[P.off_t0 + csc_dst[k] * 16u + (col + 3u)];
    let ex10 = (rd9 * ex3);
    acc0 = acc0 + ex4;
    acc1 = acc1 + ex6;
    acc2 = acc2 + ex8;
    acc3 = acc3 + ex10;
  }
  t2[P.off_t2 + node * 16u + col] = acc0;
  t2[P.off_t2 + node * 16u + (col + 1u)] = acc1;
  t2[P.off_t2 + node * 16u + (col + 2u)] = acc2;
  t2[P.off_t2 + node * 16u + (col + 3u)] = acc3;
}
