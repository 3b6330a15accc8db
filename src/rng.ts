/**
 * Seeded random numbers for everything a study draws: weight inits, minibatch indices,
 * dropout masks, shuffles and hyperparameter samples.
 *
 * Why our own generator and not tfjs's seeded ops: draws made here are the same on every
 * backend (wasm, cpu, tfjs-node), so one seed gives one set of initial weights and one batch
 * sequence whatever runs the arithmetic. The generator is sfc32 (a small, well-tested
 * 128-bit-state generator that passes PractRand), seeded through splitmix32 so that nearby
 * seeds give unrelated streams.
 */
import { draw } from './search/sampling.js';

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a string, used to name independent streams ("init:sgd", "batches"). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number, stream = '') {
    const mix = splitmix32((seed >>> 0) ^ hashString(stream));
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.nextUint32(); // warm up away from the seeding state
  }

  /** A generator for a named sub-stream of this seed: the same (seed, name) always gives the same draws. */
  static stream(seed: number, name: string): Rng {
    return new Rng(seed, name);
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). Rejection sampling keeps it exactly uniform. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`int(n) needs 1 <= n <= 2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal draw (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** n draws of N(0, std^2) as float32. */
  normalArray(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }

  /** n indices in [0, size), drawn with replacement (the lecture's np.random.choice). */
  choice(size: number, n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(size);
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /**
   * A value whose log10 is uniform between log10(lo) and log10(hi): the right scale for a
   * learning rate or a weight-decay strength (`logUniform(1e-6, 1e-2)` is the lecture's 10^U(-6,-2)).
   */
  logUniform(lo: number, hi: number): number {
    if (!(lo > 0 && hi > 0 && lo <= hi)) throw new RangeError(`logUniform needs 0 < lo <= hi, got ${lo}, ${hi}`);
    return draw(this, { scale: 'log', range: [lo, hi] });
  }

  /**
   * An averaging rate beta (momentum, RMSprop's rho) sampled as `1 - 10^U(a, b)`: the notes'
   * advice, since beta near 1 is sensitive (0.999 vs 0.9995 averages over 1000 vs 2000 steps).
   * `averagingRate(-3, -1)` gives beta in [0.9, 0.999). Both go through src/search/sampling.ts.
   */
  averagingRate(a: number, b: number): number {
    if (!(a <= b && b <= 0)) throw new RangeError(`averagingRate needs a <= b <= 0, got ${a}, ${b}`);
    return draw(this, { scale: 'averaging', range: [1 - 10 ** b, 1 - 10 ** a] });
  }
}
