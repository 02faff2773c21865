// Built-in functions of the language and their lowering to IR ops. Everything else a user calls is
// a layer, in their file or in the prelude (compiler/prelude.gnn), itself written in the language.
import { shapeEquals, shapeToString } from "../ir/dims.js";
import type { Value } from "../ir/types.js";
import type { Span } from "../../grammar/ast.js";
import type { Builder } from "../ir/builder.js";
import type { Builtin, BuiltinCall } from "./builtin-types.js";
import { poolBuiltins } from "./pooling.js";
import { LowerError, type LVal } from "./values.js";

const tensorResult = (v: Value): LVal => ({ kind: "tensor", v });

function unaryBuiltin(name: string, opcode: string, doc: string): Builtin {
  return {
    name,
    signature: `${name}(x)`,
    doc,
    tensors: [1, 1],
    options: [],
    lower: (c) => tensorResult(c.b.unary(opcode, c.tensor(0))),
    opcode,
  };
}

function requireMatrix(v: Value, fn: string, span: Span): void {
  if (v.shape.length !== 2) {
    throw new LowerError(
      `${fn} works on the channels of a matrix [rows, channels], got ${shapeToString(v.shape)}`,
      span,
    );
  }
}

function rowMean(b: Builder, x: Value): Value {
  const n = x.shape[1]!;
  if (typeof n !== "number") return b.div(b.op("row_sum", [x]), b.op("size", [], { dim: n }));
  return b.scale(b.op("row_sum", [x]), 1 / n);
}

/**
 * Σ over each head's channels of the matrix x: [M, d] → [M, H] for `heads = H` (row_sum for one
 * head); a located error unless H is a whole number dividing d.
 */
function headSums(c: BuiltinCall, x: Value, fn: string): Value {
  const heads = c.number("heads");
  if (heads === 1) return c.b.op("row_sum", [x]);
  const d = x.shape[1]!;
  if (!Number.isInteger(heads) || heads < 1) {
    throw new LowerError(`${fn}: heads must be a whole number ≥ 1, got ${heads}`, c.span);
  }
  if (typeof d !== "number" || d % heads !== 0) {
    throw new LowerError(
      `${fn}: the ${d} channels of ${shapeToString(x.shape)} do not split into ${heads} heads`,
      c.span,
      `heads must divide the channel count`,
    );
  }
  return c.b.op("group_sum", [x], { width: d / heads });
}

/** softmax over channels, stabilised by the row maximum (whose gradient is exactly zero). */
function channelSoftmax(b: Builder, x: Value, log: boolean): Value {
  const m = b.unary("stop_gradient", b.op("row_max", [x]));
  const shifted = b.sub(x, m);
  const e = b.unary("exp", shifted);
  const z = b.op("row_sum", [e]);
  return log ? b.sub(shifted, b.unary("log", z)) : b.div(e, z);
}

