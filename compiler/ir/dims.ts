// Symbolic dimensions. Hyperparameters are folded to integers at compile time, so the only
// symbols left in a compiled program are the data's sizes: N (nodes), E (edges), F (features),
// K (classes or tasks), and sums of them such as "E+N" (edges with one self loop per node).
import type { Dim, Shape } from "./types.js";

export type DimBindings = Readonly<Record<string, number>>;

export function dimToString(d: Dim): string {
  return typeof d === "number" ? String(d) : d;
}

export function shapeToString(s: Shape): string {
  return `[${s.map(dimToString).join(", ")}]`;
}

export function dimEquals(a: Dim, b: Dim): boolean {
  return canonicalDim(a) === canonicalDim(b);
}

export function shapeEquals(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => dimEquals(d, b[i]!));
}

/** Splits a symbolic dimension into its top-level `+` terms (parenthesised atoms stay whole). */
function sumTerms(d: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < d.length; i++) {
    const ch = d[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "+" && depth === 0) {
      terms.push(d.slice(start, i).trim());
      start = i + 1;
    }
  }
  terms.push(d.slice(start).trim());
  return terms;
}

/** A canonical form for sums of symbols and integers: terms sorted, integers folded. */
export function canonicalDim(d: Dim): Dim {
  if (typeof d === "number") return d;
  const terms = sumTerms(d);
  let constant = 0;
  const symbols: string[] = [];
  for (const t of terms) {
    if (/^\d+$/.test(t)) constant += Number(t);
    else symbols.push(t);
  }
  symbols.sort();
  if (symbols.length === 0) return constant;
  return constant === 0 ? symbols.join("+") : [...symbols, String(constant)].join("+");
}

export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  return canonicalDim(`${dimToString(a)}+${dimToString(b)}`);
}

/** The integer value of a dimension under bindings; throws when a symbol is unbound. */
export function evalDim(d: Dim, bindings: DimBindings): number {
  if (typeof d === "number") return d;
  let total = 0;
  for (const t of sumTerms(d)) {
    if (/^\d+$/.test(t)) total += Number(t);
    else if (t in bindings) total += bindings[t]!;
    else
      throw new Error(
        `dimension symbol ${t} is not bound (have ${Object.keys(bindings).join(", ")})`,
      );
  }
  return total;
}

export function evalShape(s: Shape, bindings: DimBindings): number[] {
  return s.map((d) => evalDim(d, bindings));
}

export function numElements(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/** The edge dimension of a graph op: E, or E+N when every node also has a self loop. */
export function edgeDim(selfLoops: boolean): Dim {
  return selfLoops ? "E+N" : "E";
}

/**
 * Numpy-style broadcasting of two shapes (trailing dimensions aligned; a dimension of 1 stretches).
 * Returns undefined when the shapes do not broadcast.
 */
export function broadcastShapes(a: Shape, b: Shape): Dim[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (dimEquals(da, db)) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else return undefined;
  }
  return out;
}
