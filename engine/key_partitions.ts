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

/** Words of a chunk of appended records (4 MiB). */
const CHUNK_WORDS = 1 << 20;

/**
 * Chunks emptied by {@linkcode KeyPartitions.take}, kept for the next
 * partitions this thread fills (at most 64 MiB): a thread parses one task
 * after another, and fresh chunks for each cost a page fault per 4 KiB.
 */
const spareChunks: Uint32Array[] = [];
const MAX_SPARE_CHUNKS = 16;

/** A chunk of at least `words` words, spare if there is one. */
function chunkOf(words: number): Uint32Array {
  for (let i = spareChunks.length - 1; i >= 0; i--) {
    if (spareChunks[i].length >= words) return spareChunks.splice(i, 1)[0];
  }
  return new Uint32Array(Math.max(CHUNK_WORDS, words));
}

/** Partition of a hash: its top `bits` bits of the first lane. */
export function partitionOf(h0: number, bits: number): number {
  return bits === 0 ? 0 : h0 >>> (32 - bits);
}

/**
 * Key records split by partition. Records are appended in row order to
 * chunks of 4 MiB, counting each partition's words; {@linkcode
 * KeyPartitions.take} then places them, partition by partition, into one
 * buffer of the exact size. (Growing a buffer per partition, by doubling,
 * held up to twice the records' bytes in thousands of small buffers.)
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
  /** Filled chunks, then the one being filled. */
  #chunks: Uint32Array[] = [];
  /** Words used in each chunk up to the current one. */
  #used: number[] = [];
  #current = -1;
  #length = 0;
  #counts: Int32Array;

  /** Creates `count` empty partitions; `count` must be a power of two. */
  constructor(count: number) {
    if (count < 1 || (count & (count - 1)) !== 0) {
      throw new RangeError(`partition count must be a power of two, not ${count}`);
    }
    this.count = count;
    this.#bits = Math.log2(count);
    this.#counts = new Int32Array(count);
  }

  /** Words held in all partitions. */
  get words(): number {
    return this.#length;
  }

  /** Adds the valid rows of a block; `rowBase` is added to its row numbers. */
  add(block: RowBlock, rowBase: number): void {
    const { hashes, hours, rows, keys, keyStarts, keyLengths } = block;
    const bits = this.#bits;
    // Room for the whole block in the current chunk, else a new one.
    const need = rows * RECORD_HEADER_WORDS + keyStarts[rows];
    if (
      this.#current < 0 || this.#used[this.#current] + need > this.#chunks[this.#current].length
    ) {
      this.#current++;
      this.#used[this.#current] = 0;
      this.#chunks[this.#current] = chunkOf(need);
    }
    const buffer = this.#chunks[this.#current], counts = this.#counts;
    const base = rowBase + block.firstRow;
    const first = this.#used[this.#current];
    let at = first;
    for (let r = 0; r < rows; r++) {
      if (hours[r] === INVALID_ROW) continue;
      const h = r * 4;
      const k = keyStarts[r], words = keyStarts[r + 1] - k;
      counts[partitionOf(hashes[h], bits)] += RECORD_HEADER_WORDS + words;
      buffer[at++] = hashes[h];
      buffer[at++] = hashes[h + 1];
      buffer[at++] = hashes[h + 2];
      buffer[at++] = hashes[h + 3];
      buffer[at++] = base + r;
      buffer[at++] = keyLengths[r];
      if (words === 4) {
        // A packed UUID, the usual case.
        buffer[at] = keys[k];
        buffer[at + 1] = keys[k + 1];
        buffer[at + 2] = keys[k + 2];
        buffer[at + 3] = keys[k + 3];
      } else if (words < 16) {
        for (let i = 0; i < words; i++) buffer[at + i] = keys[k + i];
      } else buffer.set(keys.subarray(k, k + words), at);
      at += words;
    }
    this.#used[this.#current] = at;
    this.#length += at - first;
  }

  /**
   * Returns each partition's records, in row order, as views of one buffer
   * of the exact size, and empties the partitions. With `shared`, the buffer
   * is a `SharedArrayBuffer`, which other threads can read without a copy.
   */
  take(options?: { shared?: boolean }): Uint32Array[] {
    const counts = this.#counts;
    const bytes = this.#length * 4;
    const out = new Uint32Array(
      options?.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes),
    );
    const next = new Int32Array(this.count);
    const views: Uint32Array[] = [];
    let start = 0;
    for (let p = 0; p < this.count; p++) {
      next[p] = start;
      views.push(out.subarray(start, start + counts[p]));
      start += counts[p];
    }
    for (let c = 0; c <= this.#current; c++) {
      const records = this.#chunks[c];
      this.#place(records, this.#used[c], out, next);
      if (spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(records);
    }
    this.#chunks = [];
    this.#length = 0;
    this.#current = -1;
    counts.fill(0);
    return views;
  }

  /** Copies the records in `records[0:length]` to their partitions' next places in `out`. */
  #place(records: Uint32Array, length: number, out: Uint32Array, next: Int32Array): void {
    const bits = this.#bits;
    for (let i = 0; i < length;) {
      const words = RECORD_HEADER_WORDS + idWords(records[i + 5]);
      const p = partitionOf(records[i], bits);
      let at = next[p];
      next[p] = at + words;
      if (words === RECORD_HEADER_WORDS + 4) {
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at++] = records[i++];
        out[at] = records[i++];
      } else {
        out.set(records.subarray(i, i + words), at);
        i += words;
      }
    }
  }
}
