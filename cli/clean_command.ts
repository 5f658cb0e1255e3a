/**
 * `clean`: removes cached dates (their entries and scratch) through the
 * state, and nothing else.
 *
 * @module
 */

import { localState } from "../materializer/state.ts";
import { UsageError } from "./errors.ts";

/** Options for {@linkcode cleanCache}. */
export interface CleanOptions {
  /** Cache root. */
  cacheDir: string;
  /** Remove this date's folder. */
  date?: string;
  /** Remove date folders not modified for this many milliseconds. */
  olderThanMs?: number;
  /** Say what would go without removing it. */
  dryRun?: boolean;
  /** What "now" is. */
  now?: Date;
}

/**
 * Parses an age like `30d` or `12h` into milliseconds.
 *
 * @example
 * ```ts
 * import { parseAge } from "./clean_command.ts";
 * parseAge("2d"); // 172800000
 * ```
 */
export function parseAge(text: string): number {
  const match = /^(\d+)(h|d)$/.exec(text);
  if (!match) {
    throw new UsageError(`--older-than must look like 30d or 12h, not ${JSON.stringify(text)}`);
  }
  return +match[1] * (match[2] === "d" ? 86_400_000 : 3_600_000);
}

/**
 * Removes date folders (`YYYY-MM-DD`) directly under the cache dir; returns
 * the dates removed. Run records, locks and the warehouse stay.
 */
export async function cleanCache(options: CleanOptions): Promise<string[]> {
  const state = localState(options.cacheDir);
  const now = (options.now ?? new Date()).getTime();
  const removed: string[] = [];
  for (const partition of await state.partitions()) {
    let match = false;
    if (options.date !== undefined) match = partition === options.date;
    else if (options.olderThanMs !== undefined) {
      const written = (await state.lastWritten(partition))?.getTime() ?? now;
      match = now - written > options.olderThanMs;
    }
    if (!match) continue;
    if (!options.dryRun) await state.removePartition(partition);
    removed.push(partition);
  }
  return removed;
}
