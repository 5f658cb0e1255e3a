/**
 * Deduplicates impression keys one hash partition at a time, keeping the
 * first row of each key in row order.
 *
 * Each partition's records (see `key_partitions.ts`) arrive in row order;
 * they are probed into an open-addressing table sized for the partition,
 * small enough to stay in the CPU cache. No JS `Set` or `Map` is used:
 * those cap at 2^24 entries and cost about 107 bytes a key.
 *
 * Two rows are one key only when their records hold the same id and the
 * same instant, compared in full (see `key_record.ts`); the hash only finds
 * the candidates, so crafted ids whose hashes collide are never merged.
 *
 * @module
 */

import { copyKey, keyWords, recordWords, sameKey, spreadOf } from "./key_record.ts";

/** A run of one partition's records, in row order. */
export interface RecordRun {
  /** Key records (see `key_record.ts`). */
  records: Uint32Array;
  /** Added to each record's row number to get the day's row number. */
  rowOffset: number;
}

/** Words per table slot: the hash lane, the run (plus one; 0 is empty) and the record's offset. */
const SLOT_WORDS = 3;

/**
 * A reusable table for {@linkcode dedupePartition}.
 *
 * @example
 * ```ts
 * import { createDedupeTable, dedupePartition } from "./dedupe.ts";
 * const table = createDedupeTable();
 * const kept = new Uint8Array(2);
 * // Two records of the id "ab" (2 bytes, one word) at one instant, rows 0 and 1.
 * const records = new Uint32Array([7, 2, 0x6261, 9, 0, 7, 2, 0x6261, 9, 1]);
 * dedupePartition([{ records, rowOffset: 0 }], kept, table); // 1 duplicate
 * // kept is [1, 0]
 * ```
 */
export function createDedupeTable(): { slots: Uint32Array } {
  return { slots: new Uint32Array(0) };
}

/**
 * Marks in `kept` the first row of every distinct key among the runs (given
 * in row order) and returns the number of duplicates dropped.
 */
export function dedupePartition(
  runs: readonly RecordRun[],
  kept: Uint8Array,
  table: { slots: Uint32Array },
): number {
  return fill(runs, kept, table).duplicates;
}

/**
 * Like {@linkcode dedupePartition} for rows that come after `earlier`: the
 * keys (records without their row) of rows kept before (distinct keys, all ahead of the runs in row
 * order). A row of the runs whose key is among them is a duplicate and is
 * not kept. Only the runs go into the table; the earlier records are probed
 * against it, so the work for a few new rows after many old ones is one pass
 * over the old records. Returns the duplicates among the runs.
 *
 * @example
 * ```ts
 * import { createDedupeTable, dedupeAfter } from "./dedupe.ts";
 * const kept = new Uint8Array([1, 0]);
 * const earlier = new Uint32Array([7, 2, 0x6261, 9]); // "ab", kept before
 * const records = new Uint32Array([7, 2, 0x6261, 9, 0]); // "ab" again, row 1
 * dedupeAfter([earlier], [{ records, rowOffset: 1 }], kept, createDedupeTable()); // 1
 * // kept is [1, 0]
 * ```
 */
export function dedupeAfter(
  earlier: readonly Uint32Array[],
  runs: readonly RecordRun[],
  kept: Uint8Array,
  table: { slots: Uint32Array },
): number {
  const { duplicates, mask } = fill(runs, kept, table);
  if (mask < 0) return 0;
  const slots = table.slots;
  let more = 0;
  for (const old of earlier) {
    for (let i = 0; i < old.length; i += keyWords(old, i)) {
      const h0 = old[i];
      let slot = spreadOf(old, i) & mask;
      while (true) {
        const at = slot * SLOT_WORDS;
        const owner = slots[at + 1];
        if (owner === 0) break;
        if (slots[at] === h0 && sameKey(runs[owner - 1].records, slots[at + 2], old, i)) {
          const run = runs[owner - 1], o = slots[at + 2];
          const row = run.rowOffset + run.records[o + keyWords(run.records, o)];
          // Earlier keys are distinct, so each new key is matched at most once.
          if (kept[row] === 1) {
            kept[row] = 0;
            more++;
          }
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  return duplicates + more;
}

/** Fills the table with the runs' first rows of each key; `mask` is -1 when there were none. */
function fill(
  runs: readonly RecordRun[],
  kept: Uint8Array,
  table: { slots: Uint32Array },
): { duplicates: number; mask: number } {
  let count = 0;
  for (const { records } of runs) {
    for (let i = 0; i < records.length; i += recordWords(records, i)) count++;
  }
  if (count === 0) return { duplicates: 0, mask: -1 };
  let size = 16;
  while (size < count * 2) size *= 2;
  if (table.slots.length < size * SLOT_WORDS) table.slots = new Uint32Array(size * SLOT_WORDS);
  const slots = table.slots;
  slots.fill(0, 0, size * SLOT_WORDS);
  const mask = size - 1;
  let duplicates = 0;
  for (let run = 0; run < runs.length; run++) {
    const { records, rowOffset } = runs[run];
    for (let i = 0, size = 0; i < records.length; i += size) {
      const h0 = records[i];
      size = recordWords(records, i);
      let slot = spreadOf(records, i) & mask;
      while (true) {
        const at = slot * SLOT_WORDS;
        const owner = slots[at + 1];
        if (owner === 0) {
          slots[at] = h0;
          slots[at + 1] = run + 1;
          slots[at + 2] = i;
          kept[rowOffset + records[i + size - 1]] = 1;
          break;
        }
        if (slots[at] === h0 && sameKey(runs[owner - 1].records, slots[at + 2], records, i)) {
          duplicates++;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  return { duplicates, mask };
}

/**
 * The keys of the runs' kept rows (their records without the row, see
 * `key_record.ts`), in row order: what a later {@linkcode dedupeAfter}
 * takes as `earlier`.
 *
 * @example
 * ```ts
 * import { keptRecords } from "./dedupe.ts";
 * const records = new Uint32Array([7, 2, 0x6261, 9, 0, 8, 2, 0x6463, 9, 1]);
 * keptRecords([{ records, rowOffset: 10 }], new Uint8Array(12).fill(1, 11));
 * // [8, 2, 0x6463, 9]
 * ```
 */
export function keptRecords(runs: readonly RecordRun[], kept: Uint8Array): Uint32Array {
  let words = 0;
  for (const { records, rowOffset } of runs) {
    for (let i = 0; i < records.length;) {
      const n = recordWords(records, i);
      if (kept[rowOffset + records[i + n - 1]] === 1) words += n - 1;
      i += n;
    }
  }
  const out = new Uint32Array(words);
  let at = 0;
  for (const { records, rowOffset } of runs) {
    for (let i = 0; i < records.length;) {
      const n = recordWords(records, i);
      if (kept[rowOffset + records[i + n - 1]] === 1) at += copyKey(records, i, out, at);
      i += n;
    }
  }
  return out;
}
