/**
 * Deduplicates impression keys one hash partition at a time, keeping the
 * first row of each key in row order.
 *
 * Each partition's records (see `key_partitions.ts`) arrive in row order;
 * they are probed into an open-addressing table of hash lanes sized for the
 * partition, small enough to stay in the CPU cache. No JS `Set` or `Map` is
 * used: those cap at 2^24 entries and cost about 107 bytes a key.
 *
 * @module
 */

import { RECORD_WORDS } from "./key_partitions.ts";

/** A run of one partition's records, in row order. */
export interface RecordRun {
  /** Records: four hash lanes and a row number each. */
  records: Uint32Array;
  /** Added to each record's row number to get the day's row number. */
  rowOffset: number;
}

/**
 * A reusable table for {@linkcode dedupePartition}.
 *
 * @example
 * ```ts
 * import { createDedupeTable, dedupePartition } from "./dedupe.ts";
 * const table = createDedupeTable();
 * const kept = new Uint8Array(2);
 * const records = new Uint32Array([1, 2, 3, 4, 0, 1, 2, 3, 4, 1]);
 * dedupePartition([{ records, rowOffset: 0 }], kept, table); // 1 duplicate
 * // kept is [1, 0]
 * ```
 */
export function createDedupeTable(): { lanes: Uint32Array } {
  return { lanes: new Uint32Array(0) };
}

/**
 * Marks in `kept` the first row of every distinct key among the runs (given
 * in row order) and returns the number of duplicates dropped.
 */
export function dedupePartition(
  runs: readonly RecordRun[],
  kept: Uint8Array,
  table: { lanes: Uint32Array },
): number {
  let count = 0;
  for (const run of runs) count += run.records.length / RECORD_WORDS;
  if (count === 0) return 0;
  let slots = 16;
  while (slots < count * 2) slots *= 2;
  if (table.lanes.length < slots * 4) table.lanes = new Uint32Array(slots * 4);
  const lanes = table.lanes;
  lanes.fill(0, 0, slots * 4);
  const mask = slots - 1;
  let duplicates = 0;
  for (const { records, rowOffset } of runs) {
    for (let i = 0; i < records.length; i += RECORD_WORDS) {
      const a = records[i], b = records[i + 1], c = records[i + 2], d = records[i + 3];
      let slot = b & mask;
      while (true) {
        const at = slot * 4;
        const sa = lanes[at], sb = lanes[at + 1], sc = lanes[at + 2], sd = lanes[at + 3];
        if ((sa | sb | sc | sd) === 0) {
          lanes[at] = a;
          lanes[at + 1] = b;
          lanes[at + 2] = c;
          lanes[at + 3] = d;
          kept[rowOffset + records[i + 4]] = 1;
          break;
        }
        if (sa === a && sb === b && sc === c && sd === d) {
          duplicates++;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  return duplicates;
}
