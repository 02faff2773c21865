// Matmul templates against a float64 CPU reference, with the adapter's default variant: every
// form, scalar and vec4 paths, shapes that are not tile multiples, strided views into wider
// tensors, fused epilogue, accumulate and split-K. (The other variant: matmul-variant.test.ts.)
import { describe, expect, it } from "vitest";
import { matmul } from "../../compiler/codegen/templates/matmul.js";
import { compile, launch } from "../../driver/launch-template.js";
import { check, full, oddShapes, reference, vec4Shapes } from "./matmul-cases.js";
import { download, expectClose, poisoned, randomArray, upload, useEnv } from "./helpers.js";

const env = useEnv();

describe("matmul forms (adapter default variant)", () => {
  for (const form of ["nn", "nt", "tn"] as const) {
    it(`${form}: scalar path, odd shapes`, async () => {
      let seed = 1;
      for (const [m, n, k] of oddShapes) await check(env, { form, m, n, k }, {}, seed++);
    });
    it(`${form}: vec4 path`, async () => {
      let seed = 10;
      for (const [m, n, k] of vec4Shapes) {
        // "tn" needs M % 4 == 0 for vec4, and its long axis is K (see split-K below).
        if (form === "tn" && (m % 4 !== 0 || m > 1000)) continue;
        await check(env, { form, m, n, k }, { vec4: true }, seed++);
      }
    });
  }
});

describe("matmul views, epilogue, accumulate, split-K", () => {
  it("channel-group slices: lda/ldb/ldc and offsets (scalar and vec4)", async () => {
    // A = columns [12, 12+20) of a [37, 48] tensor; C = columns [8, 8+16) of a [37, 40] tensor.
    const slice = { form: "nn" as const, m: 37, n: 16, k: 20, lda: 48, offA: 12, ldc: 40, offC: 8 };
    await check(env, slice, {}, 21);
    await check(env, slice, { vec4: true }, 22);
    // odd offsets and strides on the scalar path
    await check(
      env,
      { form: "nt", m: 9, n: 11, k: 7, lda: 10, offA: 3, ldb: 13, offB: 5, ldc: 15, offC: 1 },
      {},
      23,
    );
    await check(
      env,
      { form: "tn", m: 9, n: 6, k: 31, lda: 12, offA: 2, ldb: 9, offB: 1, ldc: 7, offC: 1 },
      {},
      24,
    );
    await check(
      env,
      { form: "tn", m: 8, n: 12, k: 40, lda: 16, offA: 4, ldb: 16, offB: 4, ldc: 20, offC: 8 },
      { vec4: true },
      25,
    );
  });

  it("fused epilogue (bias + residual + scale parameter), with and without accumulate", async () => {
    // Scalar path with accumulate and vec4 path without: two kernels cover both store paths
    // and both modes (lavapipe compiles each kernel in seconds, so the suite stays small).
    const m = 45;
    const n = 12;
    const k = 16;
    const bias = randomArray(n, 31);
    const resid = randomArray(m * n, 32);
    const a = randomArray(m * k, 33);
    const b = randomArray(k * n, 34);
    const cInit = randomArray(m * n, 35);
    const scale = 0.75;
    for (const vec4 of [false, true]) {
      const accumulate = !vec4;
      const t = matmul(
        {
          form: "nn",
          vec4,
          accumulate,
          epilogue: {
            code: `fn epilogue(row: u32, col: u32, acc: f32) -> f32 {
  return acc * params.scale + bias[col] + resid[row * params.n + col];
}`,
            bindings: [
              { name: "bias", kind: "read" },
              { name: "resid", kind: "read" },
            ],
            params: [{ name: "scale", type: "f32" }],
          },
        },
        env.ctx.tuning,
      );
      const c = accumulate ? upload(env, cInit) : poisoned(env, m * n);
      const bufs = [upload(env, a), upload(env, b), c, upload(env, bias), upload(env, resid)];
      launch(env.stream, await compile(env.cache, t), bufs, { m, n, k, extra: { scale } });
      const got = await download(env, c, m * n);
      const want = reference(
        full({ form: "nn", m, n, k }),
        a,
        b,
        (i, j, s) =>
          s * scale + bias[j]! + resid[i * n + j]! + (accumulate ? cInit[i * n + j]! : 0),
      );
      expectClose(got, want, 1e-4, `epilogue vec4=${vec4} accumulate=${accumulate}`);
      bufs.forEach((x) => env.memory.release(x));
    }
  });

  it("narrow column blocks from nHint (e.g. 7 classes), also when N differs from the hint", async () => {
    await check(env, { form: "nn", m: 150, n: 7, k: 33 }, { nHint: 7 }, 51);
    await check(env, { form: "nt", m: 70, n: 12, k: 16 }, { nHint: 4, vec4: true }, 52);
  });

  it("narrow workgroups from mHint (Xᵀ·dY with 32 rows), also when M differs from the hint", async () => {
    await check(env, { form: "tn", m: 32, n: 32, k: 301 }, { mHint: 32, vec4: true }, 53);
    await check(env, { form: "tn", m: 200, n: 8, k: 45 }, { mHint: 16, vec4: true }, 54);
    await check(env, { form: "nn", m: 150, n: 12, k: 20 }, { mHint: 3 }, 55);
    await check(env, { form: "tn", m: 24, n: 20, k: 1001 }, { mHint: 24 }, 56, undefined, 64);
  });

  it("split-K Aᵀ·B: several chunks, ragged last chunk, accumulate", async () => {
    await check(env, { form: "tn", m: 24, n: 20, k: 1001 }, {}, 41, undefined, 64);
    await check(env, { form: "tn", m: 16, n: 32, k: 1000 }, { vec4: true }, 42, undefined, 128);
    await check(env, { form: "tn", m: 5, n: 3, k: 3 }, {}, 43, undefined, 8);
    const cInit = randomArray(12 * 8, 44);
    await check(
      env,
      { form: "tn", m: 12, n: 8, k: 300 },
      { accumulate: true, vec4: true },
      45,
      { cInit },
      32,
    );
  });

  it("generated WGSL is deterministic and readable", () => {
    const a = matmul({ form: "tn", vec4: true }, env.ctx.tuning);
    const b = matmul({ form: "tn", vec4: true }, env.ctx.tuning);
    expect(a.code).toBe(b.code);
    expect(a.code.split("\n")[0]).toMatch(
      /^\/\/ matmul_tn_\w+: C\[M,N\] = A\[K,M\]\^T \* B\[K,N\]/,
    );
    expect(a.bindings.map((x) => x.name)).toEqual(["A", "B", "C", "params"]);
  });
});