export const builtins: Builtin[] = [
  unaryBuiltin("relu", "relu", "max(x, 0)"),
  unaryBuiltin("sigmoid", "sigmoid", "1 / (1 + exp(−x))"),
  unaryBuiltin("tanh", "tanh", "hyperbolic tangent"),
  unaryBuiltin("exp", "exp", "eˣ"),
  unaryBuiltin("log", "log", "natural logarithm"),
  unaryBuiltin("sqrt", "sqrt", "square root"),
  unaryBuiltin("rsqrt", "rsqrt", "1 / sqrt(x)"),
  unaryBuiltin("abs", "abs", "|x|"),
  unaryBuiltin("softplus", "softplus", "log(1 + eˣ)"),
  unaryBuiltin("square", "square", "x²"),
  unaryBuiltin("stop_gradient", "stop_gradient", "x, treated as a constant by differentiation"),
  {
    name: "leaky_relu",
    signature: "leaky_relu(x, alpha = 0.01)",
    doc: "x where x > 0, else alpha·x",
    tensors: [1, 1],
    options: [["alpha", 0.01]],
    lower: (c) => tensorResult(c.b.unary("leaky_relu", c.tensor(0), { alpha: c.number("alpha") })),
  },
  {
    name: "elu",
    signature: "elu(x, alpha = 1.0)",
    doc: "x where x > 0, else alpha·(eˣ − 1)",
    tensors: [1, 1],
    options: [["alpha", 1]],
    lower: (c) => tensorResult(c.b.unary("elu", c.tensor(0), { alpha: c.number("alpha") })),
  },
  {
    name: "maximum",
    signature: "maximum(a, b)",
    doc: "elementwise maximum",
    tensors: [2, 2],
    options: [],
    lower: (c) => tensorResult(c.b.op("maximum", [c.tensor(0), c.tensor(1)])),
  },
  {
    name: "dropout",
    signature: "dropout(x, p)",
    doc: "inverted dropout during training (x·m/(1−p), m ~ Bernoulli(1−p)); identity at evaluation. Masks come from a counter-based hash of (seed, step, site, block, element), so recomputation sees the same mask",
    tensors: [1, 1],
    options: [["p", undefined]],
    lower: (c) => {
      const x = c.tensor(0);
      const p = c.number("p");
      if (!(p >= 0 && p < 1))
        throw new LowerError(`dropout probability must be in [0, 1), got ${p}`, c.span);
      if (!c.training || p === 0) return tensorResult(x);
      const mask = c.b.op("dropout_mask", [c.iteration()], {
        p,
        stream: c.stream(),
        shape: [...x.shape],
      });
      return tensorResult(c.b.mul(x, mask));
    },
  },
  {
    name: "sum",
    signature: "sum(x, heads = 1)",
    doc: "sum over the channels of each row: [M, d] → [M, 1]; with heads = H, over each of H consecutive groups of d/H channels: [M, H]",
    tensors: [1, 1],
    options: [["heads", 1]],
    lower: (c) => {
      requireMatrix(c.tensor(0), "sum", c.span);
      return tensorResult(headSums(c, c.tensor(0), "sum"));
    },
  },
  {
    name: "mean",
    signature: "mean(x)",
    doc: "mean over the channels of each row: [M, d] → [M, 1]",
    tensors: [1, 1],
    options: [],
    lower: (c) => {
      requireMatrix(c.tensor(0), "mean", c.span);
      return tensorResult(rowMean(c.b, c.tensor(0)));
    },
  },
  {
    name: "max",
    signature: "max(x)",
    doc: "maximum over the channels of each row: [M, d] → [M, 1]",
    tensors: [1, 1],
    options: [],
    lower: (c) => {
      requireMatrix(c.tensor(0), "max", c.span);
      return tensorResult(c.b.op("row_max", [c.tensor(0)]));
    },
  },
  {
    name: "dot",
    signature: "dot(a, b, heads = 1)",
    doc: "Σ over channels of a·b, per row: [M, d], [d] or [M, d] → [M, 1]; with heads = H, one dot per head of d/H channels: [M, H] (multi-head attention scores)",
    tensors: [2, 2],
    options: [["heads", 1]],
    lower: (c) => {
      const p = c.b.mul(c.tensor(0), c.tensor(1));
      requireMatrix(p, "dot", c.span);
      return tensorResult(headSums(c, p, "dot"));
    },
  },
  {
    name: "softmax",
    signature: "softmax(x)",
    doc: "softmax over the channels of each row",
    tensors: [1, 1],
    options: [],
    lower: (c) => {
      requireMatrix(c.tensor(0), "softmax", c.span);
      return tensorResult(channelSoftmax(c.b, c.tensor(0), false));
    },
  },
  {
    name: "log_softmax",
    signature: "log_softmax(x)",
    doc: "log of the softmax over the channels of each row",
    tensors: [1, 1],
    options: [],
    lower: (c) => {
      requireMatrix(c.tensor(0), "log_softmax", c.span);
      return tensorResult(channelSoftmax(c.b, c.tensor(0), true));
    },
  },
  {
    name: "concat",
    signature: "concat(a, b, …)",
    doc: "concatenation along the channels",
    tensors: [1, Infinity],
    options: [],
    lower: (c) =>
      tensorResult(
        c.b.op(
          "concat_cols",
          c.args.map((_, i) => c.tensor(i)),
        ),
      ),
  },
  {
    name: "split",
    signature: "split(x, C)",
    doc: "C equal channel groups of x, as a tuple: let (a, b) = split(h, 2)",
    tensors: [1, 1],
    options: [["C", undefined]],
    lower: (c) => {
      const x = c.tensor(0);
      const C = c.number("C");
      requireMatrix(x, "split", c.span);
      const width = x.shape[1]!;
      if (!Number.isInteger(C) || C < 1)
        throw new LowerError(`split needs a whole number of groups, got ${C}`, c.span);
      if (typeof width !== "number" || width % C !== 0) {
        throw new LowerError(
          `cannot split ${shapeToString(x.shape)} into ${C} equal channel groups`,
          c.span,
        );
      }
      const len = width / C;
      return {
        kind: "tuple",
        items: Array.from({ length: C }, (_, i) =>
          c.b.op("slice_cols", [x], { start: i * len, len }),
        ),
      };
    },
  },
  {
    name: "in_degree",
    signature: "in_degree()",
    doc: "number of in-edges of every node (self loops not counted): [N, 1]",
    tensors: [0, 0],
    options: [],
    lower: (c) => tensorResult(c.b.op("degree", [], { by: "dst", loops: false })),
  },
  {
    name: "out_degree",
    signature: "out_degree()",
    doc: "number of out-edges of every node: [N, 1]",
    tensors: [0, 0],
    options: [],
    lower: (c) => tensorResult(c.b.op("degree", [], { by: "src", loops: false })),
  },
  {
    name: "block_index",
    signature: "block_index()",
    doc: "the block's number in the enclosing `repeat`, 1 to L, as a scalar (blocks of nested loops numbered consecutively; 1 outside loops): per-block schedules such as GCNII's β_l = log(λ/l + 1)",
    tensors: [0, 0],
    options: [],
    // The iteration value that keys dropout streams counts blocks from 0.
    lower: (c) => tensorResult(c.b.add(c.iteration(), c.b.fill(1))),
  },
  {
    name: "zeros_like",
    signature: "zeros_like(x)",
    doc: "zeros of x's shape",
    tensors: [1, 1],
    options: [],
    lower: (c) => tensorResult(c.b.fill(0, c.tensor(0).shape)),
  },
  {
    name: "ones_like",
    signature: "ones_like(x)",
    doc: "ones of x's shape",
    tensors: [1, 1],
    options: [],
    lower: (c) => tensorResult(c.b.fill(1, c.tensor(0).shape)),
  },
  {
    name: "rows",
    signature: "rows(x)",
    doc: "the number of rows of x (N for a node tensor) as a scalar: Bessel's n / (n − 1) for a running variance",
    tensors: [1, 1],
    options: [],
    lower: (c) => {
      const rows = c.tensor(0).shape[0];
      if (rows === undefined) throw new LowerError("rows(x) needs a tensor with rows", c.span);
      return tensorResult(
        typeof rows === "number" ? c.b.fill(rows) : c.b.op("size", [], { dim: rows }),
      );
    },
  },
  {
    name: "train_eval",
    signature: "train_eval(t, e)",
    doc: "t in the training step, e in evaluation (batch_norm: batch statistics while training, the running ones at evaluation); only the chosen one is computed",
    tensors: [2, 2],
    options: [],
    lower: (c) => {
      const [t, e] = [c.tensor(0), c.tensor(1)];
      if (!shapeEquals(t.shape, e.shape)) {
        throw new LowerError(
          `train_eval's two values have different shapes: ${shapeToString(t.shape)} and ${shapeToString(e.shape)}`,
          c.span,
          "the value a layer returns must have one shape in training and evaluation",
        );
      }
      return tensorResult(c.training ? t : e);
    },
  },
  ...poolBuiltins,
];

