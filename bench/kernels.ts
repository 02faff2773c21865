// `npm run bench:kernels`: the hand-tuned kernel templates against this machine's ceiling.
//
// For every case: median (and min..max) of several runs; one run = a batch of repeated
// dispatches recorded into one command stream and timed around queue completion (never per
// dispatch). Next to it, numpy's sgemm / scipy's CSR product / a numpy elementwise chain on the
// same shapes, measured in the same run through python3, and the ratio ours / numpy. Every
// kernel's output is spot-checked against a float64 CPU reference before it is timed.
// Results go to bench/results/kernels-<date>.json (written to a temp file, then renamed).
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { acquireGpu, type GpuContext } from "../runtime/gpu/device.js";
import { createGpuMemory, type MemoryPool } from "../runtime/gpu/memory.js";
import { PipelineCache } from "../runtime/gpu/pipelines.js";
import { CommandStream } from "../runtime/gpu/stream.js";
import { compile, compileSplitK, launch, launchSplitK } from "../driver/launch-template.js";
import { matmul, matmulSplitK } from "../compiler/codegen/templates/matmul.js";
import { spmm } from "../compiler/codegen/templates/spmm.js";
import { elementwise } from "../compiler/codegen/templates/elementwise.js";
import { permutation, Rng } from "../runtime/data/rng.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// ---- data ------------------------------------------------------------------------------------

interface Csr {
  nodes: number;
  rowPtr: Uint32Array;
  colIdx: Uint32Array;
}

