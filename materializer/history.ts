/**
 * Reads an asset's recorded metadata for the partitions before a date, for
 * checks that compare a day with the days before it.
 *
 * @module
 */

import type { StateStore } from "./state.ts";

/** Options for {@linkcode partitionHistory}. */
export interface HistoryOptions {
  /** Where the manifests are. */
  state: StateStore;
  /** Asset name. */
  asset: string;
  /** Only partitions strictly before this date. */
  before: string;
  /** At most this many partitions, newest first. */
  days: number;
}

/**
 * Returns the metadata of up to `days` partitions before `before` that have
 * the asset, newest first, each with its `partition`.
 *
 * @example
 * ```ts
 * import { partitionHistory } from "./history.ts";
 * import { localState } from "./state.ts";
 * const previous = await partitionHistory({
 *   state: localState(await Deno.makeTempDir()),
 *   asset: "deduped_impressions",
 *   before: "2021-01-30",
 *   days: 7,
 * });
 * previous.length; // 0
 * ```
 */
export async function partitionHistory(
  options: HistoryOptions,
): Promise<Record<string, unknown>[]> {
  const dates = (await options.state.partitions()).filter((d) => d < options.before).reverse();
  const out: Record<string, unknown>[] = [];
  for (const date of dates) {
    if (out.length >= options.days) break;
    const manifest = await options.state.readManifest(date, options.asset);
    if (manifest) out.push({ partition: date, ...manifest.metadata });
  }
  return out;
}