export const builtinByName = new Map(builtins.map((b) => [b.name, b]));

/** Loss functions: only in a `loss` statement, where the training mask is applied. */
export const LOSSES = new Map<string, string>([
  [
    "cross_entropy",
    "softmax cross-entropy of logits [N, K] against class labels, mean over the training nodes",
  ],
  [
    "bce_with_logits",
    "sigmoid binary cross-entropy of logits [N, T] against 0/1 targets, mean over training nodes and tasks",
  ],
]);

/**
 * The mean loss over the rows where `mask` is 1.
 *   cross_entropy:   logsumexp(x) − x[y]
 *   bce_with_logits: softplus(x) − x·y, averaged over tasks too
 */
export function lowerLoss(
  b: Builder,
  kind: string,
  logits: Value,
  labels: Value,
  mask: Value,
): Value {
  const count = b.op("sum_all", [mask]);
  if (kind === "cross_entropy") {
    const classes = logits.shape[1]!;
    const m = b.unary("stop_gradient", b.op("row_max", [logits]));
    const lse = b.add(m, b.unary("log", b.op("row_sum", [b.unary("exp", b.sub(logits, m))])));
    const picked = b.op("row_sum", [b.mul(b.op("one_hot", [labels], { classes }), logits)]);
    return b.div(b.op("sum_all", [b.mul(b.sub(lse, picked), mask)]), count);
  }
  const tasks = logits.shape[1]!;
  const per = b.sub(b.unary("softplus", logits), b.mul(logits, labels));
  const total = b.op("sum_all", [b.mul(per, mask)]);
  const denom =
    typeof tasks === "number"
      ? b.scale(count, tasks)
      : b.mul(count, b.op("size", [], { dim: tasks }));
  return b.div(total, denom);
}