/** Uniform values in [-1, 1) from a fixed seed. */
function randomFloats(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

/**
 * A power-law-ish random graph as destination-major CSR: endpoints are drawn with skewed
 * densities (u^2.5 for sources, u^1.8 for destinations) over a random permutation of the node
 * ids, so a few hubs have thousands of edges and most nodes a handful, scattered over the ids.
 */
function powerLawGraph(nodes: number, edges: number, seed: number): Csr {
  const rng = new Rng(seed);
  const rnd = () => rng.next();
  const perm = permutation(nodes, rng);
  const src = new Uint32Array(edges);
  const dst = new Uint32Array(edges);
  for (let e = 0; e < edges; e++) {
    src[e] = perm[Math.floor(nodes * rnd() ** 2.5)]!;
    dst[e] = perm[Math.floor(nodes * rnd() ** 1.8)]!;
  }
  const rowPtr = new Uint32Array(nodes + 1);
  for (let e = 0; e < edges; e++) rowPtr[dst[e]! + 1]!++;
  for (let i = 0; i < nodes; i++) rowPtr[i + 1]! += rowPtr[i]!;
  const fill = rowPtr.slice(0, nodes);
  const colIdx = new Uint32Array(edges);
  for (let e = 0; e < edges; e++) colIdx[fill[dst[e]!]!++] = src[e]!;
  return { nodes, rowPtr, colIdx };
}

/** Σ over the in-edges of v of x[src, c], in float64. */
function spmmReference(g: Csr, x: Float32Array, d: number, v: number, c: number): number {
  let s = 0;
  for (let e = g.rowPtr[v]!; e < g.rowPtr[v + 1]!; e++) s += x[g.colIdx[e]! * d + c]!;
  return s;
}

// ---- the numpy / scipy ceiling ---------------------------------------------------------------

interface CeilingCase {
  median: number;
  min: number;
  max: number;
}

interface CeilingResult {
  available: boolean;
  note: string;
  cases: Record<string, CeilingCase>;
}

// Same shapes and the same CSR graph (handed over as raw files), float32 throughout.
const PYTHON_CEILING = String.raw`
import json, sys, time
import numpy as np
tmp, n, d, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (n, d)).astype(np.float32)
w = rng.uniform(-1, 1, (d, d)).astype(np.float32)
def timed(f, reps):
    f()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        ts.append((time.perf_counter() - t) / reps)
    ts.sort()
    return {"median": ts[len(ts) // 2], "min": ts[0], "max": ts[-1]}
cases = {}
xs = x[:2708].copy()
cases["nn_2708"] = timed(lambda: xs @ w, 50)
cases["nn_%d" % n] = timed(lambda: x @ w, 3)
cases["nt_%d" % n] = timed(lambda: x @ w.T, 3)
cases["tn"] = timed(lambda: x.T @ x, 3)
cases["elementwise"] = timed(lambda: np.maximum(x * np.float32(1.5) + np.float32(0.25), np.float32(0)) * np.float32(2), 3)
note = "numpy %s" % np.__version__
try:
    import scipy, scipy.sparse as sp
    rp = np.fromfile(tmp + "/rowptr.bin", dtype=np.uint32).astype(np.int64)
    ci = np.fromfile(tmp + "/colidx.bin", dtype=np.uint32).astype(np.int64)
    a = sp.csr_matrix((np.ones(len(ci), np.float32), ci, rp), shape=(n, n))
    cases["spmm"] = timed(lambda: a @ x, 3)
    note += ", scipy %s" % scipy.__version__
except ImportError:
    note += ", scipy missing"
try:
    threads = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {}).get("name", "?")
    note += ", BLAS " + str(threads)
except Exception:
    pass
print(json.dumps({"available": True, "note": note, "cases": cases}))
`;

function numpyCeiling(tmp: string, g: Csr, n: number, d: number, runs: number): CeilingResult {
  writeFileSync(join(tmp, "rowptr.bin"), g.rowPtr);
  writeFileSync(join(tmp, "colidx.bin"), g.colIdx);
  const r = spawnSync("python3", ["-c", PYTHON_CEILING, tmp, String(n), String(d), String(runs)], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.error || r.status !== 0) {
    const why = r.error
      ? r.error.message
      : (r.stderr || "").trim().split("\n").pop() || `exit ${r.status}`;
    return { available: false, note: `python3 with numpy not usable: ${why}`, cases: {} };
  }
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as CeilingResult;
}

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Env {
  ctx: GpuContext;
  memory: MemoryPool<GPUBuffer>;
  cache: PipelineCache;
  stream: CommandStream;
}

interface Measured {
  name: string;
  shape: string;
  flops: number;
  bytes: number;
  /** Seconds per operation: median, min, max over RUNS runs. */
  median: number;
  min: number;
  max: number;
  /** Repetitions per timed batch. */
  reps: number;
  ceilingKey: string;
  maxRelError: number;
}

function upload(env: Env, data: Float32Array | Uint32Array, label: string): GPUBuffer {
  const buf = env.memory.acquire(Math.max(4, data.byteLength), "activations", label);
  env.stream.write(buf, data);
  return buf;
}

/** Times `record` (which records one operation) in batches of `reps`; returns seconds per op. */
async function timeIt(env: Env, record: () => void, reps: number): Promise<number[]> {
  record(); // warm-up: pipeline creation inside the driver, first-touch of buffers
  await env.stream.finish();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) record();
    await env.stream.finish();
    times.push((performance.now() - t0) / 1000 / reps);
  }
  return times;
}

