// CSR SpMM against a float64 CPU reference: plain sums, edge weights, source/destination scales
// and an implicit self loop, nodes without in-edges, a one-node graph, strided channel views,
// accumulate, and both variants (the adapter's default and "plain").
import { describe, it } from "vitest";
import { spmm, type SpmmDims, type SpmmOptions } from "../../compiler/codegen/templates/spmm.js";
import { compile, launch } from "../../driver/launch-template.js";
import { download, expectClose, poisoned, randomArray, upload, useEnv } from "./helpers.js";

const env = useEnv();

interface Graph {
  nodes: number;
  rowPtr: Uint32Array;
  colIdx: Uint32Array;
}

/** Random graph with skewed degrees; node 0 and every 7th node get no in-edges. */
function randomGraph(nodes: number, edges: number, seed: number): Graph {
  const r = randomArray(edges * 2, seed);
  const deg = new Uint32Array(nodes);
  const dst: number[] = [];
  const src: number[] = [];
  for (let e = 0; e < edges; e++) {
    let v = Math.floor(nodes * Math.abs(r[2 * e]!) ** 2) % nodes;
    if (v % 7 === 0) v = (v + 1) % nodes;
    if (v % 7 === 0) continue;
    dst.push(v);
    src.push(Math.floor(nodes * Math.abs(r[2 * e + 1]!)) % nodes);
    deg[v]!++;
  }
  const rowPtr = new Uint32Array(nodes + 1);
  for (let v = 0; v < nodes; v++) rowPtr[v + 1] = rowPtr[v]! + deg[v]!;
  const fill = rowPtr.slice(0, nodes);
  const colIdx = new Uint32Array(Math.max(1, dst.length));
  dst.forEach((v, e) => (colIdx[fill[v]!++] = src[e]!));
  return { nodes, rowPtr, colIdx: colIdx.subarray(0, dst.length) };
}

interface Inputs {
  g: Graph;
  x: Float32Array;
  w: Float32Array;
  s: Float32Array;
  d: Float32Array;
}

function reference(
  opts: SpmmOptions,
  dims: Required<SpmmDims>,
  inp: Inputs,
  init: Float32Array,
): Float64Array {
  const out = Float64Array.from(init);
  const { g, x, w, s, d } = inp;
  for (let v = 0; v < dims.nodes; v++) {
    for (let c = 0; c < dims.channels; c++) {
      let acc = 0;
      for (let e = g.rowPtr[v]!; e < g.rowPtr[v + 1]!; e++) {
        const u = g.colIdx[e]!;
        acc +=
          (opts.edgeWeights ? w[e]! : 1) *
          (opts.srcScale ? s[u]! : 1) *
          x[dims.offX + u * dims.ldX + c]!;
      }
      if (opts.selfLoop)
        acc += dims.selfWeight * (opts.srcScale ? s[v]! : 1) * x[dims.offX + v * dims.ldX + c]!;
      if (opts.dstScale) acc *= d[v]!;
      const o = dims.offOut + v * dims.ldOut + c;
      out[o] = opts.accumulate ? out[o]! + acc : acc;
    }
  }
  return out;
}

