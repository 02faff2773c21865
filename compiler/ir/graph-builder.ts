// Appends ops to a graph, running each op's shape rule as it goes: a program that builds is
// well-typed by construction. Lowering turns IrShapeError into a located diagnostic.
import type { Span } from "../../grammar/ast.js";
import { dimEquals, shapeEquals, shapeToString } from "./dims.js";
import { Graph, Op, Value, tensorType, type Attrs, type Shape } from "./types.js";

export class IrShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IrShapeError";
  }
}

/** An op's shape rule: output shapes, or an error message for the user (shapes are symbolic). */
export type ShapeRule = (inputs: Shape[], attrs: Attrs, regions: Graph[]) => Shape[] | string;

/**
 * Appends ops to a graph through the shape rules it is given. Op definitions (VJP and inverse
 * rules) are written against this class, not against ./builder.ts's Builder, which binds it to the
 * table of ops: the definitions fill that table, so they must not depend on it.
 */
export abstract class GraphBuilder {
  constructor(
    readonly graph: Graph,
    public loc?: Span,
  ) {}

  /** The shape rule of an op by name. */
  protected abstract shapeRule(opcode: string): ShapeRule;

  emit(opcode: string, inputs: Value[], attrs: Attrs = {}, regions: Graph[] = []): Value[] {
    const result = this.shapeRule(opcode)(
      inputs.map((v) => v.shape),
      attrs,
      regions,
    );
    if (typeof result === "string") throw new IrShapeError(result);
    const outputs = result.map((s) => new Value(tensorType(s)));
    this.graph.ops.push(new Op(opcode, inputs, outputs, attrs, regions, this.loc));
    return outputs;
  }

  op(opcode: string, inputs: Value[], attrs: Attrs = {}, regions: Graph[] = []): Value {
    const outs = this.emit(opcode, inputs, attrs, regions);
    if (outs.length !== 1) throw new Error(`${opcode} has ${outs.length} results, expected one`);
    return outs[0]!;
  }

  // ---- sugar for the ops that VJP rules and lowering use all the time ----

  fill(value: number, shape: Shape = []): Value {
    return this.op("fill", [], { value, shape: [...shape] });
  }
  add(a: Value, b: Value): Value {
    return this.op("add", [a, b]);
  }
  sub(a: Value, b: Value): Value {
    return this.op("sub", [a, b]);
  }
  mul(a: Value, b: Value): Value {
    return this.op("mul", [a, b]);
  }
  div(a: Value, b: Value): Value {
    return this.op("div", [a, b]);
  }
  neg(a: Value): Value {
    return this.op("neg", [a]);
  }
  scale(a: Value, k: number): Value {
    return k === 1 ? a : this.mul(a, this.fill(k));
  }
  unary(opcode: string, a: Value, attrs: Attrs = {}): Value {
    return this.op(opcode, [a], attrs);
  }

  /** Adds cotangent contributions, treating undefined as zero. */
  accumulate(a: Value | undefined, b: Value | undefined): Value | undefined {
    if (!a) return b;
    if (!b) return a;
    return this.add(a, b);
  }

  /**
   * The VJP of broadcasting: sums a cotangent of the broadcast shape back to an operand's shape.
   * Handles the broadcasts the language produces: scalars, row vectors [n] over [m, n] (biases),
   * column vectors [m, 1] over [m, n] (per-node scalars), and equal shapes.
   */
  sumToShape(v: Value, target: Shape): Value {
    const s = v.shape;
    if (shapeEquals(s, target)) return v;
    if (target.length === 0) return this.op("sum_all", [v]);
    if (target.every((d) => d === 1)) {
      return this.op("reshape", [this.op("sum_all", [v])], { shape: [...target] });
    }
    if (s.length === 2 && target.length === 1 && dimEquals(target[0]!, s[1]!)) {
      return this.op("col_sum", [v]);
    }
    if (s.length === 2 && target.length === 2) {
      if (target[1] === 1 && dimEquals(target[0]!, s[0]!)) return this.op("row_sum", [v]);
      if (target[0] === 1 && dimEquals(target[1]!, s[1]!)) {
        return this.op("reshape", [this.op("col_sum", [v])], { shape: [...target] });
      }
    }
    if (s.length === 3 && target.length < 3) {
      throw new IrShapeError(`cannot reduce ${shapeToString(s)} to ${shapeToString(target)}`);
    }
    throw new IrShapeError(
      `internal: no reduction from ${shapeToString(s)} to ${shapeToString(target)}`,
    );
  }

  zerosLike(shape: Shape): Value {
    return this.fill(0, shape);
  }
}

/** Creates a region graph with inputs of the given shapes. */
export function newGraph(name: string, inputShapes: readonly Shape[], hints?: string[]): Graph {
  return new Graph(
    name,
    inputShapes.map((s, i) => new Value(tensorType(s), hints?.[i])),
  );
}