function summary(times: number[]) {
  const s = [...times].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

/** Largest |got - want| / max(1, |want|) over sampled entries; throws on NaN. */
function sampleError(got: Float32Array, want: (i: number) => number, indices: number[]): number {
  let worst = 0;
  for (const i of indices) {
    const w = want(i);
    const e = Math.abs(got[i]! - w) / Math.max(1, Math.abs(w));
    if (!(e <= 1e-3)) throw new Error(`bench self-check failed at ${i}: got ${got[i]}, want ${w}`);
    worst = Math.max(worst, e);
  }
  return worst;
}

async function benchMatmuls(env: Env, x: Float32Array, n: number, d: number): Promise<Measured[]> {
  const out: Measured[] = [];
  const w = randomFloats(d * d, 11);
  const bufX = upload(env, x, "X");
  const bufW = upload(env, w, "W");
  const bufY = env.memory.acquire(n * d * 4, "activations", "Y");
  // (X·W or X·Wᵀ)[i] in float64
  const ref = (i: number, transposed: boolean) => {
    const r = Math.floor(i / d);
    const c = i % d;
    let s = 0;
    for (let k = 0; k < d; k++) s += x[r * d + k]! * (transposed ? w[c * d + k]! : w[k * d + c]!);
    return s;
  };
  for (const [rows, form] of [
    [2708, "nn"],
    [n, "nn"],
    [n, "nt"],
  ] as const) {
    const t = matmul({ form, vec4: true }, env.ctx.tuning);
    const l = await compile(env.cache, t);
    const dims = { m: rows, n: d, k: d };
    const record = () => launch(env.stream, l, [bufX, bufW, bufY], dims);
    record();
    const probe = await env.stream.readScalars(
      bufY,
      Math.min(rows, 64) * d,
      (rows - Math.min(rows, 64)) * d * 4,
    );
    const base = (rows - Math.min(rows, 64)) * d;
    const err = sampleError(
      probe,
      (i) => ref(base + i, form === "nt"),
      Array.from({ length: 200 }, (_, j) => (j * 37) % probe.length),
    );
    const reps = rows < 10000 ? 50 : 2;
    const s = summary(await timeIt(env, record, reps));
    out.push({
      name: form === "nn" ? "matmul X·W" : "matmul dY·Wᵀ",
      shape: `${rows}x${d}x${d}`,
      flops: 2 * rows * d * d,
      bytes: (rows * d * 2 + d * d) * 4,
      ...s,
      reps,
      ceilingKey: `${form}_${rows}`,
      maxRelError: err,
    });
  }
  // Xᵀ·dY with split-K: dW[128,128] = X[n,128]ᵀ · dY[n,128] (dY := X here).
  const plan = matmulSplitK({ form: "tn", vec4: true }, env.ctx.tuning);
  const s = await compileSplitK(env.cache, plan);
  const dims = { m: d, n: d, k: n };
  const ws = env.memory.acquire(plan.workspaceFloats(dims) * 4, "workspace", "splitk");
  const bufDW = env.memory.acquire(d * d * 4, "activations", "dW");
  const record = () => launchSplitK(env.stream, s, bufX, bufX, bufDW, ws, dims);
  record();
  const got = await env.stream.readScalars(bufDW, d * d);
  const err = sampleError(
    got,
    (i) => {
      const r = Math.floor(i / d);
      const c = i % d;
      let acc = 0;
      for (let k = 0; k < n; k++) acc += x[k * d + r]! * x[k * d + c]!;
      return acc;
    },
    [0, 1, 129, 4000, 16383],
  );
  const st = summary(await timeIt(env, record, 2));
  out.push({
    name: `matmul Xᵀ·dY split-K (${plan.chunks(dims)} chunks)`,
    shape: `${d}x${n}x${d}`,
    flops: 2 * n * d * d,
    bytes: (n * d * 2 + d * d) * 4,
    ...st,
    reps: 2,
    ceilingKey: "tn",
    maxRelError: err,
  });
  for (const b of [bufW, bufY, ws, bufDW]) env.memory.release(b);
  env.memory.release(bufX);
  return out;
}

async function benchSpmm(env: Env, g: Csr, x: Float32Array, d: number): Promise<Measured> {
  const t = spmm({ vec4: true }, env.ctx.tuning);
  const l = await compile(env.cache, t);
  const bufs = [
    upload(env, g.rowPtr, "rowPtr"),
    upload(env, g.colIdx, "colIdx"),
    upload(env, x, "X"),
    env.memory.acquire(g.nodes * d * 4, "activations", "out"),
  ];
  const dims = { nodes: g.nodes, channels: d };
  const record = () => launch(env.stream, l, bufs, dims);
  record();
  const probe = await env.stream.readScalars(bufs[3]!, 500 * d);
  const err = sampleError(
    probe,
    (i) => spmmReference(g, x, d, Math.floor(i / d), i % d),
    Array.from({ length: 500 }, (_, j) => j * d + (j % d)),
  );
  const s = summary(await timeIt(env, record, 2));
  bufs.forEach((b) => env.memory.release(b));
  const edges = g.colIdx.length;
  return {
    name: `spmm CSR (${t.variant})`,
    shape: `${g.nodes} nodes, ${edges} edges, ${d} ch`,
    flops: 2 * edges * d,
    bytes: (edges * d + g.nodes * d + edges + g.nodes + 1) * 4,
    ...s,
    reps: 2,
    ceilingKey: "spmm",
    maxRelError: err,
  };
}

async function benchElementwise(env: Env, x: Float32Array): Promise<Measured> {
  const t = elementwise(
    {
      inputs: ["x"],
      output: "y",
      expr: "max(x * params.a + params.b, T(0.0)) * params.c",
      params: [
        { name: "a", type: "f32" },
        { name: "b", type: "f32" },
        { name: "c", type: "f32" },
      ],
      vec4: true,
    },
    env.ctx.tuning,
  );
  const l = await compile(env.cache, t);
  const bufX = upload(env, x, "x");
  const bufY = env.memory.acquire(x.byteLength, "activations", "y");
  const dims = { count: x.length, extra: { a: 1.5, b: 0.25, c: 2 } };
  const record = () => launch(env.stream, l, [bufX, bufY], dims);
  record();
  const probe = await env.stream.readScalars(bufY, 4096);
  const err = sampleError(
    probe,
    (i) => Math.max(x[i]! * 1.5 + 0.25, 0) * 2,
    Array.from({ length: 4096 }, (_, i) => i),
  );
  const s = summary(await timeIt(env, record, 5));
  env.memory.release(bufX);
  env.memory.release(bufY);
  return {
    name: "elementwise relu(x*a+b)*c",
    shape: `${x.length / 128}x128`,
    flops: 4 * x.length,
    bytes: 2 * x.length * 4,
    ...s,
    reps: 5,
    ceilingKey: "elementwise",
    maxRelError: err,
  };
}

/** Per-dispatch cost: 2000 tiny dispatches in one stream (recording + submission + GPU). */
async function benchDispatch(env: Env): Promise<{ perDispatchUs: number; recordUs: number }> {
  const t = elementwise(
    { inputs: ["x"], output: "y", expr: "x + T(1.0)", vec4: true },
    env.ctx.tuning,
  );
  const l = await compile(env.cache, t);
  const a = upload(env, randomFloats(256, 5), "a");
  const b = env.memory.acquire(1024, "workspace", "b");
  const count = 2000;
  const run = async () => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) launch(env.stream, l, i % 2 ? [b, a] : [a, b], { count: 256 });
    const t1 = performance.now();
    await env.stream.finish();
    return { total: performance.now() - t0, record: t1 - t0 };
  };
  await run();
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run());
  runs.sort((x, y) => x.total - y.total);
  const mid = runs[Math.floor(runs.length / 2)]!;
  env.memory.release(a);
  env.memory.release(b);
  return { perDispatchUs: (mid.total * 1000) / count, recordUs: (mid.record * 1000) / count };
}

