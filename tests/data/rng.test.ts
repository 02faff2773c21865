import { describe, expect, it } from "vitest";
import { Rng, permutation } from "../../runtime/data/rng.js";

describe("Rng (xoshiro128** seeded by splitmix32)", () => {
  it("produces a fixed stream for a seed (golden values guard cross-platform determinism)", () => {
    const r = new Rng(42);
    const first = Array.from({ length: 4 }, () => r.nextU32());
    expect(first).toEqual(GOLDEN_42);
    expect(new Rng(42).nextU32()).toBe(first[0]);
    expect(new Rng(43).nextU32()).not.toBe(first[0]);
  });

  it("draws in range and roughly uniformly", () => {
    const r = new Rng(1);
    const counts = new Array(7).fill(0);
    let outside = 0;
    for (let i = 0; i < 70000; i++) {
      counts[r.nextInt(7)]++;
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
    }
    expect(outside).toBe(0);
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    expect(() => r.nextInt(0)).toThrow();
  });

  it("normal() has mean 0 and variance 1", () => {
    const r = new Rng(9);
    let s = 0;
    let s2 = 0;
    const n = 50000;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it("shuffles into permutations and forks independent streams", () => {
    const p = permutation(100, new Rng(3));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permutation(100, new Rng(3))).toEqual(p);
    const a = new Rng(5);
    const f = a.fork();
    expect(f.nextU32()).not.toBe(a.nextU32());
  });
});

// Recorded from this implementation; a change here means every seeded dataset changed.
const GOLDEN_42 = [2837322924, 544945897, 479756282, 3500138142];
