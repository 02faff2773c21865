// Facts about IR ops live on their definitions (OpDef), and they hold:
//  - no pass outside compiler/ir/ops tests an op by its name (the sources are scanned);
//  - each declared inverse undoes its op on random inputs, in the float64 interpreter;
//  - each declared column layout says where the result's columns come from;
//  - each elementwise lowering declares what it reads besides its operands (its emit is run
//    against a context that records what it touches);
//  - control ops register their VJPs on their definitions, like every other op.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { Builder, newGraph } from "../../compiler/ir/builder.js";
import { interpret } from "../../compiler/ir/interp.js";
import type { ElementwiseEmitContext, OpDef } from "../../compiler/ir/op-def.js";
import { inverseRevBlock } from "../../compiler/inverse/rev-backward.js";
import { allOps, getOp } from "../../compiler/ir/registry.js";
import { tensor, type Tensor } from "../../compiler/ir/tensor.js";
import type { Attrs, Graph, Op, Value } from "../../compiler/ir/types.js";
import { randomTensor, rng } from "../../compiler/gradcheck/random.js";

const ROOT = join(import.meta.dirname, "../..");
const SCANNED = ["cli", "compiler", "runtime", "driver", "grammar"];
const OPS_DIR = "compiler/ir/ops";

/** Comparisons of an opcode with a name: `x.opcode === "…"`, `switch (op.opcode)`, name sets. */
const OPCODE_TESTS = [
  /\bopcode\s*[!=]==/,
  /[!=]==\s*[\w.?!]*\bopcode\b/,
  /switch\s*\(\s*[\w.?!]*\bopcode\s*\)/,
  /\.(includes|has)\(\s*[\w.?!]*\bopcode\s*\)/,
];

