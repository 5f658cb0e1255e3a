/**
 * Waiting for several promises without leaving any running.
 *
 * @module
 */

/**
 * The values of `promises` once all have settled (nothing is left running),
 * or the first failure among them.
 *
 * @example
 * ```ts
 * import { settled } from "./settled.ts";
 * await settled([Promise.resolve(1), Promise.resolve(2)]); // [1, 2]
 * ```
 */
export async function settled<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(promises);
  for (const outcome of outcomes) if (outcome.status === "rejected") throw outcome.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}
