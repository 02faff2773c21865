// The profiler's arithmetic: the cost model on known shapes, the per-kernel summary, timestamp
// pairs and the fence timer's attribution. No GPU.
import { describe, expect, it } from "vitest";
import { dispatchCost } from "../../runtime/profile/cost.js";
import { formatProfile, summarizeProfile } from "../../runtime/profile/profile.js";
import { FenceTimer, passSeconds, type TimedDispatch } from "../../runtime/gpu/dispatch-timer.js";

const mat = (symbolic: (string | number)[], sizes: number[], written = false) => ({
  elements: sizes.reduce((a, b) => a * b, 1),
  shape: { symbolic, sizes },
  written,
});

describe("cost model", () => {
  it("a matmul is 2·M·N·K FLOPs in every transposition; bytes are its three tensors", () => {
    const [M, K, N] = [2708, 1433, 64];
    const want = 2 * M * N * K;
    const nn = dispatchCost("matmul", [
      mat(["N", "F"], [M, K]),
      mat(["F", 64], [K, N]),
      mat(["N", 64], [M, N], true),
    ]);
    expect(nn.flops).toBe(want);
    expect(nn.bytes).toBe(4 * (M * K + K * N + M * N));
    // Aᵀ·B, the weight gradient: [N, F]ᵀ · [N, 64] → [F, 64], K = N.
    const tn = dispatchCost("matmul", [
      mat(["N", "F"], [M, K]),
      mat(["N", 64], [M, N]),
      mat(["F", 64], [K, N], true),
    ]);
    expect(tn.flops).toBe(2 * K * N * M);
    // A·Bᵀ: [N, 64] · [F, 64]ᵀ → [N, F], K = 64.
    const nt = dispatchCost("matmul", [
      mat(["N", 64], [M, N]),
      mat(["F", 64], [K, N]),
      mat(["N", "F"], [M, K], true),
    ]);
    expect(nt.flops).toBe(2 * M * K * N);
  });

  it("the sparse input kernel is 2·nnz·n FLOPs, nnz read from the packed buffer's size", () => {
    const [N, F, D, nnz] = [2708, 1433, 64, 49216];
    // rowPtr (N+1) | col | val (nnz each) | colPtr (F+1) | row | valT (nnz each)
    const packed = { elements: N + F + 2 + 4 * nnz, written: false };
    const forward = dispatchCost("matmul_sparse_input", [
      packed,
      mat(["F", 64], [F, D]),
      mat(["N", 64], [N, D], true),
    ]);
    expect(forward.flops).toBe(2 * nnz * D);
    // xᵀ·G, W_in's gradient: B = G [N, 64], C = [F, 64].
    const gradient = dispatchCost("matmul_sparse_input", [
      packed,
      mat(["N", 64], [N, D]),
      mat(["F", 64], [F, D], true),
    ]);
    expect(gradient.flops).toBe(2 * nnz * D);
  });

  it("a split-K partial's K is the shared graph dimension, even for a square weight", () => {
    const [n, d] = [300, 32];
    const slabs = { elements: Math.ceil(n / 64) * d * d, written: true, shape: undefined };
    const c = dispatchCost("matmul_splitk_partials", [
      mat(["N", 32], [n, d]),
      mat(["N", 32], [n, d]),
      slabs,
    ]);
    expect(c.flops).toBe(2 * d * d * n);
  });

  it("elementwise and graph kernels count bytes only, graph arrays included", () => {
    const c = dispatchCost("segment_csr", [
      { elements: 301, written: false }, // row pointers
      { elements: 1500, written: false }, // column indices
      mat(["N", 16], [300, 16]),
      mat(["N", 16], [300, 16], true),
    ]);
    expect(c.flops).toBe(0);
    expect(c.bytes).toBe(4 * (301 + 1500 + 2 * 300 * 16));
    expect(dispatchCost("map", [mat(["N"], [10]), mat(["N"], [10], true)])).toEqual({
      flops: 0,
      bytes: 80,
    });
  });
});

