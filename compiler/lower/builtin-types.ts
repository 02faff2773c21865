// What a built-in function is (its signature, docs and lowering) and what its lowering receives: the
// shape of the tables in builtins.ts and of the families kept in their own files (pooling.ts).
import type { Span } from "../../grammar/ast.js";
import type { Builder } from "../ir/builder.js";
import type { Value } from "../ir/types.js";
import type { LVal } from "./values.js";

export interface BuiltinCall {
  b: Builder;
  args: LVal[];
  kwargs: Map<string, LVal>;
  span: Span;
  training: boolean;
  /** The loop iteration value that keys dropout streams. */
  iteration(): Value;
  /** A fresh dropout stream id (unique per dropout site and layer instance). */
  stream(): number;
  tensor(i: number): Value;
  number(i: number | string, fallback?: number): number;
}

export interface Builtin {
  name: string;
  signature: string;
  doc: string;
  /** Positional tensor arguments (min, max); max = Infinity for variadic. */
  tensors: [number, number];
  /** Numeric options with defaults (positional after the tensors, or by keyword). */
  options: [string, number | undefined][];
  lower(c: BuiltinCall): LVal;
  /** The IR op an elementwise built-in lowers to, whose facts (e.g. its sign) the checker uses. */
  opcode?: string;
}
