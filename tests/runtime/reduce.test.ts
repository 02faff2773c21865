// Deterministic reductions and the elementwise map against float64 references: column sums over
// a long axis (two stages), vector sums (multi-level), bitwise reproducibility run to run.
import { describe, expect, it } from "vitest";
import {
  columnPartials,
  slabSum,
  vectorSum,
  vectorSumLevels,
} from "../../compiler/codegen/templates/reduce.js";
import { elementwise } from "../../compiler/codegen/templates/elementwise.js";
import { compile, launch } from "../../driver/launch-template.js";
import { download, expectClose, poisoned, randomArray, upload, useEnv } from "./helpers.js";

const env = useEnv();

/** Column sum out[c] = Σ_r X[offX + r·ldX + c]; returns the GPU result. */
async function columnSum(
  x: Float32Array,
  rows: number,
  cols: number,
  ldX: number,
  offX: number,
  chunk: number,
) {
  const max = env.ctx.tuning.maxWorkgroupsPerDim;
  const stage1 = await compile(
    env.cache,
    columnPartials({ rowsPerChunk: chunk, maxWorkgroupsPerDim: max }),
  );
  const stage2 = await compile(env.cache, slabSum({ maxWorkgroupsPerDim: max }));
  const chunks = Math.max(1, Math.ceil(rows / chunk));
  const bx = upload(env, x);
  const partial = poisoned(env, chunks * cols, "partials");
  const out = poisoned(env, cols);
  launch(env.stream, stage1, [bx, partial], { rows, cols, ldX, offX });
  launch(env.stream, stage2, [partial, out], { slabs: chunks, rows: 1, cols });
  const got = await download(env, out, cols);
  [bx, partial, out].forEach((b) => env.memory.release(b));
  return got;
}

describe("column sum (bias gradient)", () => {
  it("sums a long axis in two stages, for dense and strided views", async () => {
    for (const [rows, cols, ldX, offX, chunk] of [
      [5000, 24, 24, 0, 256],
      [1, 3, 3, 0, 256],
      [777, 5, 13, 4, 64],
    ] as const) {
      const x = randomArray(offX + rows * ldX, rows + cols);
      const want = new Float64Array(cols);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) want[c] += x[offX + r * ldX + c]!;
      const got = await columnSum(x, rows, cols, ldX, offX, chunk);
      expectClose(got, want, 1e-4, `colsum ${rows}x${cols}`);
    }
  });

  it("is bitwise reproducible run to run", async () => {
    const x = randomArray(4000 * 16, 3);
    const a = await columnSum(x, 4000, 16, 16, 0, 128);
    const b = await columnSum(x, 4000, 16, 16, 0, 128);
    expect(Array.from(new Uint32Array(b.buffer))).toEqual(Array.from(new Uint32Array(a.buffer)));
  });
});

describe("vector sum", () => {
  async function sum(x: Float32Array): Promise<number> {
    const t = vectorSum({
      workgroupSize: 64,
      itemsPerThread: 8,
      maxWorkgroupsPerDim: env.ctx.tuning.maxWorkgroupsPerDim,
    });
    const l = await compile(env.cache, t);
    const levels = vectorSumLevels(x.length, t.chunk);
    let src = upload(env, x);
    for (let i = 1; i < levels.length; i++) {
      const dst = poisoned(env, levels[i]!);
      launch(env.stream, l, [src, dst], { count: levels[i - 1]! });
      env.memory.release(src);
      src = dst;
    }
    const [v] = await download(env, src, 1);
    env.memory.release(src);
    return v!;
  }

  it("sums to one scalar over several levels, deterministically", async () => {
    for (const n of [1, 511, 512, 513, 100_003]) {
      const x = randomArray(n, n);
      let want = 0;
      for (const v of x) want += v;
      const got = await sum(x);
      expectClose([got], [want], 1e-4, `sum of ${n}`);
      const again = await sum(x);
      expect(Object.is(again, got)).toBe(true);
    }
  });
});

describe("elementwise map", () => {
  it("fuses relu(x*a+b)*c + y on the vec4 and scalar paths", async () => {
    // The adapter's own items-per-invocation and two others (GPU tuning uses 1).
    for (const [vec4, items] of [
      [true, env.ctx.tuning.elementwiseItems],
      [false, env.ctx.tuning.elementwiseItems],
      [true, 1],
      [false, 3],
    ] as const) {
      const tuning = { ...env.ctx.tuning, elementwiseItems: items };
      const n = vec4 ? 4 * 1001 : 4 * 1001 + 3;
      const x = randomArray(n, 1);
      const y = randomArray(n, 2);
      const t = elementwise(
        {
          inputs: ["x", "y"],
          output: "z",
          expr: "max(x * params.a + params.b, T(0.0)) * params.c + y",
          params: [
            { name: "a", type: "f32" },
            { name: "b", type: "f32" },
            { name: "c", type: "f32" },
          ],
          vec4,
        },
        tuning,
      );
      const bufs = [upload(env, x), upload(env, y), poisoned(env, n)];
      launch(env.stream, await compile(env.cache, t), bufs, {
        count: n,
        extra: { a: 1.5, b: -0.25, c: 3 },
      });
      const got = await download(env, bufs[2]!, n);
      const want = Array.from(x, (v, i) => Math.max(v * 1.5 - 0.25, 0) * 3 + y[i]!);
      expectClose(got, want, 1e-5, `elementwise vec4=${vec4} items=${items}`);
      bufs.forEach((b) => env.memory.release(b));
    }
  });
});
