// Shared matmul test machinery: float64 reference with strided views, and a checker that also
// verifies that nothing outside the output view is written.
import {
  matmul,
  matmulSplitK,
  type MatmulDims,
  type MatmulForm,
  type MatmulOptions,
} from "../../compiler/codegen/templates/matmul.js";
import { compile, compileSplitK, launch, launchSplitK } from "../../driver/launch-template.js";
import { download, expectClose, poisoned, randomArray, upload, type Env } from "./helpers.js";

export interface Case extends MatmulDims {
  form: MatmulForm;
}

/** Stored extent (rows x ld) of each operand for a case. */
function extents(c: Required<Omit<MatmulDims, "extra">> & { form: MatmulForm }) {
  const aRows = c.form === "tn" ? c.k : c.m;
  const aCols = c.form === "tn" ? c.m : c.k;
  const bRows = c.form === "nt" ? c.n : c.k;
  const bCols = c.form === "nt" ? c.k : c.n;
  return {
    aLen: c.offA + (aRows - 1) * c.lda + aCols,
    bLen: c.offB + (bRows - 1) * c.ldb + bCols,
    cLen: c.offC + (c.m - 1) * c.ldc + c.n,
  };
}

export function full(c: Case) {
  return {
    form: c.form,
    m: c.m,
    n: c.n,
    k: c.k,
    lda: c.lda ?? (c.form === "tn" ? c.m : c.k),
    ldb: c.ldb ?? (c.form === "nt" ? c.k : c.n),
    ldc: c.ldc ?? c.n,
    offA: c.offA ?? 0,
    offB: c.offB ?? 0,
    offC: c.offC ?? 0,
  };
}

export function reference(
  c: ReturnType<typeof full>,
  a: Float32Array,
  b: Float32Array,
  epi?: (row: number, col: number, acc: number) => number,
): Float64Array {
  const out = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let s = 0;
      for (let p = 0; p < c.k; p++) {
        const av = c.form === "tn" ? a[c.offA + p * c.lda + i]! : a[c.offA + i * c.lda + p]!;
        const bv = c.form === "nt" ? b[c.offB + j * c.ldb + p]! : b[c.offB + p * c.ldb + j]!;
        s += av * bv;
      }
      out[i * c.n + j] = epi ? epi(i, j, s) : s;
    }
  }
  return out;
}

/** Runs one case; checks the view and that nothing outside the view was touched. */
export async function check(
  env: Env,
  c: Case,
  opts: Omit<MatmulOptions, "form">,
  seed: number,
  init?: { cInit: Float32Array },
  splitRows?: number,
): Promise<void> {
  const f = full(c);
  const { aLen, bLen, cLen } = extents(f);
  const a = randomArray(aLen, seed);
  const b = randomArray(bLen, seed + 1);
  const cInit = init?.cInit ?? new Float32Array(cLen).fill(Number.NaN);
  const bufA = upload(env, a, "A");
  const bufB = upload(env, b, "B");
  const bufC = upload(env, cInit, "C");
  const dims: MatmulDims = { ...c };
  if (splitRows !== undefined) {
    const tuning = { ...env.ctx.tuning, splitKRows: splitRows };
    const plan = matmulSplitK({ form: c.form, ...opts }, tuning);
    const s = await compileSplitK(env.cache, plan);
    const ws = poisoned(env, plan.workspaceFloats(dims), "ws");
    launchSplitK(env.stream, s, bufA, bufB, bufC, ws, dims);
    env.memory.release(ws);
  } else {
    const t = matmul({ form: c.form, ...opts }, env.ctx.tuning);
    launch(env.stream, await compile(env.cache, t), [bufA, bufB, bufC], dims);
  }
  const got = await download(env, bufC, cLen);
  const ref = reference(f, a, b);
  const want = new Float64Array(cLen);
  const inView = new Uint8Array(cLen);
  for (let i = 0; i < f.m; i++) {
    for (let j = 0; j < f.n; j++) {
      const o = f.offC + i * f.ldc + j;
      inView[o] = 1;
      want[o] = ref[i * f.n + j]! + (opts.accumulate ? cInit[o]! : 0);
    }
  }
  for (let o = 0; o < cLen; o++) {
    if (inView[o]) continue;
    if (!Object.is(got[o], cInit[o])) throw new Error(`C[${o}] outside the view was overwritten`);
  }
  const gotView = Array.from(inView.keys())
    .filter((o) => inView[o])
    .map((o) => got[o]!);
  const wantView = Array.from(inView.keys())
    .filter((o) => inView[o])
    .map((o) => want[o]!);
  expectClose(gotView, wantView, 1e-4, `${c.form} ${f.m}x${f.n}x${f.k}`);
  for (const buf of [bufA, bufB, bufC]) env.memory.release(buf);
}

export const oddShapes: [number, number, number][] = [
  [1, 1, 1],
  [7, 5, 13],
  [130, 129, 67],
  [33, 20, 8],
];
export const vec4Shapes: [number, number, number][] = [
  [4, 4, 4],
  [130, 132, 68],
  [36, 20, 12],
  [2708, 64, 128],
];
