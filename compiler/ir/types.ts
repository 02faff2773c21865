// The typed SSA dataflow IR. A Graph is a closed region: every value an op reads is either an
// input of the graph or the output of an earlier op of the same graph (regions never capture from
// an enclosing graph, which keeps autodiff, the interpreter and the code generator simple).
// Every tensor is float32 on the device and float64 in the reference interpreter; a shape is a
// list of dimensions, each an integer or a symbol bound at run time (N, E, F, K, "E+N", …).
import type { Span } from "../../grammar/ast.js";

/** A dimension: an integer, or a symbolic size bound when data is known (N nodes, E edges, …). */
export type Dim = number | string;

export type Shape = readonly Dim[];

export interface TensorType {
  readonly shape: Shape;
}

/** Attribute values are plain data, so ops can be printed, compared and hashed. */
export type AttrValue =
  | number
  | string
  | boolean
  | readonly number[]
  | readonly string[]
  | readonly Dim[]
  | { readonly [key: string]: AttrValue };

export type Attrs = { readonly [key: string]: AttrValue };

let nextValueId = 1;

export class Value {
  readonly id: number;
  constructor(
    readonly type: TensorType,
    /** A readable name from the source program (for printing only). */
    public hint?: string,
  ) {
    this.id = nextValueId++;
  }
  get shape(): Shape {
    return this.type.shape;
  }
}

export class Op {
  constructor(
    readonly opcode: string,
    readonly inputs: Value[],
    readonly outputs: Value[],
    readonly attrs: Attrs,
    readonly regions: Graph[] = [],
    /** Where in the user's program this op came from. */
    readonly loc?: Span,
  ) {}
}

export class Graph {
  readonly ops: Op[] = [];
  outputs: Value[] = [];
  constructor(
    readonly name: string,
    readonly inputs: Value[],
  ) {}
}

export function tensorType(shape: Shape): TensorType {
  return { shape: [...shape] };
}

export const scalarType: TensorType = { shape: [] };
