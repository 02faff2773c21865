// The attributes of the control ops, read as typed records, and typed tests of which control op an
// op is. Apart from ./control.ts because the control ops' VJP rules (../../autodiff/control.ts,
// ../../inverse/rev-backward.ts) read them too, and ./control.ts imports those rules.
import type { FixpointAttrs } from "../../contract.js";
import type { Attrs, Op } from "../types.js";

export type { FixpointAttrs };

export interface ScanAttrs {
  count: number;
  numCarry: number;
  numXs: number;
  reverse: boolean;
}

export function scanAttrs(a: Attrs): ScanAttrs {
  return {
    count: a.count as number,
    numCarry: a.numCarry as number,
    numXs: a.numXs as number,
    reverse: !!a.reverse,
  };
}

export type Combine = "add" | "sub" | "mul" | "div";

export interface RevStatement {
  target: number;
  combine: Combine;
  reads: number[];
}

export function revStatements(a: Attrs): RevStatement[] {
  return (a.stmts as unknown as RevStatement[]).map((s) => ({ ...s }));
}

export function combine64(c: Combine, x: number, g: number): number {
  switch (c) {
    case "add":
      return x + g;
    case "sub":
      return x - g;
    case "mul":
      return x * g;
    case "div":
      return x / g;
  }
}

export const inverseCombine: Record<Combine, Combine> = {
  add: "sub",
  sub: "add",
  mul: "div",
  div: "mul",
};

export function fixpointAttrs(a: Attrs): FixpointAttrs {
  return {
    tol: a.tol as number,
    maxIter: a.maxIter as number,
    solver: (a.solver as "picard" | "anderson") ?? "picard",
    memory: (a.memory as number) ?? 5,
    tag: (a.tag as string) ?? "fixpoint",
  };
}

// Which control op an op is: passes that walk into regions ask this, never the opcode string.
export const isScan = (op: Op): boolean => op.opcode === "scan";
export const isRevBlock = (op: Op): boolean => op.opcode === "rev_block";
export const isFixpoint = (op: Op): boolean => op.opcode === "fixpoint";
