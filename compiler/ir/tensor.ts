// The float64 tensors of the reference interpreter (the oracle every other part is tested against).
import { numElements } from "./dims.js";

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
  const n = numElements(shape);
  const buf = new Float64Array(n);
  if (data) {
    if (data.length !== n)
      throw new Error(`tensor data has ${data.length} elements, shape needs ${n}`);
    buf.set(data);
  }
  return { shape: [...shape], data: buf };
}

export function filled(shape: readonly number[], value: number): Tensor {
  const t = tensor(shape);
  t.data.fill(value);
  return t;
}

export function scalar(value: number): Tensor {
  return tensor([], [value]);
}

/**
 * Row-major strides for reading `shape` as if it had been broadcast to `outShape` (trailing
 * dimensions aligned; a dimension of 1 or a missing leading dimension gets stride 0).
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = outShape.length - shape.length + i;
    strides[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}

/** Maps every output element to the linear index of each broadcast input. */
export function broadcastIndexer(
  inputs: readonly (readonly number[])[],
  outShape: readonly number[],
): (linear: number, inputIndex: number) => number {
  const strides = inputs.map((s) => broadcastStrides(s, outShape));
  const rank = outShape.length;
  return (linear, k) => {
    const st = strides[k]!;
    let rem = linear;
    let idx = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const size = outShape[d]!;
      const coord = rem % size;
      rem = (rem - coord) / size;
      idx += coord * st[d]!;
    }
    return idx;
  };
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

/** ‖a − b‖ / max(‖b‖, tiny): the relative error used by every oracle comparison. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.POSITIVE_INFINITY;
    num += (x - y) * (x - y);
    den += y * y;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}
