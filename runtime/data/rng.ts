// Seeded host-side PRNG: xoshiro128** seeded through splitmix32.
//
// Why this one: it needs only 32-bit integer arithmetic (Math.imul, shifts), so the stream is
// bit-identical on every platform and JS engine, unlike Math.random. Everything that must be
// reproducible from a seed (synthetic graphs, partitions, splits, shuffles) draws from here.
// `normal()` uses Math.log/Math.cos/Math.sqrt; V8 implements those with fdlibm ports, so they are
// deterministic for a given Node version, which is what reproducible runs need in practice.

const TWO_POW_32 = 4294967296;

/** splitmix32 step: used to expand one seed into the 128-bit xoshiro state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  /** `seed` is any finite number; it is reduced to 32 bits (integers below 2^32 are distinct seeds). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`rng seed must be a finite number, got ${seed}`);
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const st = { s: (seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    // xoshiro must not start from the all-zero state.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling), for 1 <= n <= 2^32. */
  nextInt(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32 && Number.isInteger(n))) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${n}`);
    }
    // Reject the top partial bucket so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal via Box–Muller (the second value of each pair is cached). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const s = this.spareNormal;
      this.spareNormal = undefined;
      return s;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills out[offset, offset+count) with mean + std * N(0, 1) draws: Box–Muller on 32-bit uniforms,
   * in one tight loop. For bulk noise (millions of features) where normal()'s 53-bit uniforms and a
   * call per value are not worth their cost; the stream differs from normal()'s.
   */
  fillNormal(out: Float32Array | Float64Array, offset = 0, count = out.length - offset, mean = 0, std = 1): void {
    const end = offset + count;
    const twoPi = 2 * Math.PI;
    for (let i = offset; i < end; i += 2) {
      // (x + 0.5) / 2^32 is never 0, so the log is finite.
      const u = (this.nextU32() + 0.5) / TWO_POW_32;
      const v = (this.nextU32() + 0.5) / TWO_POW_32;
      const r = std * Math.sqrt(-2 * Math.log(u));
      out[i] = mean + r * Math.cos(twoPi * v);
      if (i + 1 < end) out[i + 1] = mean + r * Math.sin(twoPi * v);
    }
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }

  /** A new generator whose stream is independent of this one (seeded from two draws). */
  fork(): Rng {
    return new Rng(this.nextU32() * 2097152 + (this.nextU32() >>> 11));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Random permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return rng.shuffle(p);
}
