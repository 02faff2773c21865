// Memory accounting and the buffer pool: peak of the sum (not the sum of peaks), exact-size
// reuse, validation, trim, and the dry-run allocator reproducing a GPU run's numbers exactly.
import { describe, expect, it } from "vitest";
import {
  DryRunAllocator,
  MemoryPool,
  createGpuMemory,
  poolLimitsOf,
  type MemoryCategory,
} from "../../runtime/gpu/memory.js";
import { randomArray, useEnv } from "./helpers.js";

function dryPool(limits = {}) {
  const alloc = new DryRunAllocator();
  return { alloc, pool: new MemoryPool(alloc, limits) };
}

describe("memory pool (no device)", () => {
  it("tracks live and peak bytes per category and the peak of the total", () => {
    const { pool } = dryPool();
    const a = pool.acquire(400, "activations", "a");
    const p = pool.acquire(100, "parameters", "p");
    pool.release(a);
    const w = pool.acquire(800, "workspace", "w");
    const s = pool.snapshot();
    expect(s.live).toEqual({
      parameters: 100,
      optimizer: 0,
      gradients: 0,
      activations: 0,
      workspace: 800,
      graph: 0,
    });
    expect(s.peak).toEqual({
      parameters: 100,
      optimizer: 0,
      gradients: 0,
      activations: 400,
      workspace: 800,
      graph: 0,
    });
    expect(s.liveTotal).toBe(900);
    // Peak of the sum: 500 (a + p), then 900 (p + w); the sum of peaks would be 1300.
    expect(s.peakTotal).toBe(900);
    expect(s.pooled).toBe(400);
    expect(s.peakAllocated).toBe(1300);
    pool.release(w);
    pool.release(p);
    expect(pool.snapshot().liveTotal).toBe(0);
  });

  it("reuses exactly-sized free buffers only, across categories, without rounding", () => {
    const { alloc, pool } = dryPool();
    const a = pool.acquire(40, "activations", "a");
    pool.release(a);
    const b = pool.acquire(44, "activations", "b"); // no rounding: a 40-byte buffer does not fit
    const c = pool.acquire(40, "optimizer", "c");
    expect(c).toBe(a);
    expect(c.label).toBe("c");
    expect(alloc.created).toBe(2);
    expect(pool.snapshot().reused).toBe(1);
    expect(pool.snapshot().live.optimizer).toBe(40);
    expect(pool.sizeOf(b)).toBe(44);
    // Buffers of another kind never satisfy a storage request.
    pool.release(c);
    const u = pool.acquire(40, "workspace", "u", "uniform");
    expect(u).not.toBe(a);
  });

  it("canonicalize gives the same buffers to the same acquisitions, whatever the release order", () => {
    const { pool } = dryPool();
    const bufs = [0, 1, 2, 3].map((i) => pool.acquire(64, "activations", `t${i}`));
    const sequence = () => {
      // A program run: takes three same-sized buffers, gives them back in a fixed order.
      const got = [0, 1, 2].map((i) => pool.acquire(64, "workspace", `w${i}`));
      [got[1]!, got[0]!, got[2]!].forEach((h) => pool.release(h));
      return got;
    };
    bufs.forEach((h) => pool.release(h));
    pool.canonicalize();
    const first = sequence();
    // Without canonicalize the next run would start from the order the last one released in.
    pool.canonicalize();
    expect(sequence()).toEqual(first);
    pool.release(pool.acquire(64, "workspace", "stray")); // something between runs
    pool.canonicalize();
    expect(sequence()).toEqual(first);
    // The oldest buffer is handed out first.
    expect(first[0]).toBe(bufs[0]);
  });

  it("rejects bad sizes, double releases and sizes beyond the device limits", () => {
    const { pool } = dryPool({ maxBufferBytes: 1024, maxBindingBytes: 512 });
    expect(() => pool.acquire(0, "workspace", "z")).toThrow(/positive multiple of 4/);
    expect(() => pool.acquire(6, "workspace", "six")).toThrow(/"six".*multiple of 4/);
    expect(() => pool.acquire(2048, "workspace", "big", "readback")).toThrow(/maxBufferSize/);
    // A storage buffer over both limits is told the smaller one, the binding limit it must fit.
    expect(() => pool.acquire(2048, "workspace", "big")).toThrow(/maxStorageBufferBindingSize/);
    expect(() => pool.acquire(768, "activations", "wide")).toThrow(/maxStorageBufferBindingSize/);
    expect(pool.acquire(768, "workspace", "staging", "readback")).toBeDefined();
    const x = pool.acquire(8, "graph", "x");
    pool.release(x);
    expect(() => pool.release(x)).toThrow(/released twice/);
  });

  it("trim destroys free buffers; resetPeak starts a new window", () => {
    const { alloc, pool } = dryPool();
    const a = pool.acquire(16, "activations", "a");
    const b = pool.acquire(32, "activations", "b");
    pool.release(a);
    pool.trim();
    expect(alloc.destroyed).toBe(1);
    expect(a.destroyed).toBe(true);
    expect(pool.snapshot().pooled).toBe(0);
    pool.resetPeak();
    expect(pool.snapshot().peakTotal).toBe(32);
    pool.release(b);
    expect(pool.snapshot().peak.activations).toBe(32);
  });
});

describe("dry run versus GPU allocation", () => {
  const env = useEnv();

  it("replaying the same acquire/release sequence gives identical numbers", () => {
    const gpuPool = createGpuMemory(env.ctx);
    const dry = new MemoryPool(new DryRunAllocator(), poolLimitsOf(env.ctx.limits));
    const cats: MemoryCategory[] = ["parameters", "optimizer", "activations", "workspace", "graph"];
    const r = randomArray(600, 77);
    const live: [GPUBuffer, { id: number }][] = [];
    for (let i = 0; i < 300; i++) {
      const u = Math.abs(r[2 * i]!);
      if (live.length > 0 && u < 0.4) {
        const [g, d] = live.splice(Math.floor(u * 2.5 * live.length) % live.length, 1)[0]!;
        gpuPool.release(g);
        dry.release(d as never);
      } else {
        // A few distinct sizes so that reuse happens, as with repeated layer shapes.
        const bytes = 4 * (1 + Math.floor(Math.abs(r[2 * i + 1]!) * 6)) * 256;
        const cat = cats[i % cats.length]!;
        live.push([gpuPool.acquire(bytes, cat, `t${i}`), dry.acquire(bytes, cat, `t${i}`)]);
      }
      if (i === 150) {
        gpuPool.trim();
        dry.trim();
      }
    }
    expect(dry.snapshot()).toEqual(gpuPool.snapshot());
    expect(gpuPool.snapshot().reused).toBeGreaterThan(0);
    gpuPool.destroyAll();
  });
});
