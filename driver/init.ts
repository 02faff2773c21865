// Parameter initialisation on the host, from the specs the compiler collected. Stacked parameters
// (one block per iteration of a `repeat`) are initialised block by block with the fan-in and
// fan-out of one block, exactly as L separate layers would be.
import type { InitSpec, ParamSpec, StateSpec } from "../compiler/lower/scope.js";
import { evalShape, numElements, type DimBindings } from "../compiler/ir/dims.js";
import { Rng } from "../runtime/data/rng.js";

/** Fan-in and fan-out of one block: [in, out] for matrices, [1, d] for vectors (as PyG's glorot). */
function fans(block: readonly number[]): [number, number] {
  if (block.length >= 2) return [block[block.length - 2]!, block[block.length - 1]!];
  if (block.length === 1) return [1, block[0]!];
  return [1, 1];
}

function fillBlock(
  out: Float32Array,
  offset: number,
  size: number,
  block: number[],
  init: InitSpec,
  rng: Rng,
): void {
  switch (init.kind) {
    case "zeros":
      return;
    case "ones":
      out.fill(1, offset, offset + size);
      return;
    case "constant":
      out.fill(init.value, offset, offset + size);
      return;
    case "normal":
      rng.fillNormal(out, offset, size, 0, init.std);
      return;
    case "uniform":
    case "glorot": {
      const [fi, fo] = fans(block);
      const bound = init.kind === "uniform" ? init.bound : Math.sqrt(6 / (fi + fo));
      for (let i = 0; i < size; i++) out[offset + i] = (2 * rng.next() - 1) * bound;
      return;
    }
  }
}

/** Values of every parameter, in spec order, from one seeded stream. */
export function initParameters(
  specs: readonly ParamSpec[],
  dims: DimBindings,
  seed: number,
): Float32Array[] {
  const rng = new Rng(seed);
  return specs.map((p) => {
    const shape = evalShape(p.shape, dims);
    const block = evalShape(p.blockShape, dims);
    const blocks = numElements(shape.slice(0, shape.length - block.length));
    const size = numElements(block);
    const out = new Float32Array(blocks * size);
    for (let k = 0; k < blocks; k++) fillBlock(out, k * size, size, block, p.init, rng);
    return out;
  });
}

/**
 * The model's state tensors (`state` declarations: running statistics) at their declared
 * initial values, as a fresh run starts them.
 */
export function initModelStates(specs: readonly StateSpec[], dims: DimBindings): Float32Array[] {
  // A state's initialiser is usually zeros or ones; a random one draws from its own stream.
  return initParameters(specs, dims, 0x5747e);
}
