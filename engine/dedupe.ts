/**
 * Deduplicates impression keys one hash partition at a time, keeping the
 * first row of each key in row order.
 *
 * Each partition's records (see `key_partitions.ts`) arrive in row order;
 * they are probed into an open-addressing table of hash lanes sized for the
 * partition, small enough to stay in the CPU cache. No JS `Set` or `Map` is
 * used: those cap at 2^24 entries and cost about 107 bytes a key.
 *
 * Two rows are one key only when their hashes match and their ids are the
 * same bytes, compared in full; the hash only finds the candidates, so
 * crafted ids whose hashes collide are never merged. Equal ids with equal
 * hashes have equal instants (see `hash128.ts`), so the instant itself need
 * not be kept.
 *
 * @module
 */

import { idWords } from "./id_key.ts";
import { copyRecord, RECORD_HEADER_WORDS } from "./key_partitions.ts";

/** A run of one partition's records, in row order. */
export interface RecordRun {
  /** Records: hash lanes, row number, id length and id words each. */
  records: Uint32Array;
  /** Added to each record's row number to get the day's row number. */
  rowOffset: number;
}

/** Words per table slot: four hash lanes, the run (plus one; 0 is empty) and the record's offset. */
const SLOT_WORDS = 6;

/**
 * A reusable table for {@linkcode dedupePartition}.
 *
 * @example
 * ```ts
 * import { createDedupeTable, dedupePartition } from "./dedupe.ts";
 * const table = createDedupeTable();
 * const kept = new Uint8Array(2);
 * // Two records of the id "ab" (2 bytes, one word): same hash, same bytes.
 * const records = new Uint32Array([1, 2, 3, 4, 0, 2, 0x6261, 1, 2, 3, 4, 1, 2, 0x6261]);
 * dedupePartition([{ records, rowOffset: 0 }], kept, table); // 1 duplicate
 * // kept is [1, 0]
 * ```
 */
export function createDedupeTable(): { slots: Uint32Array } {
  return { slots: new Uint32Array(0) };
}

/**
 * Whether the records at `a` in `x` and `b` in `y` have one key: the same
 * four hash lanes and the same id bytes.
 *
 * @example
 * ```ts
 * import { sameKey } from "./dedupe.ts";
 * const records = new Uint32Array([1, 2, 3, 4, 0, 1, 0x61, 1, 2, 3, 4, 9, 1, 0x61]);
 * sameKey(records, 0, records, 7); // true: rows 0 and 9, one key
 * ```
 */
export function sameKey(x: Uint32Array, a: number, y: Uint32Array, b: number): boolean {
  return x[a] === y[b] && x[a + 1] === y[b + 1] && x[a + 2] === y[b + 2] &&
    x[a + 3] === y[b + 3] && sameId(x, a, y, b);
}

/** Whether the ids of the records at `a` in `x` and `b` in `y` are the same bytes. */
function sameId(x: Uint32Array, a: number, y: Uint32Array, b: number): boolean {
  const length = x[a + 5];
  if (y[b + 5] !== length) return false;
  const words = idWords(length);
  a += RECORD_HEADER_WORDS, b += RECORD_HEADER_WORDS;
  for (let i = 0; i < words; i++) if (x[a + i] !== y[b + i]) return false;
  return true;
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
 * records of rows kept before (distinct keys, all ahead of the runs in row
 * order). A row of the runs whose key is among them is a duplicate and is
 * not kept. Only the runs go into the table; the earlier records are probed
 * against it, so the work for a few new rows after many old ones is one pass
 * over the old records. Returns the duplicates among the runs.
 *
 * @example
 * ```ts
 * import { createDedupeTable, dedupeAfter } from "./dedupe.ts";
 * const kept = new Uint8Array([1, 0]);
 * const earlier = new Uint32Array([1, 2, 3, 4, 0, 2, 0x6261]); // "ab", row 0, kept before
 * const records = new Uint32Array([1, 2, 3, 4, 0, 2, 0x6261]); // "ab" again, row 1
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
    for (let i = 0; i < old.length; i += RECORD_HEADER_WORDS + idWords(old[i + 5])) {
      const a = old[i], b = old[i + 1], c = old[i + 2], d = old[i + 3];
      let slot = b & mask;
      while (true) {
        const at = slot * SLOT_WORDS;
        const owner = slots[at + 4];
        if (owner === 0) break;
        if (
          slots[at] === a && slots[at + 1] === b && slots[at + 2] === c && slots[at + 3] === d &&
          sameId(runs[owner - 1].records, slots[at + 5], old, i)
        ) {
          const run = runs[owner - 1];
          const row = run.rowOffset + run.records[slots[at + 5] + 4];
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
    for (let i = 0; i < records.length; i += RECORD_HEADER_WORDS + idWords(records[i + 5])) {
      count++;
    }
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
    for (let i = 0; i < records.length; i += RECORD_HEADER_WORDS + idWords(records[i + 5])) {
      const a = records[i], b = records[i + 1], c = records[i + 2], d = records[i + 3];
      let slot = b & mask;
      while (true) {
        const at = slot * SLOT_WORDS;
        const owner = slots[at + 4];
        if (owner === 0) {
          slots[at] = a;
          slots[at + 1] = b;
          slots[at + 2] = c;
          slots[at + 3] = d;
          slots[at + 4] = run + 1;
          slots[at + 5] = i;
          kept[rowOffset + records[i + 4]] = 1;
          break;
        }
        if (
          slots[at] === a && slots[at + 1] === b && slots[at + 2] === c && slots[at + 3] === d &&
          sameId(runs[owner - 1].records, slots[at + 5], records, i)
        ) {
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
 * The records of the runs' kept rows, in row order, each with its day row
 * number (the run's `rowOffset` added): what a later
 * {@linkcode dedupeAfter} takes as `earlier`.
 *
 * @example
 * ```ts
 * import { keptRecords } from "./dedupe.ts";
 * const records = new Uint32Array([1, 2, 3, 4, 0, 2, 0x6261, 5, 6, 7, 8, 1, 2, 0x6463]);
 * keptRecords([{ records, rowOffset: 10 }], new Uint8Array(12).fill(1, 11));
 * // [5, 6, 7, 8, 11, 2, 0x6463]
 * ```
 */
export function keptRecords(runs: readonly RecordRun[], kept: Uint8Array): Uint32Array {
  let words = 0;
  for (const { records, rowOffset } of runs) {
    for (let i = 0; i < records.length;) {
      const n = RECORD_HEADER_WORDS + idWords(records[i + 5]);
      if (kept[rowOffset + records[i + 4]] === 1) words += n;
      i += n;
    }
  }
  const out = new Uint32Array(words);
  let at = 0;
  for (const { records, rowOffset } of runs) {
    for (let i = 0; i < records.length;) {
      const n = RECORD_HEADER_WORDS + idWords(records[i + 5]);
      const row = rowOffset + records[i + 4];
      if (kept[row] === 1) at += copyRecord(records, i, rowOffset, out, at);
      i += n;
    }
  }
  return out;
}
