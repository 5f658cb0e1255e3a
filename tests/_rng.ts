/**
 * A small seeded PRNG (xorshift32) for fuzz and differential tests, so
 * every run sees the same inputs.
 *
 * @module
 */

/**
 * Seeded random numbers.
 *
 * @example
 * ```ts
 * import { Rng } from "./_rng.ts";
 * const rng = new Rng(42);
 * rng.int(10); // the same number on every run
 * ```
 */
export class Rng {
  #state: number;
  /** Starts the sequence for `seed`. */
  constructor(seed: number) {
    this.#state = (seed >>> 0) || 0x9e3779b9;
    for (let i = 0; i < 8; i++) this.next();
  }
  /** A uniform 32-bit unsigned integer. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }
  /** An integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
