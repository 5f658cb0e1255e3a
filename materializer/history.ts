/**
 * Reads an asset's cached metadata for the partitions before a date, for
 * checks that compare a day with the days before it.
 *
 * @module
 */

/** Options for {@linkcode partitionHistory}. */
export interface HistoryOptions {
  /** Cache root. */
  cacheDir: string;
  /** Asset name. */
  asset: string;
  /** Only partitions strictly before this date. */
  before: string;
  /** At most this many partitions, newest first. */
  days: number;
}

/**
 * Returns the metadata of up to `days` cached partitions before `before`,
 * newest first.
 *
 * @example
 * ```ts
 * import { partitionHistory } from "./history.ts";
 * const previous = await partitionHistory({
 *   cacheDir: ".cache", asset: "deduped_impressions", before: "2021-01-30", days: 7,
 * });
 * ```
 */
export async function partitionHistory(
  options: HistoryOptions,
): Promise<Record<string, unknown>[]> {
  const dates: string[] = [];
  try {
    for await (const entry of Deno.readDir(options.cacheDir)) {
      if (
        entry.isDirectory && /^\d{4}-\d{2}-\d{2}$/.test(entry.name) && entry.name < options.before
      ) {
        dates.push(entry.name);
      }
    }
  } catch {
    return [];
  }
  dates.sort().reverse();
  const out: Record<string, unknown>[] = [];
  for (const date of dates) {
    if (out.length >= options.days) break;
    try {
      const manifest = JSON.parse(
        await Deno.readTextFile(`${options.cacheDir}/${date}/${options.asset}/manifest.json`),
      );
      out.push({ partition: date, ...manifest.metadata });
    } catch {
      // not cached for that date
    }
  }
  return out;
}