function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

async function main(): Promise<void> {
  const ctx = await acquireGpu();
  const memory = createGpuMemory(ctx);
  const env: Env = {
    ctx,
    memory,
    cache: new PipelineCache(ctx),
    stream: new CommandStream(ctx, memory, { label: "bench" }),
  };
  console.log(`adapter: ${ctx.adapterInfo.text}`);
  // Other processes on the machine skew both our numbers and numpy's; say so next to them.
  const loadAtStart = loadavg()[0]!;
  console.log(`machine: ${cpus().length} CPUs, load average ${loadAtStart.toFixed(2)} at start`);
  if (loadAtStart > cpus().length) {
    // lavapipe splits every dispatch over its worker threads and waits for the slowest, so it
    // suffers far more from a busy machine than single-threaded scipy does.
    console.log(`WARNING: the machine is busy; the numbers below understate the kernels`);
  }
  console.log(
    `tuning:  ${JSON.stringify({ matmul: ctx.tuning.matmul, spmm: ctx.tuning.spmm, splitKRows: ctx.tuning.splitKRows })}`,
  );

  const n = 169343;
  const d = 128;
  const edges = 1_200_000;
  const x = randomFloats(n * d, 1);
  const graph = powerLawGraph(n, edges, 7);

  const tmp = join(root, "bench", "results", "tmp");
  mkdirSync(tmp, { recursive: true });
  console.log(`measuring numpy/scipy ceilings (python3) ...`);
  const ceiling: CeilingResult = numpyCeiling(tmp, graph, n, d, RUNS);

  console.log(`measuring WebGPU kernels (${RUNS} runs each) ...`);
  const results: Measured[] = [];
  results.push(...(await benchMatmuls(env, x, n, d)));
  results.push(await benchSpmm(env, graph, x, d));
  results.push(await benchElementwise(env, x));
  const dispatch = await benchDispatch(env);

  const rows = results.map((r) => {
    const c = ceiling.cases[r.ceilingKey];
    const ours = r.flops / r.median / 1e9;
    const np = c ? r.flops / c.median / 1e9 : Number.NaN;
    return {
      ...r,
      gflops: ours,
      gbps: r.bytes / r.median / 1e9,
      numpyMs: c ? c.median * 1000 : Number.NaN,
      numpyGflops: np,
      ratio: ours / np,
      // Best-of-runs ratio: less sensitive to other processes on a shared machine.
      ratioBest: c ? c.min / r.min : Number.NaN,
    };
  });
  const header = [
    "kernel",
    "shape",
    "ms (median, min..max)",
    "GFLOP/s",
    "GB/s",
    "numpy ms (median, min..max)",
    "numpy GFLOP/s",
    "ours/numpy",
    "(best/best)",
  ];
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "n/a");
  const numpyMs = (key: string) => {
    const m = ceiling.cases[key];
    return m ? `${fmt(m.median * 1000)} (${fmt(m.min * 1000)}..${fmt(m.max * 1000)})` : "n/a";
  };
  const table = rows.map((r) => [
    r.name,
    r.shape,
    `${fmt(r.median * 1000)} (${fmt(r.min * 1000)}..${fmt(r.max * 1000)})`,
    fmt(r.gflops, 2),
    fmt(r.gbps, 2),
    numpyMs(r.ceilingKey),
    fmt(r.numpyGflops, 2),
    pct(r.ratio),
    pct(r.ratioBest),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ");
  console.log("");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const row of table) console.log(line(row));
  console.log("");
  console.log(
    `dispatch overhead: ${fmt(dispatch.perDispatchUs, 1)} µs per dispatch end to end ` +
      `(2000 tiny dispatches in one stream; JS recording ${fmt(dispatch.recordUs, 2)} µs of it)`,
  );
  if (!ceiling.available) console.log(`numpy/scipy: n/a (${ceiling.note})`);
  console.log(`numpy: ${ceiling.note}`);
  console.log(
    `load average: ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`,
  );

  const date = new Date().toISOString().slice(0, 10);
  const file = join(root, "bench", "results", `kernels-${date}.json`);
  const payload = {
    date: new Date().toISOString(),
    adapter: ctx.adapterInfo,
    tuning: ctx.tuning,
    runs: RUNS,
    machine: { cpus: cpus().length, loadAtStart, loadAtEnd: loadavg()[0] },
    results: rows,
    dispatch,
    ceiling,
  };
  const tmpFile = `${file}.tmp-${process.pid}`;
  writeFileSync(tmpFile, JSON.stringify(payload, null, 2) + "\n");
  renameSync(tmpFile, file);
  rmSync(tmp, { recursive: true, force: true });
  console.log(`results: ${file}`);
  env.stream.destroy();
  memory.destroyAll();
  ctx.destroy();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
