/**
 * Deduplicates rows by their 128-bit key hashes, keeping the first row of
 * each key in row order.
 *
 * Keys are first split into 256 groups by the top byte of their hash (a
 * counting sort that keeps row order within a group), then each group is
 * deduplicated in an open-addressing table of row numbers small enough to
 * stay in the CPU cache. No JS `Set` or `Map` is used: those cap at 2^24
 * entries and cost about 107 bytes a key.
 *
 * @module
 */

const GROUP_BITS = 8;
const GROUPS = 1 << GROUP_BITS;

/** Which rows survive deduplication. */
export interface DedupeResult {
  /** 1 for a kept row, 0 for a duplicate or a skipped row. */
  kept: Uint8Array;
  /** Rows dropped as duplicates of an earlier row. */
  duplicates: number;
}

/** Options for {@linkcode dedupeRows}. */
export interface DedupeOptions {
  /** Four 32-bit lanes per row. */
  hashes: Uint32Array;
  /** Number of rows. */
  rows: number;
  /** Rows to leave out entirely (not kept, not counted as duplicates). */
  skip?: (row: number) => boolean;
}

/**
 * Marks the first row of every distinct key as kept.
 *
 * @example
 * ```ts
 * import { dedupeRows } from "./dedupe.ts";
 * const hashes = new Uint32Array([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4]);
 * const { kept, duplicates } = dedupeRows({ hashes, rows: 3 });
 * // kept is [1, 1, 0], duplicates is 1
 * ```
 */
export function dedupeRows(options: DedupeOptions): DedupeResult {
  const { hashes, rows, skip } = options;
  const kept = new Uint8Array(rows);
  // Counting sort of row numbers by group, stable in row order.
  const starts = new Int32Array(GROUPS + 1);
  for (let r = 0; r < rows; r++) starts[(hashes[r * 4] >>> 24) + 1]++;
  for (let g = 0; g < GROUPS; g++) starts[g + 1] += starts[g];
  const order = new Uint32Array(rows);
  const fill = starts.slice(0, GROUPS);
  for (let r = 0; r < rows; r++) order[fill[hashes[r * 4] >>> 24]++] = r;

  let largest = 0;
  for (let g = 0; g < GROUPS; g++) {
    largest = Math.max(largest, starts[g + 1] - starts[g]);
  }
  let size = 16;
  while (size < largest * 2) size *= 2;
  const table = new Int32Array(size); // row + 1, 0 = empty
  let duplicates = 0;
  for (let g = 0; g < GROUPS; g++) {
    const from = starts[g], to = starts[g + 1];
    if (from === to) continue;
    let tableSize = 16;
    while (tableSize < (to - from) * 2) tableSize *= 2;
    const mask = tableSize - 1;
    table.fill(0, 0, tableSize);
    for (let i = from; i < to; i++) {
      const row = order[i];
      if (skip !== undefined && skip(row)) continue;
      const h = row * 4;
      const a = hashes[h], b = hashes[h + 1], c = hashes[h + 2];
      const d = hashes[h + 3];
      let slot = b & mask;
      while (true) {
        const occupant = table[slot];
        if (occupant === 0) {
          table[slot] = row + 1;
          kept[row] = 1;
          break;
        }
        const o = (occupant - 1) * 4;
        if (
          hashes[o] === a && hashes[o + 1] === b && hashes[o + 2] === c &&
          hashes[o + 3] === d
        ) {
          duplicates++;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  return { kept, duplicates };
}
