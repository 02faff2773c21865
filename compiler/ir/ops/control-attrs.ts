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

export interface RevUpdate {
  target: number;
  combine: Combine;
}

/**
 * `x_target ⊕= g` with g = region(reads, consts); with `then`, the region has one output per
 * update (the first for target/combine) and the updates apply in order. No update of a statement
 * writes a variable the statement reads, so every g is the same before and after the statement.
 */
export interface RevStatement extends RevUpdate {
  reads: number[];
  then?: RevUpdate[];
  /**
   * How many model-state values (running statistics, `state` in the language) the region returns
   * after its updates. They leave the block as outputs after its variables, take no part in the
   * inverse, and get no gradient: the training step writes them back, so the backward's
   * recomputation of the region produces them again only to drop them.
   */
  states?: number;
}

/** The number of model-state outputs of a statement's region (after its update values). */
export function statementStates(s: RevStatement): number {
  return s.states ?? 0;
}

/** A statement's updates in the order they apply; region output i feeds update i. */
export function statementUpdates(s: RevStatement): RevUpdate[] {
  return [{ target: s.target, combine: s.combine }, ...(s.then ?? [])];
}

export function revStatements(a: Attrs): RevStatement[] {
  return (a.stmts as unknown as RevStatement[]).map((s) => ({
    ...s,
    ...(s.then ? { then: s.then.map((u) => ({ ...u })) } : {}),
  }));
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