describe("profile summary", () => {
  const note = (kernel: string, flops: number, bytes: number) => ({
    kernel,
    kind: flops > 0 ? "matmul" : "map",
    implements: flops > 0 ? ["matmul"] : ["add"],
    flops,
    bytes,
  });
  const d = (kernel: string, seconds: number, flops = 0, bytes = 1e6): TimedDispatch => ({
    label: kernel,
    note: note(kernel, flops, bytes),
    seconds,
  });

  it("groups by kernel, divides by the steps, shares add up to one, rates from the cost", () => {
    const times = [
      d("k1_matmul", 0.02, 2e8, 4e6),
      d("k2_map", 0.001),
      d("k2_map", 0.003),
      d("k1_matmul", 0.02, 2e8, 4e6),
      d("k2_map", 0.001),
      d("k2_map", 0.003),
      { label: "finite_check", seconds: 0.002 },
    ];
    const p = summarizeProfile(times, 2, "timestamp-query");
    expect(p.rows.map((r) => r.kernel)).toEqual(["k1_matmul", "k2_map", "finite_check"]);
    const [mm, map, finite] = p.rows as [
      (typeof p.rows)[0],
      (typeof p.rows)[0],
      (typeof p.rows)[0],
    ];
    expect(mm.calls_per_step).toBe(1);
    expect(mm.ms_per_step).toBeCloseTo(20, 9);
    expect(mm.gflop_per_s).toBeCloseTo(10, 9); // 2e8 FLOP in 0.02 s
    expect(mm.gb_per_s).toBeCloseTo(0.2, 9);
    expect(map.calls_per_step).toBe(2);
    expect(map.gflop_per_s).toBeNull();
    expect(finite.kind).toBe("runtime");
    expect(finite.gb_per_s).toBeNull();
    expect(p.rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 12);
    expect(p.kernel_ms_per_step).toBeCloseTo(25, 9);
    expect(p.dispatches_per_step).toBe(3.5);
    const text = formatProfile(p, 30, 2);
    expect(text).toContain("k1_matmul");
    expect(text).toContain("(1 more)");
    expect(text).toContain("5.0 ms of it outside kernels");
  });

  it("instances of one template (one name, different shapes) are rows of their own", () => {
    const inst = (shapes: string, seconds: number): TimedDispatch => ({
      label: "k1_matmul",
      note: { ...note("k1_matmul", 1e6, 1e3), shapes },
      seconds,
    });
    const p = summarizeProfile(
      [inst("[N, F] nn [F, 64] → [N, 64]", 0.05), inst("[N, 32] nn [32, 32] → [N, 32]", 0.001)],
      1,
      "timestamp-query",
    );
    expect(p.rows.map((r) => [r.kernel, r.shapes])).toEqual([
      ["k1_matmul", "[N, F] nn [F, 64] → [N, 64]"],
      ["k1_matmul", "[N, 32] nn [32, 32] → [N, 32]"],
    ]);
    expect(formatProfile(p)).toContain("matmul [N, F] nn [F, 64] → [N, 64]");
  });

  it("a timestamp pair the driver did not write is NaN and counts as no time", () => {
    expect(passSeconds(1000n, 251000n)).toBe(250e-6);
    expect(passSeconds(0n, 0n)).toBeNaN();
    const p = summarizeProfile([d("a", NaN), d("a", 0.001)], 1, "timestamp-query");
    expect(p.rows[0]!.ms_per_step).toBeCloseTo(1, 9);
  });

  it("fences: the dispatches seen done together share the time since the first submit", () => {
    const t = new FenceTimer();
    t.submitted("a", undefined, 100);
    t.completed(104);
    t.submitted("b", undefined, 110);
    t.submitted("c", undefined, 111);
    t.completed(116);
    t.completed(200); // nothing open: nothing recorded
    expect(t.collect().map((x) => [x.label, x.seconds])).toEqual([
      ["a", 0.004],
      ["b", 0.003],
      ["c", 0.003],
    ]);
  });
});
