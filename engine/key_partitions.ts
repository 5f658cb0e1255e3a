/**
 * Splits impression keys by hash into partitions, so that each partition
 * can be deduplicated in a table small enough for the CPU cache, or spilled
 * to disk and deduplicated one at a time when memory is short. A key is a
 * record of 32-bit words (see `key_record.ts`). Within a partition, records
 * keep row order.
 *
 * @module
 */

import { maxRecordWords, recordWords, UUID_RECORD_WORDS, writeRecord } from "./key_record.ts";
import { INVALID_ROW, type RecordSink, type RowBlock } from "./scan_impressions.ts";

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
export class KeyPartitions implements RecordSink {
  /** Number of partitions (a power of two). */
  readonly count: number;
  #bits: number;
  /** Filled chunks, and the words used in each. */
  #chunks: Uint32Array[] = [];
  #used: number[] = [];
  /** The chunk being filled, and its words used. */
  #buffer: Uint32Array = new Uint32Array(0);
  #at = 0;
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

  /** Puts the chunk being filled with the filled ones. */
  #close(): void {
    if (this.#buffer.length === 0) return;
    this.#chunks.push(this.#buffer);
    this.#used.push(this.#at);
    this.#buffer = new Uint32Array(0);
    this.#at = 0;
  }

  /** Closes the current chunk and starts one with room for `words` more. */
  #next(words: number): Uint32Array {
    this.#close();
    this.#buffer = chunkOf(words);
    return this.#buffer;
  }

  /**
   * Appends the record of one row, after those appended before (see
   * `key_record.ts`): its hash lane, row number, the id of length word
   * `lengthWord` at `ids[at..]` and its instant.
   */
  append(
    h0: number,
    row: number,
    lengthWord: number,
    ids: Uint32Array,
    at: number,
    seconds: number,
    nanos: number,
  ): void {
    const most = maxRecordWords(lengthWord);
    let buffer = this.#buffer, i = this.#at;
    if (i + most > buffer.length) {
      buffer = this.#next(most);
      i = 0;
    }
    const size = writeRecord(buffer, i, h0, row, lengthWord, ids, at, seconds, nanos);
    this.#counts[partitionOf(h0, this.#bits)] += size;
    this.#at = i + size;
    this.#length += size;
  }

  /** Adds the valid rows of a block; `rowBase` is added to its row numbers. */
  add(block: RowBlock, rowBase: number): void {
    const { hashes, hours, keys, keyStarts, keyLengths, seconds, nanos } = block;
    const base = rowBase + block.firstRow;
    for (let r = 0; r < block.rows; r++) {
      if (hours[r] === INVALID_ROW) continue;
      this.append(
        hashes[r * 4],
        base + r,
        keyLengths[r],
        keys,
        keyStarts[r],
        seconds[r],
        nanos[r],
      );
    }
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
    this.#close();
    for (let c = 0; c < this.#chunks.length; c++) {
      const records = this.#chunks[c];
      this.#place(records, this.#used[c], out, next);
      if (spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(records);
    }
    this.#chunks = [];
    this.#used = [];
    this.#length = 0;
    counts.fill(0);
    return views;
  }

  /** Copies the records in `records[0:length]` to their partitions' next places in `out`. */
  #place(records: Uint32Array, length: number, out: Uint32Array, next: Int32Array): void {
    const bits = this.#bits;
    for (let i = 0; i < length;) {
      const words = recordWords(records, i);
      const p = partitionOf(records[i], bits);
      let at = next[p];
      next[p] = at + words;
      if (words === UUID_RECORD_WORDS) {
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
