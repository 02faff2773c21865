// Channel layout: slicing a channel group out of [m, n], concatenating groups, and padding a group
// back into the full width (the VJP of a slice). The grouped reversible coupling is built on these.
import { addDims, dimEquals, dimToString, shapeToString } from "../dims.js";
import type { ColumnRange, OpDef } from "../op-def.js";
import { tensor } from "../tensor.js";
import type { GraphBuilder } from "../graph-builder.js";
import type { Attrs, Dim, Value } from "../types.js";

const int = (x: unknown) => x as number;

/** `whole` cut into consecutive column slices as wide as `pieces`. */
function slicesLike(b: GraphBuilder, pieces: readonly Value[], whole: Value): Value[] {
  let start = 0;
  return pieces.map((x) => {
    const len = x.shape[1] as number;
    const piece = b.op("slice_cols", [whole], { start, len });
    start += len;
    return piece;
  });
}

/** A known column range moved by `by` (what a layout op's read does to its column). */
const shifted = (r: readonly [number, number] | undefined, by: number) =>
  r && ([r[0] + by, r[1] + by] as const);

const sliceRange = (attrs: Attrs): ColumnRange => ({
  start: int(attrs.start),
  len: int(attrs.len),
});

export const layoutOps: OpDef[] = [
  {
    // Multi-head attention: one weight per head [m, h] spread over the head's `times` channels
    // of an [m, h·times] message. Its VJP is group_sum, which sums each head's channels back.
    name: "repeat_cols",
    doc: "each column repeated `times` times side by side: [m, h] → [m, h·times]",
    shape: ([x], attrs) => {
      if (x!.length !== 2) return `repeat_cols expects a matrix, got ${shapeToString(x!)}`;
      const h = x![1]!;
      const times = int(attrs.times);
      if (typeof h !== "number")
        return `repeat_cols needs a known column count, got ${shapeToString(x!)}`;
      return [[x![0]!, h * times]];
    },
    evaluate: ([x], attrs) => {
      const [m, h] = x!.shape as [number, number];
      const times = int(attrs.times);
      const out = tensor([m, h * times]);
      for (let i = 0; i < m; i++) {
        for (let c = 0; c < h * times; c++)
          out.data[i * h * times + c] = x!.data[i * h + Math.floor(c / times)]!;
      }
      return [out];
    },
    vjp: (b, { attrs }, [d]) => [d && b.op("group_sum", [d], { width: int(attrs.times) })],
    lowering: {
      kind: "elementwise",
      emit: (c) => c.readColumn(0, `(${c.col} / ${int(c.attrs.times)}u)`),
      reads: "coordinates",
    },
  },
  {
    name: "slice_cols",
    doc: "columns [start, start+len) of [m, n]",
    shape: ([x], attrs) => {
      if (x!.length !== 2) return `slice_cols expects a matrix, got ${shapeToString(x!)}`;
      const n = x![1]!;
      const end = int(attrs.start) + int(attrs.len);
      if (typeof n === "number" && end > n) {
        return `columns ${attrs.start}..${end} are out of range for ${shapeToString(x!)}`;
      }
      return [[x![0]!, int(attrs.len)]];
    },
    evaluate: ([x], attrs) => {
      const [m, n] = x!.shape as [number, number];
      const start = int(attrs.start);
      const len = int(attrs.len);
      const out = tensor([m, len]);
      for (let i = 0; i < m; i++) {
        out.data.set(x!.data.subarray(i * n + start, i * n + start + len), i * len);
      }
      return [out];
    },
    vjp: (b, { inputs: [x], attrs }, [d]) => [
      d && b.op("pad_cols", [d], { start: int(attrs.start), total: x!.shape[1]! }),
    ],
    inverse: { kind: "slice", range: sliceRange },
    columns: (attrs) => ({ kind: "slice", ...sliceRange(attrs) }),
    lowering: {
      kind: "elementwise",
      emit: (c) =>
        c.readAt(
          0,
          c.row,
          `(${c.col} + ${int(c.attrs.start)}u)`,
          shifted(c.colRange, int(c.attrs.start)),
        ),
      reads: "coordinates",
    },
  },
  {
    name: "pad_cols",
    doc: "embeds [m, len] at columns [start, start+len) of a zero [m, total]",
    shape: ([x], attrs) => {
      if (x!.length !== 2) return `pad_cols expects a matrix, got ${shapeToString(x!)}`;
      return [[x![0]!, attrs.total as Dim]];
    },
    evaluate: ([x], attrs) => {
      const [m, len] = x!.shape as [number, number];
      const total = int(attrs.total);
      const start = int(attrs.start);
      const out = tensor([m, total]);
      for (let i = 0; i < m; i++) {
        out.data.set(x!.data.subarray(i * len, (i + 1) * len), i * total + start);
      }
      return [out];
    },
    vjp: (b, { inputs: [x], attrs }, [d]) => [
      d && b.op("slice_cols", [d], { start: int(attrs.start), len: x!.shape[1]! }),
    ],
    columnEdges: (attrs, [len]) => [int(attrs.start), int(attrs.start) + len!],
    lowering: {
      kind: "elementwise",
      emit: (c) => {
        const start = int(c.attrs.start);
        const len = c.colCount(0);
        const r = c.colRange;
        // Where the kernel knows the column range, it lies wholly inside or outside the piece
        // (row loops are split at the piece's edges: rows.ts) and the select goes.
        if (r && len !== undefined && r[0] >= start && r[1] <= start + len)
          return c.readAt(0, c.row, `(${c.col} - ${start}u)`, shifted(r, -start));
        if (r && len !== undefined && (r[1] <= start || r[0] >= start + len)) return "0.0";
        const inside = `(${c.col} >= ${start}u && ${c.col} < ${start}u + ${c.cols(0)})`;
        const read = c.readAt(0, c.row, `(max(${c.col}, ${start}u) - ${start}u)`);
        return `select(0.0, ${read}, ${inside})`;
      },
      reads: "coordinates",
    },
  },
  {
    name: "concat_cols",
    doc: "concatenation along the channels: [m, a] ++ [m, b] → [m, a+b]",
    shape: (xs) => {
      if (xs.length === 0) return "concat needs at least one tensor";
      for (const x of xs) {
        if (x.length !== 2) return `concat expects matrices, got ${shapeToString(x)}`;
        if (!dimEquals(x[0]!, xs[0]![0]!)) {
          return `concat: row counts differ (${xs.map((s) => dimToString(s[0]!)).join(" vs ")})`;
        }
      }
      return [[xs[0]![0]!, xs.map((s) => s[1]!).reduce(addDims)]];
    },
    evaluate: (xs) => {
      const m = xs[0]!.shape[0]!;
      const widths = xs.map((x) => x.shape[1]!);
      const total = widths.reduce((a, b) => a + b, 0);
      const out = tensor([m, total]);
      for (let i = 0; i < m; i++) {
        let off = 0;
        xs.forEach((x, k) => {
          out.data.set(x.data.subarray(i * widths[k]!, (i + 1) * widths[k]!), i * total + off);
          off += widths[k]!;
        });
      }
      return [out];
    },
    vjp: (b, { inputs }, [d]) => (d ? slicesLike(b, inputs, d) : inputs.map(() => undefined)),
    // The pieces are the result's columns, in order.
    inverse: { kind: "operands", rebuild: (b, op, result) => slicesLike(b, op.inputs, result) },
    columns: () => ({ kind: "concat" }),
    columnEdges: (_attrs, widths) => {
      let end = 0;
      return widths.map((w) => (end += w));
    },
    lowering: {
      kind: "elementwise",
      emit: (c) => {
        // Where the kernel knows the column range and it lies inside one piece (row loops are
        // split at the pieces' edges: rows.ts), that piece is read directly.
        const r = c.colRange;
        if (r) {
          let lo = 0;
          for (let k = 0; k < c.arity; k++) {
            const w = c.colCount(k);
            if (w === undefined) break;
            if (r[0] >= lo && r[1] <= lo + w)
              return c.readAt(k, c.row, lo ? `(${c.col} - ${lo}u)` : c.col, shifted(r, -lo));
            lo += w;
          }
        }
        // Otherwise nested selects over the pieces; each read clamps its column so that no lane
        // reads out of bounds for the pieces it does not select.
        let expr = "0.0";
        const starts: string[] = [];
        let acc = "0u";
        for (let k = 0; k < c.arity; k++) {
          starts.push(acc);
          acc = `(${acc} + ${c.cols(k)})`;
        }
        for (let k = c.arity - 1; k >= 0; k--) {
          const s = starts[k]!;
          const read = c.readAt(k, c.row, `min(${c.col} - min(${c.col}, ${s}), ${c.cols(k)} - 1u)`);
          expr = k === c.arity - 1 ? read : `select(${expr}, ${read}, ${c.col} < ${starts[k + 1]})`;
        }
        return expr;
      },
      reads: "coordinates",
    },
  },
];
