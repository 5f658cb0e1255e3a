/**
 * Splits impression keys by hash into partitions, so that each partition
 * can be deduplicated in a table small enough for the CPU cache, or spilled
 * to disk and deduplicated one at a time when memory is short.
 *
 * A record is 32-bit words: the four hash lanes, the row number, the id's
 * byte length, then the id's bytes zero-padded to whole words, so that
 * deduplication can compare the keys themselves when hashes match. Within a
 * partition, records keep row order.
 *
 * @module
 */

import { idWords } from "./id_key.ts";
import { INVALID_ROW, type RowBlock } from "./scan_impressions.ts";

/** 32-bit words of a record before the id: four hash lanes, row, id length word. */
export const RECORD_HEADER_WORDS = 6;

/** 32-bit words of the record of an id with length word `lengthWord`. */
export function recordWords(lengthWord: number): number {
  return RECORD_HEADER_WORDS + idWords(lengthWord);
}

/** Partition of a hash: its top `bits` bits of the first lane. */
export function partitionOf(h0: number, bits: number): number {
  return bits === 0 ? 0 : h0 >>> (32 - bits);
}

/**
 * Growable per-partition record buffers.
 *
 * @example
 * ```ts
 * import { KeyPartitions } from "./key_partitions.ts";
 * const partitions = new KeyPartitions(256);
 * // partitions.add(block, 0); ... const records = partitions.take();
 * ```
 */
export class KeyPartitions {
  /** Number of partitions (a power of two). */
  readonly count: number;
  #bits: number;
  #buffers: Uint32Array[];
  #lengths: Int32Array;
  #counts: Int32Array;

  /** Creates `count` empty partitions; `count` must be a power of two. */
  constructor(count: number) {
    if (count < 1 || (count & (count - 1)) !== 0) {
      throw new RangeError(`partition count must be a power of two, not ${count}`);
    }
    this.count = count;
    this.#bits = Math.log2(count);
    this.#buffers = Array.from({ length: count }, () => new Uint32Array(0));
    this.#lengths = new Int32Array(count);
    this.#counts = new Int32Array(count);
  }

  /** Words held in all partitions. */
  get words(): number {
    let total = 0;
    for (let p = 0; p < this.count; p++) total += this.#lengths[p];
    return total;
  }

  /** Adds the valid rows of a block; `rowBase` is added to its row numbers. */
  add(block: RowBlock, rowBase: number): void {
    const { hashes, hours, rows, keys, keyStarts, keyLengths } = block;
    const bits = this.#bits;
    // Count words first so every buffer grows at most once per block.
    const counts = this.#counts.fill(0);
    for (let r = 0; r < rows; r++) {
      if (hours[r] === INVALID_ROW) continue;
      counts[partitionOf(hashes[r * 4], bits)] += RECORD_HEADER_WORDS + keyStarts[r + 1] -
        keyStarts[r];
    }
    for (let p = 0; p < this.count; p++) {
      const need = this.#lengths[p] + counts[p];
      if (need > this.#buffers[p].length) {
        const grown = new Uint32Array(Math.max(need, this.#buffers[p].length * 2, 1024));
        grown.set(this.#buffers[p].subarray(0, this.#lengths[p]));
        this.#buffers[p] = grown;
      }
    }
    const base = rowBase + block.firstRow;
    for (let r = 0; r < rows; r++) {
      if (hours[r] === INVALID_ROW) continue;
      const h = r * 4;
      const p = partitionOf(hashes[h], bits);
      const buffer = this.#buffers[p];
      let at = this.#lengths[p];
      buffer[at++] = hashes[h];
      buffer[at++] = hashes[h + 1];
      buffer[at++] = hashes[h + 2];
      buffer[at++] = hashes[h + 3];
      buffer[at++] = base + r;
      buffer[at++] = keyLengths[r];
      const k = keyStarts[r], words = keyStarts[r + 1] - k;
      if (words === 4) {
        // A packed UUID, the usual case.
        buffer[at] = keys[k];
        buffer[at + 1] = keys[k + 1];
        buffer[at + 2] = keys[k + 2];
        buffer[at + 3] = keys[k + 3];
      } else if (words < 16) {
        for (let i = 0; i < words; i++) buffer[at + i] = keys[k + i];
      } else buffer.set(keys.subarray(k, k + words), at);
      this.#lengths[p] = at + words;
    }
  }

  /** Returns each partition's records (trimmed) and empties the buffers. */
  take(): Uint32Array[] {
    // Views, not copies: the buffers are replaced below, so nothing else
    // writes to them, and a worker can transfer them whole.
    const out = this.#buffers.map((b, p) => b.subarray(0, this.#lengths[p]));
    this.#buffers = Array.from({ length: this.count }, () => new Uint32Array(0));
    this.#lengths.fill(0);
    return out;
  }
}