async function check(opts: SpmmOptions, g: Graph, dimsIn: SpmmDims, seed: number): Promise<void> {
  const dims: Required<SpmmDims> = {
    nodes: dimsIn.nodes,
    channels: dimsIn.channels,
    ldX: dimsIn.ldX ?? dimsIn.channels,
    offX: dimsIn.offX ?? 0,
    ldOut: dimsIn.ldOut ?? dimsIn.channels,
    offOut: dimsIn.offOut ?? 0,
    selfWeight: dimsIn.selfWeight ?? 1,
  };
  const inp: Inputs = {
    g,
    x: randomArray(dims.offX + g.nodes * dims.ldX, seed),
    w: randomArray(Math.max(1, g.colIdx.length), seed + 1),
    s: randomArray(g.nodes, seed + 2),
    d: randomArray(g.nodes, seed + 3),
  };
  const outLen = dims.offOut + (dims.nodes - 1) * dims.ldOut + dims.channels;
  const init = opts.accumulate
    ? randomArray(outLen, seed + 4)
    : new Float32Array(outLen).fill(Number.NaN);
  const t = spmm(opts, env.ctx.tuning);
  const bufs = [
    upload(env, g.rowPtr),
    upload(env, g.colIdx.length ? g.colIdx : new Uint32Array(1)),
    upload(env, inp.x),
    opts.accumulate ? upload(env, init) : poisoned(env, outLen),
  ];
  if (opts.edgeWeights) bufs.push(upload(env, inp.w));
  if (opts.srcScale) bufs.push(upload(env, inp.s));
  if (opts.dstScale) bufs.push(upload(env, inp.d));
  launch(env.stream, await compile(env.cache, t), bufs, dims);
  const got = await download(env, bufs[3]!, outLen);
  const want = reference(opts, dims, inp, init);
  // Outside the view stays untouched (NaN stays NaN), inside must match.
  const gotView: number[] = [];
  const wantView: number[] = [];
  for (let o = 0; o < outLen; o++) {
    const v = Math.floor((o - dims.offOut) / dims.ldOut);
    const c = (o - dims.offOut) % dims.ldOut;
    const inView = o >= dims.offOut && c < dims.channels && v < dims.nodes;
    if (inView) {
      gotView.push(got[o]!);
      wantView.push(want[o]!);
    } else if (!Object.is(got[o], init[o])) {
      throw new Error(`out[${o}] outside the view was overwritten`);
    }
  }
  expectClose(gotView, wantView, 1e-4, `${t.label} ${dims.nodes}x${dims.channels}`);
  bufs.forEach((b) => env.memory.release(b));
}

const variants = ["default", "plain"] as const;
for (const which of variants) {
  describe(`spmm (${which} variant)`, () => {
    const variant = which === "default" ? undefined : which;
    it("plain sum: scalar path with odd channel counts, vec4 path, empty rows, one node", async () => {
      const g = randomGraph(300, 2500, 1);
      await check({ variant }, g, { nodes: g.nodes, channels: 13 }, 2);
      await check({ variant, vec4: true }, g, { nodes: g.nodes, channels: 136 }, 3);
      await check({ variant }, g, { nodes: g.nodes, channels: 1 }, 4);
      // Narrow tensors with a channel hint (fewer quads per lane), and a hint that is off.
      await check(
        { variant, vec4: true, channelsHint: 16 },
        g,
        { nodes: g.nodes, channels: 16 },
        11,
      );
      await check({ variant, channelsHint: 64 }, g, { nodes: g.nodes, channels: 70 }, 12);
      const one = { nodes: 1, rowPtr: new Uint32Array([0, 1]), colIdx: new Uint32Array([0]) };
      await check({ variant }, one, { nodes: 1, channels: 5 }, 5);
      const lonely = { nodes: 1, rowPtr: new Uint32Array([0, 0]), colIdx: new Uint32Array(0) };
      await check({ variant, vec4: true }, lonely, { nodes: 1, channels: 8 }, 6);
    });
    it("GCN-style weights: edge weights, src/dst scales, weighted self loop, accumulate, views", async () => {
      const g = randomGraph(200, 1800, 7);
      const all: SpmmOptions = {
        variant,
        edgeWeights: true,
        srcScale: true,
        dstScale: true,
        selfLoop: true,
      };
      await check(all, g, { nodes: g.nodes, channels: 7, selfWeight: 0.5 }, 8);
      await check(
        { ...all, vec4: true, accumulate: true },
        g,
        { nodes: g.nodes, channels: 16, ldX: 40, offX: 8, ldOut: 24, offOut: 4, selfWeight: 2 },
        9,
      );
      // A channel slice with odd offsets on the scalar path.
      await check(
        { variant, selfLoop: true },
        g,
        { nodes: g.nodes, channels: 5, ldX: 11, offX: 3, ldOut: 9, offOut: 1 },
        10,
      );
    });
  });
}
