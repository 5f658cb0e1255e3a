/**
 * Bounded concurrency for I/O-bound work.
 *
 * @module
 */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results
 * keep the input order. The first failure rejects once running calls end.
 *
 * @example
 * ```ts
 * import { mapConcurrent } from "./concurrency.ts";
 * await mapConcurrent([1, 2, 3], 2, async (n) => n * 2); // [2, 4, 6]
 * ```
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * Runs at most `limit` tasks at once; when a slot frees, the waiting task
 * with the lowest rank starts next (e.g. the earliest part of the earliest
 * file, so files complete in order).
 *
 * @example
 * ```ts
 * import { RankedLimiter } from "./concurrency.ts";
 * const limiter = new RankedLimiter(2);
 * await Promise.all([3, 1, 2].map((n) => limiter.run(n, async () => n)));
 * ```
 */
export class RankedLimiter {
  #free: number;
  #waiting: { rank: number; start: () => void }[] = [];

  /** A limiter with `limit` slots. */
  constructor(limit: number) {
    this.#free = Math.max(1, limit);
  }

  /** Runs `fn` once a slot is free and no lower rank is waiting. */
  async run<T>(rank: number, fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0 && this.#waiting.length === 0) this.#free--;
    else await new Promise<void>((start) => this.#enqueue(rank, start));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next.start();
      else this.#free++;
    }
  }

  #enqueue(rank: number, start: () => void): void {
    let at = this.#waiting.length;
    while (at > 0 && this.#waiting[at - 1].rank > rank) at--;
    this.#waiting.splice(at, 0, { rank, start });
  }
}
