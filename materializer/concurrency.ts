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
