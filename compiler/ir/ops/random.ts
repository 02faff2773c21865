// Dropout masks from the counter-based hash RNG and one-hot encodings of class labels.
import { evalShape, shapeToString } from "../dims.js";
import type { OpDef } from "../op-def.js";
import { streamKey, uniformAt } from "../rng.js";
import { tensor } from "../tensor.js";
import type { Shape } from "../types.js";

export const randomOps: OpDef[] = [
  {
    name: "dropout_mask",
    doc: "inverted-dropout mask: 1/(1−p) with probability 1−p, else 0; keyed by (seed, step, stream, iteration, element)",
    shape: ([iter], attrs) => {
      if (iter!.length !== 0)
        return `dropout_mask takes the loop iteration as a scalar, got ${shapeToString(iter!)}`;
      return [attrs.shape as Shape];
    },
    evaluate: ([iter], attrs, ctx) => {
      const p = attrs.p as number;
      const out = tensor(evalShape(attrs.shape as Shape, ctx.dims));
      const key = streamKey(ctx.seed, ctx.step, attrs.stream as number, iter!.data[0]!);
      const keep = 1 / (1 - p);
      for (let i = 0; i < out.data.length; i++) out.data[i] = uniformAt(key, i) >= p ? keep : 0;
      return [out];
    },
    zeroGradient: true,
    cheapToRecompute: true,
    lowering: {
      kind: "elementwise",
      emit: (c) => {
        const p = c.attrs.p as number;
        const key = `stream_key(${c.uniform("seed")}, ${c.uniform("step")}, ${c.attrs.stream as number}u, u32(${c.args[0]}))`;
        return `select(0.0, ${c.f32(1 / (1 - p))}, uniform_at(${key}, ${c.index}) >= ${c.f32(p)})`;
      },
      reads: "linear-index",
    },
  },
  {
    name: "one_hot",
    doc: "class ids [m, 1] → [m, K] with a 1 at each row's class (none for ids < 0)",
    shape: ([labels], attrs) => {
      if (labels!.length !== 2 || labels![1] !== 1) {
        return `one_hot expects class ids [m, 1], got ${shapeToString(labels!)}`;
      }
      return [[labels![0]!, attrs.classes as number | string]];
    },
    evaluate: ([labels], attrs, ctx) => {
      const m = labels!.shape[0]!;
      const k = evalShape([attrs.classes as number | string], ctx.dims)[0]!;
      const out = tensor([m, k]);
      for (let i = 0; i < m; i++) {
        const c = labels!.data[i]!;
        if (c >= 0 && c < k) out.data[i * k + c] = 1;
      }
      return [out];
    },
    zeroGradient: true,
    lowering: {
      kind: "elementwise",
      emit: (c) => `select(0.0, 1.0, ${c.args[0]} == f32(${c.col}))`,
      reads: "coordinates",
    },
  },
];
