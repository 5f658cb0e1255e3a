/**
 * Retrying transient storage failures with exponential backoff and full
 * jitter, a bounded number of times, logging each retry.
 *
 * @module
 */

import { StorageError } from "./errors.ts";

/** How to retry. */
export interface RetryPolicy {
  /** Retries after the first attempt (0: none). */
  retries: number;
  /** First backoff in milliseconds; doubles each retry. */
  baseDelayMs?: number;
  /** Longest backoff in milliseconds. */
  maxDelayMs?: number;
  /** Told about each retry. */
  onRetry?: (info: { attempt: number; delayMs: number; error: StorageError; what: string }) => void;
  /** Waits; replaced in tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Random source in [0, 1); replaced in tests. */
  random?: () => number;
}

/** Whether an error is worth retrying. */
export function isTransient(error: unknown): boolean {
  return error instanceof StorageError && error.transient;
}

/**
 * Runs `fn`, retrying while it fails with a transient {@linkcode StorageError}.
 *
 * @example
 * ```ts
 * import { withRetries } from "./retry.ts";
 * const value = await withRetries("GetObject a.csv", { retries: 4 }, async () => "ok");
 * ```
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
): Promise<T> {
  const base = policy.baseDelayMs ?? 200;
  const max = policy.maxDelayMs ?? 10_000;
  const sleep = policy.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const random = policy.random ?? Math.random;
  for (let attempt = 0;; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isTransient(error) || attempt >= policy.retries) throw error;
      const delayMs = Math.round(random() * Math.min(max, base * 2 ** attempt));
      policy.onRetry?.({ attempt: attempt + 1, delayMs, error: error as StorageError, what });
      await sleep(delayMs);
    }
  }
}
