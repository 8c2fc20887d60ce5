// Seeded PRNG for builders, generators and the sampler.
// Algorithm: SplitMix64 expands the seed into the 128-bit state of xoshiro128** (Blackman & Vigna),
// a small, fast generator with good statistical quality. The official code uses numpy's generators,
// so our augments are not bit-identical to Python's; only formats and semantics match.

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number | bigint) {
    let x = BigInt.asUintN(64, BigInt(seed));
    const next = (): bigint => {
      // SplitMix64 step
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return z ^ (z >> 31n);
    };
    const a = next();
    const b = next();
    this.s0 = Number(a & 0xffffffffn) | 0;
    this.s1 = Number(a >> 32n) | 0;
    this.s2 = Number(b & 0xffffffffn) | 0;
    this.s3 = Number(b >> 32n) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** Next 32 random bits as an unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [low, high) without modulo bias (like numpy's randint / integers). */
  int(low: number, high: number): number {
    const range = high - low;
    if (!(range > 0) || !Number.isSafeInteger(range)) throw new RangeError(`empty or invalid range [${low}, ${high})`);
    if (range <= 0x100000000) {
      // Rejection sampling on 32 bits
      const limit = 0x100000000 - (0x100000000 % range);
      let r: number;
      do r = this.nextUint32(); while (r >= limit);
      return low + (r % range);
    }
    return low + Math.floor(this.random() * range);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    this.shuffle(out);
    return out;
  }

  shuffle<T extends { length: number; [i: number]: any }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** `size` distinct values from 0..n-1 in random order (numpy choice(n, size, replace=False)). */
  choiceWithoutReplacement(n: number, size: number): Int32Array {
    if (size > n) throw new RangeError(`cannot take ${size} distinct values from ${n}`);
    // Partial Fisher–Yates over a sparse swap map: O(size) even when n is large.
    const swaps = new Map<number, number>();
    const out = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const j = this.int(i, n);
      const vi = swaps.get(i) ?? i;
      const vj = swaps.get(j) ?? j;
      out[i] = vj;
      swaps.set(j, vi);
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