function opcodeTests(source: string): string[] {
  return source.split("\n").filter((line) => OPCODE_TESTS.some((re) => re.test(line)));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

describe("no pass tests an op by name", () => {
  it("the scan recognises the comparisons it forbids", () => {
    expect(opcodeTests('if (op.opcode === "scan") {')).toHaveLength(1);
    expect(opcodeTests('  if ("rev_block" !== o.opcode) return;')).toHaveLength(1);
    expect(opcodeTests("switch (op.opcode) {")).toHaveLength(1);
    expect(opcodeTests("INVERTIBLE.has(op.opcode)")).toHaveLength(1);
    expect(opcodeTests('["iota"].includes(p?.opcode)')).toHaveLength(1);
    expect(opcodeTests('b.op("slice_cols", [x], attrs); getOp(op.opcode).inverse')).toHaveLength(0);
  });

  it("outside compiler/ir/ops, no source compares an opcode with a name", () => {
    const found = SCANNED.flatMap((dir) => tsFiles(join(ROOT, dir)))
      .map((path) => relative(ROOT, path))
      .filter((path) => !path.startsWith(OPS_DIR))
      .flatMap((path) =>
        opcodeTests(readFileSync(join(ROOT, path), "utf8")).map((l) => `${path}: ${l.trim()}`),
      );
    expect(found).toEqual([]);
  });
});

// ---- inverses and column layouts -----------------------------------------------------------

const dims = { N: 4, E: 6 };

interface Sample {
  /** Operand shapes (concrete) and attributes of one instance of the op. */
  shapes: number[][];
  attrs: Attrs;
  /** Operand values; random when absent. */
  values?: (rand: () => number) => Tensor[];
}

/** One instance of every op with an inverse or a column layout: a new such op needs one here. */
const SAMPLES: Record<string, Sample> = {
  concat_cols: {
    shapes: [
      [3, 2],
      [3, 4],
      [3, 1],
    ],
    attrs: {},
  },
  slice_cols: { shapes: [[3, 7]], attrs: { start: 2, len: 3 } },
  // Rounding is invertible on the grid exact mode keeps the state on: values are multiples of 2^-8.
  quantize: {
    shapes: [[3, 5]],
    attrs: { bits: 8 },
    values: (rand) => [
      tensor(
        [3, 5],
        Array.from({ length: 15 }, () => Math.round((rand() - 0.5) * 4096) / 256),
      ),
    ],
  },
};

function operands(sample: Sample, rand: () => number): Tensor[] {
  return sample.values?.(rand) ?? sample.shapes.map((s) => randomTensor(s, rand));
}

/** A graph applying the op once to fresh inputs; returns the graph, the op and its result. */
function applied(def: OpDef, sample: Sample): { g: Graph; b: Builder; op: Op; result: Value } {
  const g = newGraph(def.name, sample.shapes);
  const b = new Builder(g);
  const result = b.op(def.name, g.inputs, sample.attrs);
  return { g, b, op: g.ops[g.ops.length - 1]!, result };
}

const column = (t: Tensor, c: number): number[] => {
  const [m, n] = t.shape as [number, number];
  return Array.from({ length: m }, (_, i) => t.data[i * n + c]!);
};

describe("inverses on the op definitions undo their ops", () => {
  const withInverse = allOps().filter((d) => d.inverse && d.inverse.kind !== "block");

  it("every op with an inverse (but rev_block, below) has a sample here", () => {
    expect(withInverse.map((d) => d.name).filter((n) => !SAMPLES[n])).toEqual([]);
    expect(withInverse.length).toBeGreaterThanOrEqual(3);
  });

  for (const def of withInverse) {
    it(`${def.name}: the ${def.inverse!.kind} rule rebuilds the operands`, () => {
      const sample = SAMPLES[def.name]!;
      const rand = rng(17);
      const { g, b, op, result } = applied(def, sample);
      const inv = def.inverse!;
      if (inv.kind === "operands") {
        g.outputs = inv.rebuild(b, op, result);
      } else if (inv.kind === "slice") {
        // The result is the declared range of the operand's columns, and slices that cover the
        // operand (the declared one and the rest) rebuild it.
        const { start, len } = inv.range(op.attrs);
        const width = sample.shapes[0]![1]!;
        const x = g.inputs[0]!;
        const pieces = [
          ...(start > 0 ? [b.op(def.name, [x], { start: 0, len: start })] : []),
          result,
          ...(start + len < width
            ? [b.op(def.name, [x], { start: start + len, len: width - start - len })]
            : []),
        ];
        g.outputs = [b.op("concat_cols", pieces)];
      }
      const xs = operands(sample, rand);
      const rebuilt = interpret(g, xs, { dims });
      expect(rebuilt).toHaveLength(xs.length);
      rebuilt.forEach((r, i) => {
        expect(r.shape).toEqual(xs[i]!.shape);
        expect(Array.from(r.data)).toEqual(Array.from(xs[i]!.data));
      });
    });
  }

  it("rev_block: the block rule's variables are rebuilt by the derived inverse", () => {
    const def = getOp("rev_block");
    expect(def.inverse?.kind).toBe("block");
    // x0 += tanh(x1 · w); x1 *= exp(x0 · w): two variables [3, 2] and one const w [2, 2].
    const region = (name: string, f: (b: Builder, x: Value, w: Value) => Value) => {
      const r = newGraph(name, [
        [3, 2],
        [2, 2],
      ]);
      const rb = new Builder(r);
      r.outputs = [f(rb, r.inputs[0]!, r.inputs[1]!)];
      return r;
    };
    const mm = (b: Builder, x: Value, w: Value) =>
      b.op("matmul", [x, w], { transA: false, transB: false });
    const attrs = {
      numVars: 2,
      stmts: [
        { target: 0, combine: "add", reads: [1] },
        { target: 1, combine: "mul", reads: [0] },
      ],
    } as unknown as Attrs;
    const g = newGraph("block", [
      [3, 2],
      [3, 2],
      [2, 2],
    ]);
    const b = new Builder(g);
    g.outputs = b.emit("rev_block", g.inputs, attrs, [
      region("s0", (rb, x, w) => rb.unary("tanh", mm(rb, x, w))),
      region("s1", (rb, x, w) => rb.unary("exp", mm(rb, x, w))),
    ]);
    const op = g.ops[0]!;
    const numVars = def.inverse!.kind === "block" ? def.inverse!.numVars(op.attrs) : -1;
    expect(numVars).toBe(2);
    const rand = rng(5);
    const [x0, x1, w] = [
      [3, 2],
      [3, 2],
      [2, 2],
    ].map((s) => randomTensor(s, rand));
    const after = interpret(g, [x0!, x1!, w!], { dims });
    const before = interpret(inverseRevBlock(op), [...after, w!], { dims });
    expect(before).toHaveLength(numVars);
    [x0!, x1!].forEach((x, i) => {
      x.data.forEach((v, k) => expect(before[i]!.data[k]).toBeCloseTo(v, 12));
    });
  });
});

describe("column layouts on the op definitions say where each result column comes from", () => {
  const withColumns = allOps().filter((d) => d.columns);

  it("every op with a column layout has a sample here", () => {
    expect(withColumns.map((d) => d.name).filter((n) => !SAMPLES[n])).toEqual([]);
  });

  for (const def of withColumns) {
    it(`${def.name}: its result columns are the operands' columns it names`, () => {
      const sample = SAMPLES[def.name]!;
      const { g, result } = applied(def, sample);
      g.outputs = [result];
      const xs = operands(sample, rng(3));
      const [y] = interpret(g, xs, { dims });
      const layout = def.columns!(sample.attrs);
      // (operand, column) of each result column
      const sources: [number, number][] =
        layout.kind === "same"
          ? Array.from({ length: xs[0]!.shape[1]! }, (_, c): [number, number] => [0, c])
          : layout.kind === "slice"
            ? Array.from({ length: layout.len }, (_, c): [number, number] => [0, layout.start + c])
            : xs.flatMap((x, k) =>
                Array.from({ length: x.shape[1]! }, (_, c): [number, number] => [k, c]),
              );
      expect(y!.shape[1]).toBe(sources.length);
      sources.forEach(([k, c], j) => expect(column(y!, j)).toEqual(column(xs[k]!, c)));
    });
  }
});

// ---- what elementwise lowerings read --------------------------------------------------------

/** Runs an elementwise emit against a context that records which positions it reads. */
function positionsRead(def: OpDef): Set<string> {
  const touched = new Set<string>();
  if (def.lowering.kind !== "elementwise") return touched;
  const attrs = new Proxy({} as Attrs, { get: (_t, key) => (key === "shape" ? [2, 2] : 1) });
  const ctx: ElementwiseEmitContext = {
    args: ["a0", "a1", "a2"],
    attrs,
    get row() {
      touched.add("coordinates");
      return "row";
    },
    get col() {
      touched.add("coordinates");
      return "col";
    },
    get index() {
      touched.add("linear-index");
      return "index";
    },
    readAt: () => {
      touched.add("coordinates");
      return "other";
    },
    readColumn: () => {
      touched.add("coordinates");
      return "other";
    },
    f32: (x) => `${x}`,
    uniform: (name) => name,
    graphRead: () => {
      touched.add("coordinates");
      return "degree";
    },
    cols: () => "cols",
    colCount: () => undefined,
    arity: 3,
    dim: (d) => `${d}`,
  };
  def.lowering.emit(ctx);
  return touched;
}

describe("elementwise lowerings declare what they read", () => {
  const elementwise = allOps().filter((d) => d.lowering.kind === "elementwise");

  it("the recording context sees the reads of the ops that declare them", () => {
    expect(positionsRead(getOp("iota"))).toEqual(new Set(["linear-index"]));
    expect(positionsRead(getOp("slice_cols"))).toEqual(new Set(["coordinates"]));
    expect(positionsRead(getOp("add"))).toEqual(new Set());
  });

  for (const def of elementwise) {
    it(`${def.name}: reads ${def.lowering.kind === "elementwise" ? (def.lowering.reads ?? "its operands only") : ""}`, () => {
      const declared = def.lowering.kind === "elementwise" ? def.lowering.reads : undefined;
      expect([...positionsRead(def)]).toEqual(declared ? [declared] : []);
    });
  }
});

// ---- the remaining facts --------------------------------------------------------------------

describe("per-op facts", () => {
  it("every op with regions registers a region VJP on its definition, and no plain VJP", () => {
    const control = allOps().filter((d) => d.lowering.kind === "control");
    expect(control.map((d) => d.name).sort()).toEqual(["fixpoint", "rev_block", "scan"]);
    for (const d of control) {
      expect(d.regionVjp, d.name).toBeDefined();
      expect(d.vjp, d.name).toBeUndefined();
    }
    expect(allOps().filter((d) => d.regionVjp && d.lowering.kind !== "control")).toEqual([]);
  });

  it("bookkeeping and recomputable results are made from attributes and scalars alone", () => {
    for (const d of allOps().filter((x) => x.bookkeeping || x.cheapToRecompute)) {
      expect(d.zeroGradient, d.name).toBe(true);
      expect(d.lowering.kind, d.name).toBe("elementwise");
    }
    expect(getOp("iota").shape([], { count: 3 }, [])).toEqual([[3]]);
    expect(getOp("dropout_mask").shape([[]], { shape: [2, 2] }, [])).toEqual([[2, 2]]);
    expect(getOp("dropout_mask").shape([[2, 2]], { shape: [2, 2] }, [])).toEqual(
      expect.any(String),
    );
  });

  it("ops that round onto the grid are the identity on it", () => {
    const rounding = allOps().filter((d) => d.roundsToGrid);
    expect(rounding.map((d) => d.name)).toEqual(["quantize"]);
    for (const d of rounding) expect(d.inverse?.kind, d.name).toBe("operands");
  });
});
