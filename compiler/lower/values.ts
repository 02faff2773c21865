// What an expression lowers to, the lexical environment of a layer body, and the located error
// lowering reports.
import type { Span } from "../../grammar/ast.js";
import type { Value } from "../ir/types.js";
import type { Scope } from "./scope.js";

/** A lowered expression: a tensor, a tuple of tensors, or a compile-time number. */
export type LVal =
  { kind: "tensor"; v: Value } | { kind: "tuple"; items: Value[] } | { kind: "number"; n: number };

export class LowerError extends Error {
  constructor(
    message: string,
    readonly span: Span | undefined,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "LowerError";
  }
}

/** Raised when an operand is a value whose definition already failed: reported once, upstream. */
export class Poisoned extends Error {}

export interface VarBinding {
  value: Value | Value[] | "poison";
  mutable: boolean;
  declaredAt?: Span;
  /**
   * A model state (`state mu: … = zeros`): `value` is its value before the step; `mu = e` is its
   * one update, allowed where it is declared, and reading it after the update is an error.
   */
  state?: StateBinding;
}

export interface StateBinding {
  /** Dotted path, as the model's state list names it. */
  path: string;
  /** Where it was updated, once it has been. */
  updatedAt?: Span;
}

/** Lexical variables, block by block. */
export class VarEnv {
  private readonly vars = new Map<string, VarBinding>();
  constructor(readonly parent?: VarEnv) {}

  lookup(name: string): VarBinding | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }

  declare(name: string, binding: VarBinding): void {
    this.vars.set(name, binding);
  }

  /** Rebinds an existing variable where it was declared; false if there is none. */
  assign(name: string, value: VarBinding["value"]): boolean {
    const own = this.vars.get(name);
    if (own) {
      own.value = value;
      return true;
    }
    return this.parent?.assign(name, value) ?? false;
  }

  hasOwn(name: string): boolean {
    return this.vars.has(name);
  }
}

export interface EdgeContext {
  src: string;
  dst: string;
  selfLoops: boolean;
}

/** Everything a layer body is lowered under. */
export interface Frame {
  scope: Scope;
  vars: VarEnv;
  hypers: Map<string, number | boolean>;
  /** Dimension variables bound by the call (`d` in `layer f(x: [N, d])`), or data symbols. */
  dims: Map<string, number | string>;
  /** Parameter path prefix, ending in "." (or empty at the model's top level). */
  path: string;
  edge?: EdgeContext;
  /** Names of layer instances already used under this path (for `_2` suffixes). */
  instanceNames: Map<string, number>;
  isModel: boolean;
  /** The layers being expanded, to report recursion. */
  callStack: string[];
}
