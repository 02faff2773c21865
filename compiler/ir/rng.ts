// The counter-based hash RNG behind dropout. A mask element is a pure function of
// (seed, step, stream, iteration, element index), so the reversible backward regenerates exactly
// the mask the forward pass used and nothing is stored. The JavaScript and WGSL versions live side
// by side so they cannot drift; tests check they agree bit for bit.

/** PCG-style 32-bit hash (O'Neill's output permutation over one LCG step). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The per-op key: mixes the run's seed, the optimizer step, the op's stream id and the loop
 *  iteration (all u32). */
export function streamKey(seed: number, step: number, stream: number, iter: number): number {
  return pcgHash(
    (seed >>> 0) ^ pcgHash((step >>> 0) ^ pcgHash((stream >>> 0) ^ pcgHash(iter >>> 0))),
  );
}

/** Uniform in [0, 1) with 24 random bits, exactly representable in float32. */
export function uniformAt(key: number, index: number): number {
  return (pcgHash((key ^ pcgHash(index >>> 0)) >>> 0) >>> 8) / 16777216;
}

export const WGSL_RNG = /* wgsl */ `
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn stream_key(seed: u32, step: u32, stream: u32, iter: u32) -> u32 {
  return pcg_hash(seed ^ pcg_hash(step ^ pcg_hash(stream ^ pcg_hash(iter))));
}
fn uniform_at(key: u32, index: u32) -> f32 {
  return f32(pcg_hash(key ^ pcg_hash(index)) >> 8u) / 16777216.0;
}
`;
