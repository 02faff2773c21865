import { describe, expect, it } from "vitest";
import { accuracy, accuracyDetail, argmax, rocAuc } from "../../runtime/metrics.js";
import { Rng } from "../../runtime/data/rng.js";

describe("argmax and accuracy", () => {
  it("takes the first maximum on ties and ignores NaN", () => {
    const logits = new Float32Array([1, 3, 3, /**/ -1, -2, -3, /**/ NaN, 0, 5, /**/ NaN, NaN, NaN]);
    expect(Array.from(argmax(logits, 3))).toEqual([1, 0, 2, 0]);
  });

  it("counts only labelled nodes of the index set", () => {
    const logits = new Float64Array([0.9, 0.1, /**/ 0.2, 0.8, /**/ 0.6, 0.4, /**/ 0.3, 0.7, /**/ 1, 0]);
    const y = new Int32Array([0, 0, -1, 1, 1]);
    // predictions: 0, 1, 0, 1, 0
    expect(accuracyDetail(logits, 2, y)).toEqual({ accuracy: 2 / 4, correct: 2, total: 4 });
    expect(accuracy(logits, 2, y, new Uint32Array([0, 2, 3]))).toBe(1);
    expect(accuracy(logits, 2, y, new Uint32Array([1, 4]))).toBe(0);
    expect(accuracy(logits, 2, y, new Uint32Array([2]))).toBeNaN();
    expect(() => accuracy(logits, 3, y)).toThrow();
  });
});

/** Brute force: P(score_pos > score_neg) + 0.5 P(equal), over all pairs. */
function pairAuc(s: number[], y: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (y[i] === 1 && y[j] === 0) {
        den++;
        num += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
    }
  }
  return num / den;
}

describe("rocAuc", () => {
  it("matches hand-computed values, with ties at average rank", () => {
    // sklearn's documented example: 0.75.
    expect(rocAuc(new Float32Array([0.1, 0.4, 0.35, 0.8]), new Float32Array([0, 0, 1, 1]), 1).mean).toBe(0.75);
    // Ties: positives 0.5 (avg rank 2 among the three 0.5s) and 0.9 (rank 4):
    // (2 + 4 - 2·3/2) / (2·2) = 0.75.
    expect(rocAuc(new Float32Array([0.5, 0.5, 0.5, 0.9]), new Float32Array([0, 1, 0, 1]), 1).mean).toBe(0.75);
    // All tied: 0.5.
    expect(rocAuc(new Float32Array([2, 2, 2]), new Float32Array([1, 0, 1]), 1).mean).toBe(0.5);
  });

  it("averages over tasks, skipping single-class tasks and missing labels", () => {
    // 4 nodes × 3 tasks. Task 0: perfect (1.0). Task 1: all positive → skipped. Task 2: node 1's
    // label missing; remaining scores 0.3 (neg), 0.1 (pos), 0.2 (neg) → 0.
    const s = new Float32Array([0.9, 0.5, 0.3, /**/ 0.8, 0.5, 0.7, /**/ 0.1, 0.5, 0.1, /**/ 0.2, 0.5, 0.2]);
    const y = new Float32Array([1, 1, 0, /**/ 1, 1, NaN, /**/ 0, 1, 1, /**/ 0, 1, 0]);
    const r = rocAuc(s, y, 3);
    expect(r.tasksScored).toBe(2);
    expect(r.perTask[0]).toBe(1);
    expect(r.perTask[1]).toBeNaN();
    expect(r.perTask[2]).toBe(0);
    expect(r.mean).toBe(0.5);
    // Restricted to nodes 0 and 2: task 0 has one of each → 1; task 2 has one of each → 0.
    expect(rocAuc(s, y, 3, new Uint32Array([0, 2])).mean).toBe(0.5);
    // Only node 0: nothing can be scored.
    expect(rocAuc(s, y, 3, new Uint32Array([0])).mean).toBeNaN();
  });

  it("agrees with brute-force pair counting on random data with many ties", () => {
    const rng = new Rng(4);
    for (let t = 0; t < 30; t++) {
      const n = 2 + rng.nextInt(60);
      const s = Array.from({ length: n }, () => rng.nextInt(6) / 5);
      const y = Array.from({ length: n }, () => rng.nextInt(2));
      if (!y.includes(0) || !y.includes(1)) continue;
      expect(rocAuc(Float64Array.from(s), Float32Array.from(y), 1).mean).toBeCloseTo(pairAuc(s, y), 12);
    }
  });

  it("makes a task with a NaN score NaN", () => {
    expect(rocAuc(new Float32Array([NaN, 1]), new Float32Array([0, 1]), 1).mean).toBeNaN();
  });
});
