// Dense node features larger than one storage binding: the session holds x [N, F] in row chunks,
// each its own buffer within the limit, and every kernel that reads x runs once per chunk on its
// rows (compiler/codegen/row-ranges.ts: x·W by output rows, xᵀ·G by split-K slabs). This file
// decides whether x is split and into chunks of how many rows, or refuses — naming the kernel
// that would have to read x whole — before anything is allocated.
import type { Block, KernelSpec, Program } from "../compiler/contract.js";
import type { Value } from "../compiler/ir/types.js";
import { BufferLimitError } from "../runtime/gpu/memory.js";

/** How the session lays out a dense feature matrix that does not fit one binding. */
export interface FeatureChunks {
  rowsPerChunk: number;
  chunks: number;
}

/**
 * `x` under every name the program binds it by: aliases, and the inputs of loop bodies it is
 * passed to (a body sees its step's inputs as its own, position by position).
 */
function namesOf(block: Block, x: Value): Set<Value> {
  const names = new Set([x]);
  const walk = (b: Block) => {
    for (const s of b.steps) {
      if (s.kind === "alias" && names.has(s.from)) names.add(s.to);
      if (s.kind === "scan" || s.kind === "fixpoint") {
        s.body.inputs.forEach((v, i) => names.has(s.inputs[i]!) && names.add(v));
        walk(s.body);
      }
    }
  };
  walk(block);
  return names;
}

/** Each kernel step of `block` and of the loop bodies inside it, with the operand it reads of
 *  `names` (the first such). */
function readers(
  block: Block,
  names: ReadonlySet<Value>,
): { kernel: KernelSpec; operand: number }[] {
  return block.steps.flatMap((s) => {
    if (s.kind === "scan" || s.kind === "fixpoint") return readers(s.body, names);
    if (s.kind !== "kernel") return [];
    const operand = s.kernel.operands.findIndex((o) => o.kind === "value" && names.has(o.value));
    return operand < 0 ? [] : [{ kernel: s.kernel, operand }];
  });
}

/** The kernels of a program that read its main input `input`, with the operand they bind it to. */
export function kernelsReadingInput(
  p: Program,
  input: number,
): { kernel: KernelSpec; operand: number }[] {
  return readers(p.main, namesOf(p.main, p.main.inputs[input]!));
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number) => (a / gcd(a, b)) * b;

/**
 * Whether and how to split the dense features: undefined when the whole matrix fits `limitBytes`;
 * else chunks of the most rows that fit, a multiple of every reading kernel's row alignment.
 * Throws a BufferLimitError naming the reason when it cannot be split: a kernel reads x whole
 * (dropout or an elementwise use of x), or one aligned run of rows alone is over the limit.
 * `input` is x's position among the programs' main-block inputs.
 */
export function featureChunks(
  programs: readonly Program[],
  input: number,
  rows: number,
  rowElements: number,
  limitBytes: number,
  label: string,
  shape: string,
): FeatureChunks | undefined {
  const bytes = rows * rowElements * 4;
  if (bytes <= limitBytes) return undefined;
  const refuse = (why: string) =>
    new BufferLimitError(
      label,
      bytes,
      "maxStorageBufferBindingSize",
      limitBytes,
      "graph",
      `${why}: use a device with a larger limit, or a smaller graph (fewer nodes or features)`,
      shape,
    );
  let align = 1;
  for (const { kernel: k, operand } of programs.flatMap((p) => kernelsReadingInput(p, input))) {
    if (k.rowRange?.operand !== operand) {
      throw refuse(
        `it could be split into chunks of rows, each a buffer within the limit, but kernel ` +
          `${k.name} (${k.kind}: ${k.implements.join(", ")}) reads it whole — only matmuls ` +
          `with ${label} on the left (${label}·W, ${label}ᵀ·G) run on chunks of its rows`,
      );
    }
    align = lcm(align, k.rowRange.align);
  }
  const fit = Math.floor(limitBytes / (rowElements * 4));
  const rowsPerChunk = fit - (fit % align);
  if (rowsPerChunk === 0) {
    throw refuse(
      `its chunks of rows must start at multiples of ${align} rows (the split-K chunk of ` +
        `${label}ᵀ·G), and ${align} rows of ${rowElements} floats alone exceed the limit`,
    );
  }
  return { rowsPerChunk, chunks: Math.ceil(rows / rowsPerChunk) };
}
