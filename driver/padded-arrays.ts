// Host arrays between their declared shape and the device's padded one (compiler/padding.ts):
// a tensor of shape `from` sits in the leading corner of a zero tensor of shape `to`, row-major.
// Data and parameters are padded on upload; parameters and optimizer state are cropped on read,
// so checkpoints and the interpreter only ever see declared shapes.

/** Offsets (in elements) of each innermost row of `from` inside a row-major `to`. */
function rowOffsets(from: readonly number[], to: readonly number[]): number[] {
  let offsets = [0];
  for (let axis = 0; axis < from.length - 1; axis++) {
    const stride = to.slice(axis + 1).reduce((a, b) => a * b, 1);
    offsets = offsets.flatMap((o) => Array.from({ length: from[axis]! }, (_, i) => o + i * stride));
  }
  return offsets;
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** `data` (shape `from`) laid into a zero array of shape `to` (each axis at least as long). */
export function padArray(
  data: Float32Array,
  from: readonly number[],
  to: readonly number[],
): Float32Array {
  if (same(from, to)) return data;
  const out = new Float32Array(to.reduce((a, b) => a * b, 1));
  const row = from[from.length - 1] ?? 1;
  rowOffsets(from, to).forEach((o, r) => out.set(data.subarray(r * row, (r + 1) * row), o));
  return out;
}

/** The leading `from`-shaped corner of `data` (shape `to`): padArray's inverse. */
export function cropArray(
  data: Float32Array,
  from: readonly number[],
  to: readonly number[],
): Float32Array {
  if (same(from, to)) return data;
  const out = new Float32Array(from.reduce((a, b) => a * b, 1));
  const row = from[from.length - 1] ?? 1;
  rowOffsets(from, to).forEach((o, r) => out.set(data.subarray(o, o + row), r * row));
  return out;
}
