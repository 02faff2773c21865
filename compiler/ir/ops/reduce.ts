// Reductions (over the channels of each row, over the rows of each column, over everything),
// broadcasting and reshaping, which are their VJPs.
import { broadcastShapes, dimEquals, evalShape, numElements, shapeToString } from "../dims.js";
import type { OpDef } from "../op-def.js";
import { FLT_MAX } from "../../contract.js";
import { broadcastIndexer, tensor } from "../tensor.js";
import type { Shape } from "../types.js";

function rank2(name: string, x: Shape): string | undefined {
  return x.length === 2
    ? undefined
    : `${name} expects a matrix [rows, cols], got ${shapeToString(x)}`;
}

export const reduceOps: OpDef[] = [
  {
    name: "row_sum",
    doc: "sum over the channels of each row: [m, n] → [m, 1]",
    shape: ([x]) => rank2("row_sum", x!) ?? [[x![0]!, 1]],
    evaluate: ([x]) => {
      const [m, n] = x!.shape as [number, number];
      const out = tensor([m, 1]);
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += x!.data[i * n + j]!;
        out.data[i] = s;
      }
      return [out];
    },
    vjp: (b, { inputs: [x] }, [d]) => [d && b.op("broadcast", [d], { shape: [...x!.shape] })],
    lowering: { kind: "reduce", axis: "row", combine: "sum" },
  },
  {
    // The per-head sums of multi-head attention (a score per head, the VJP of repeat_cols).
    // Lowered as a row reduction with one result per group (codegen/rows.ts).
    name: "group_sum",
    doc: "sums of consecutive groups of `width` channels of each row: [m, h·width] → [m, h]",
    shape: ([x], attrs) => {
      const bad = rank2("group_sum", x!);
      if (bad) return bad;
      const n = x![1]!;
      const width = attrs.width as number;
      if (typeof n !== "number" || n % width !== 0) {
        return `group_sum: ${shapeToString(x!)} does not split into groups of ${width} channels`;
      }
      return [[x![0]!, n / width]];
    },
    evaluate: ([x], attrs) => {
      const [m, n] = x!.shape as [number, number];
      const width = attrs.width as number;
      const h = n / width;
      const out = tensor([m, h]);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) out.data[i * h + Math.floor(j / width)]! += x!.data[i * n + j]!;
      }
      return [out];
    },
    vjp: (b, { attrs }, [d]) => [d && b.op("repeat_cols", [d], { times: attrs.width as number })],
    lowering: { kind: "reduce", axis: "row", combine: "sum" },
  },
  {
    name: "row_max",
    doc: "maximum over the channels of each row: [m, n] → [m, 1]",
    shape: ([x]) => rank2("row_max", x!) ?? [[x![0]!, 1]],
    evaluate: ([x]) => {
      const [m, n] = x!.shape as [number, number];
      const out = tensor([m, 1]);
      for (let i = 0; i < m; i++) {
        let s = -Infinity;
        for (let j = 0; j < n; j++) s = Math.max(s, x!.data[i * n + j]!);
        out.data[i] = s;
      }
      return [out];
    },
    // The subgradient is shared equally between tied maxima.
    vjp: (b, { inputs: [x], outputs: [y] }, [d]) => {
      if (!d) return [undefined];
      const mask = b.op("eq", [x!, y!]);
      const share = b.div(d, b.op("row_sum", [mask]));
      return [b.mul(mask, share)];
    },
    lowering: { kind: "reduce", axis: "row", combine: "max" },
  },
  {
    // One predicted class per row, as numpy's and PyTorch's argmax: ties go to the first maximum,
    // so a model whose outputs are all equal predicts class 0 for every node instead of "all of
    // them". The scan starts below every finite float32 and moves only on a strictly greater
    // value — the comparisons the kernel makes (WGSL has no −∞ literal) and runtime/metrics.ts's
    // argmax: a NaN never wins, and a row with nothing above −FLT_MAX (all NaN or −∞) gives 0.
    // The index is a float, like every IR value: exact below 2^24 classes.
    name: "row_argmax",
    doc: "index of the first maximum of each row: [m, n] → [m, 1] (NaN never wins)",
    shape: ([x]) => rank2("row_argmax", x!) ?? [[x![0]!, 1]],
    evaluate: ([x]) => {
      const [m, n] = x!.shape as [number, number];
      const out = tensor([m, 1]);
      for (let i = 0; i < m; i++) {
        let best = 0;
        let bestV = -FLT_MAX;
        for (let j = 0; j < n; j++) {
          const v = x!.data[i * n + j]!;
          if (v > bestV) {
            bestV = v;
            best = j;
          }
        }
        out.data[i] = best;
      }
      return [out];
    },
    // A step function of its input: the derivative is zero almost everywhere.
    zeroGradient: true,
    lowering: { kind: "reduce", axis: "row", combine: "argmax" },
  },
  {
    name: "col_sum",
    doc: "sum over the rows of each column: [m, n] → [n]",
    shape: ([x]) => rank2("col_sum", x!) ?? [[x![1]!]],
    evaluate: ([x]) => {
      const [m, n] = x!.shape as [number, number];
      const out = tensor([n]);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out.data[j]! += x!.data[i * n + j]!;
      return [out];
    },
    vjp: (b, { inputs: [x] }, [d]) => [d && b.op("broadcast", [d], { shape: [...x!.shape] })],
    lowering: { kind: "reduce", axis: "col", combine: "sum" },
  },
  {
    name: "sum_all",
    doc: "sum of every element: → []",
    shape: () => [[]],
    evaluate: ([x]) => {
      let s = 0;
      for (const v of x!.data) s += v;
      return [tensor([], [s])];
    },
    vjp: (b, { inputs: [x] }, [d]) => [d && b.op("broadcast", [d], { shape: [...x!.shape] })],
    lowering: { kind: "reduce", axis: "all", combine: "sum" },
  },
  {
    name: "broadcast",
    doc: "stretches a tensor to a larger shape (numpy broadcasting)",
    repeatsOperand: true,
    shape: ([x], attrs) => {
      const target = attrs.shape as Shape;
      const s = broadcastShapes(x!, target);
      if (!s || s.length !== target.length || !s.every((d, i) => dimEquals(d, target[i]!))) {
        return `cannot broadcast ${shapeToString(x!)} to ${shapeToString(target)}`;
      }
      return [target];
    },
    evaluate: ([x], attrs, ctx) => {
      const shape = evalShape(attrs.shape as Shape, ctx.dims);
      const out = tensor(shape);
      const at = broadcastIndexer([x!.shape], shape);
      for (let i = 0; i < out.data.length; i++) out.data[i] = x!.data[at(i, 0)]!;
      return [out];
    },
    vjp: (b, { inputs: [x] }, [d]) => [d && b.sumToShape(d, x!.shape)],
    lowering: { kind: "elementwise", emit: (c) => c.args[0]! },
  },
  {
    name: "reshape",
    doc: "the same elements in another shape",
    shape: ([x], attrs) => {
      const target = attrs.shape as Shape;
      const known = (s: Shape) => s.every((d) => typeof d === "number");
      if (
        known(x!) &&
        known(target) &&
        numElements(x as number[]) !== numElements(target as number[])
      ) {
        return `cannot reshape ${shapeToString(x!)} to ${shapeToString(target)}`;
      }
      return [target];
    },
    evaluate: ([x], attrs, ctx) => [tensor(evalShape(attrs.shape as Shape, ctx.dims), x!.data)],
    vjp: (b, { inputs: [x] }, [d]) => [d && b.op("reshape", [d], { shape: [...x!.shape] })],
    lowering: { kind: "view" },
  },
];
