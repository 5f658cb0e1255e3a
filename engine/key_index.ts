/**
 * The key records of a day's kept rows kept on disk, so that rows arriving
 * later can be deduplicated against them without reading them all.
 *
 * A segment is a file of key records (see `key_record.ts`) sorted by
 * bucket, the top `bits` bits of the first hash lane, with an index of
 * where each bucket starts (one float64 word offset per bucket, and the
 * end). Finding a key reads one bucket (a few records) at its offset.
 *
 * A filter (one bit per slot) tells the keys certainly absent: only keys
 * whose bit is set are looked up. A key's slot is in the region of its
 * first lane's top 8 bits (so that keys taken a hash partition at a time
 * touch one small region, which stays in the CPU cache), at the place a
 * second hash of the record (`spreadOf`) says. A set bit may be another
 * key's (a false positive costs one read); a key never added has no effect
 * on correctness.
 *
 * @module
 */

import {
  copyKey,
  copyRecord,
  keyWords,
  MIN_RECORD_WORDS,
  recordWords,
  sameKey,
  spreadOf,
  UUID_RECORD_WORDS,
} from "./key_record.ts";
import { writtenBuffer } from "./written_buffer.ts";
import { dedupePartition, type RecordRun } from "./dedupe.ts";

/**
 * A filter's regions: the first lane's top bits. Blocks of partitions that
 * are whole regions set bits of different bytes (see `dedupe_blocks.ts`).
 */
export const REGION_BITS = 8;
/** The fewest bucket bits: a chunk of 1/256 of the keys is a whole number of buckets. */
export const MIN_BUCKET_BITS = 8;
/**
 * Records of a bucket that {@linkcode SegmentBuilder.dedupeSorted} compares
 * one with another; a larger bucket goes through a hash table.
 */
export const BUCKET_SCAN_RECORDS = 64;
/** The most bucket bits (an index of 32 MiB). */
const MAX_BUCKET_BITS = 22;

/**
 * Bucket bits for a segment of about `records` keys: some 16 keys a
 * bucket, and an index within `maxIndexBytes`.
 *
 * @example
 * ```ts
 * import { bucketBits } from "./key_index.ts";
 * bucketBits(10_000_000, 1 << 30); // 20
 * bucketBits(100, 1 << 30); // 8
 * ```
 */
export function bucketBits(records: number, maxIndexBytes: number): number {
  let bits = MIN_BUCKET_BITS;
  const cap = Math.min(MAX_BUCKET_BITS, Math.floor(Math.log2(Math.max(1, maxIndexBytes / 8))));
  while (bits < cap && 2 ** bits * 16 < records) bits++;
  return bits;
}

/** The bucket of a first hash lane. */
function bucketOf(h0: number, bits: number): number {
  return h0 >>> (32 - bits);
}

/**
 * Builds a segment chunk by chunk: each chunk's records (all of a range of
 * first-lane values above the previous chunk's) are sorted by bucket, and
 * the counts give the index.
 *
 * @example
 * ```ts
 * import { SegmentBuilder } from "./key_index.ts";
 * const builder = new SegmentBuilder(8);
 * const sorted = builder.sort(new Uint32Array([0x02000000, 1, 0x61, 9]));
 * const index = builder.index(); // index[2] is 0, index[3] is 4
 * ```
 */
export class SegmentBuilder {
  /** Bucket bits. */
  readonly bits: number;
  /** The first bucket counted. */
  #from: number;
  /** Words per bucket, from bucket `#from` on. */
  #counts: Float64Array;
  #scratch = { run: new Uint32Array(0), at: new Uint32Array(0), bucket: new Uint32Array(0) };
  /** Words per bucket of the chunk being sorted (zero between chunks), made when first needed. */
  #chunkCounts = new Float64Array(0);
  /** {@linkcode SegmentBuilder.dedupeSorted}'s buffers, kept between partitions. */
  #sorting = { starts: new Int32Array(0), ends: new Int32Array(0) };

  /**
   * A builder of a segment with `bits` bucket bits, counting the buckets
   * `buckets.from` to `buckets.to` (exclusive; all by default): a builder
   * of one block of a segment needs only that block's counts.
   */
  constructor(bits: number, buckets?: { from: number; to: number }) {
    this.bits = bits;
    this.#from = buckets?.from ?? 0;
    const to = buckets?.to ?? 2 ** bits;
    if (!(0 <= this.#from && this.#from <= to && to <= 2 ** bits)) {
      throw new RangeError(`buckets ${this.#from} to ${to} are not within 2^${bits}`);
    }
    // Counts are added to, a read first: see `written_buffer.ts`.
    this.#counts = new Float64Array(writtenBuffer(8 * (to - this.#from)));
  }

  /** Throws unless buckets `lo` to `hi` (inclusive) are counted here. */
  #check(lo: number, hi: number): void {
    if (lo < this.#from || hi >= this.#from + this.#counts.length) {
      throw new RangeError(
        `records of buckets ${lo} to ${hi}, outside the builder's ${this.#from} to ${
          this.#from + this.#counts.length - 1
        }`,
      );
    }
  }

  /**
   * The keys (records without their row) of one chunk, sorted by bucket
   * (stable); counted for the index.
   */
  sort(records: Uint32Array): Uint32Array {
    const bits = this.bits;
    let n = 0, lo = Infinity, hi = -1;
    for (let i = 0; i < records.length; i += keyWords(records, i)) {
      const b = bucketOf(records[i], bits);
      if (b < lo) lo = b;
      if (b > hi) hi = b;
      n++;
    }
    if (n === 0) return records;
    this.#check(lo, hi);
    const starts = new Float64Array(hi - lo + 2);
    for (let i = 0, words = 0; i < records.length; i += words) {
      words = keyWords(records, i);
      const b = bucketOf(records[i], bits);
      starts[b - lo + 1] += words;
      this.#counts[b - this.#from] += words;
    }
    if (lo === hi) return records;
    for (let b = 1; b < starts.length; b++) starts[b] += starts[b - 1];
    const out = new Uint32Array(records.length);
    for (let i = 0; i < records.length;) {
      const b = bucketOf(records[i], bits) - lo;
      const words = copyKey(records, i, out, starts[b]);
      starts[b] += words;
      i += words;
    }
    return out;
  }

  /**
   * The keys of the runs' kept rows (their records without the row),
   * sorted by bucket, added to `filter` and counted for the index: what
   * `keptRecords` and {@linkcode SegmentBuilder.sort} give, in fewer
   * passes. Written at the start of `into` when given (it
   * must have room), else into a new array.
   */
  sortKept(
    runs: readonly RecordRun[],
    kept: Uint8Array,
    filter: KeyFilter,
    into?: Uint32Array,
  ): Uint32Array {
    const shift = 32 - this.bits;
    let n = 0, words = 0, lo = Infinity, hi = -1;
    for (const { records } of runs) n += records.length;
    n = Math.ceil(n / MIN_RECORD_WORDS); // at most this many records
    if (this.#scratch.at.length < n) {
      this.#scratch = {
        run: new Uint32Array(n),
        at: new Uint32Array(n),
        bucket: new Uint32Array(n),
      };
    }
    const { run: runOf, at: atOf, bucket: bucketOfRecord } = this.#scratch;
    if (this.#chunkCounts.length !== this.#counts.length) {
      this.#chunkCounts = new Float64Array(writtenBuffer(8 * this.#counts.length));
    }
    const chunkCounts = this.#chunkCounts, from = this.#from;
    n = 0;
    for (let r = 0; r < runs.length; r++) {
      const { records, rowOffset } = runs[r];
      for (let i = 0; i < records.length;) {
        const size = recordWords(records, i);
        if (kept[rowOffset + records[i + size - 1]] === 1) {
          const h0 = records[i];
          const b = h0 >>> shift;
          if (b < lo) lo = b;
          if (b > hi) hi = b;
          runOf[n] = r;
          atOf[n] = i;
          bucketOfRecord[n] = b;
          n++;
          words += size - 1;
          chunkCounts[b - from] += size - 1;
          filter.addSlot(h0, spreadOf(records, i));
        }
        i += size;
      }
    }
    if (n > 0 && (lo < from || hi >= from + chunkCounts.length)) {
      chunkCounts.fill(0); // left as between chunks
      this.#check(lo, hi);
    }
    if (into !== undefined && into.length < words) {
      chunkCounts.fill(0);
      throw new RangeError(`${words} words of kept records, room for ${into.length}`);
    }
    const out = into?.subarray(0, words) ?? new Uint32Array(words);
    if (n === 0) return out;
    // Where each bucket of the chunk starts; the chunk's counts go to the index.
    const starts = new Float64Array(hi - lo + 1);
    let at = 0;
    for (let b = lo; b <= hi; b++) {
      starts[b - lo] = at;
      at += chunkCounts[b - from];
      this.#counts[b - from] += chunkCounts[b - from];
      chunkCounts[b - from] = 0;
    }
    for (let k = 0; k < n; k++) {
      const b = bucketOfRecord[k] - lo;
      starts[b] += copyKey(runs[runOf[k]].records, atOf[k], out, starts[b]);
    }
    return out;
  }

  /**
   * Deduplicates one partition's runs (given in row order) and writes the
   * kept rows' keys (their records without the row) sorted by bucket at
   * the start of `into`: what {@linkcode dedupePartition} and then
   * {@linkcode SegmentBuilder.sortKept} give, the first row of each key
   * marked in `kept`, added to `filter` and counted for the index.
   *
   * It puts each record in its bucket in `into` (stably, so in row order
   * within a bucket), and a record whose key one put there before it has
   * is dropped on the way: equal keys share a bucket, so each record is
   * compared with the few kept before it there, with no hash table and no
   * second look at `kept`. The buckets' kept records are then moved down
   * together. A bucket of more than {@linkcode BUCKET_SCAN_RECORDS}
   * records (ids made to share their hashes' top bits) takes them all and
   * goes through a hash table instead, its records whole, with their day
   * row numbers, until their keys move down. `into` needs room for every
   * record.
   * Returns the words written and the duplicates dropped.
   */
  dedupeSorted(
    runs: readonly RecordRun[],
    kept: Uint8Array,
    filter: KeyFilter,
    into: Uint32Array,
    table: { slots: Uint32Array },
  ): { words: number; duplicates: number } {
    // Buckets are counted from the builder's first (`base`), in one pass
    // that also finds the range the records span.
    const shift = 32 - this.bits, base = this.#from, span = this.#counts.length;
    const sorting = this.#sorting;
    if (sorting.starts.length < span + 1) {
      sorting.starts = new Int32Array(span + 1); // zero between calls
      sorting.ends = new Int32Array(span + 1);
    }
    const starts = sorting.starts, ends = sorting.ends;
    let lo = Infinity, hi = -1, total = 0;
    for (const { records } of runs) {
      for (let i = 0; i < records.length;) {
        const b = (records[i] >>> shift) - base;
        const size = recordWords(records, i);
        if (b < lo) lo = b;
        if (b > hi) hi = b;
        if (b >= 0 && b < span) starts[b] += size;
        i += size;
      }
      total += records.length;
    }
    if (hi < 0) return { words: 0, duplicates: 0 };
    if (lo < 0 || hi >= span) {
      starts.fill(0); // as between calls
      this.#check(lo + base, hi + base);
    }
    if (into.length < total) {
      starts.fill(0, lo, hi + 1);
      throw new RangeError(`${total} words of records, room for ${into.length}`);
    }
    let at = 0;
    for (let b = lo; b <= hi; b++) {
      const words = starts[b];
      starts[b] = ends[b] = at;
      at += words;
    }
    starts[hi + 1] = at;
    // Every record's key to its bucket in `into` (a large bucket's whole
    // record, with its day row number). Records come in row order, so in a
    // bucket of a few the first row of a key is the one that finds no record
    // of its key there yet: the others are dropped on the way. A large
    // bucket takes them all, for the hash table.
    const large = BUCKET_SCAN_RECORDS * UUID_RECORD_WORDS;
    let duplicates = 0;
    for (const { records, rowOffset } of runs) {
      for (let i = 0; i < records.length;) {
        const b = (records[i] >>> shift) - base;
        const start = starts[b], end = ends[b];
        const size = recordWords(records, i);
        if (starts[b + 1] - start > large) {
          ends[b] = end + copyRecord(records, i, rowOffset, into, end);
        } else if (holdsKeyIn(into, start, end, records, i)) duplicates++;
        else {
          copyKey(records, i, into, end);
          kept[rowOffset + records[i + size - 1]] = 1;
          filter.addSlot(records[i], spreadOf(records, i));
          ends[b] = end + size - 1;
        }
        i += size;
      }
    }
    // The buckets' kept keys moved down together, in bucket order; a large
    // bucket's first rows of each key found through the hash table.
    let out = 0;
    for (let b = lo; b <= hi; b++) {
      const start = starts[b], end = ends[b], first = out;
      if (starts[b + 1] - start > large) {
        duplicates += dedupePartition(
          [{ records: into.subarray(start, end), rowOffset: 0 }],
          kept,
          table,
        );
        for (let j = start; j < end;) {
          const size = recordWords(into, j);
          if (kept[into[j + size - 1]] === 1) {
            filter.addSlot(into[j], spreadOf(into, j));
            into.copyWithin(out, j, j + size - 1);
            out += size - 1;
          }
          j += size;
        }
      } else {
        if (out !== start) into.copyWithin(out, start, end);
        out += end - start;
      }
      this.#counts[b] += out - first;
    }
    starts.fill(0, lo, hi + 2);
    return { words: out, duplicates };
  }

  /**
   * The words counted so far for buckets `lo` to `end` (exclusive), which
   * are then counted as none: what another builder adds with
   * {@linkcode SegmentBuilder.addCounts} when chunks are sorted elsewhere.
   */
  takeCounts(lo: number, end: number): Float64Array {
    const counts = this.#counts.slice(lo - this.#from, end - this.#from);
    this.#counts.fill(0, lo - this.#from, end - this.#from);
    return counts;
  }

  /** Adds words per bucket from bucket `lo` on (see {@linkcode SegmentBuilder.takeCounts}). */
  addCounts(lo: number, counts: Float64Array): void {
    const at = lo - this.#from;
    for (let b = 0; b < counts.length; b++) this.#counts[at + b] += counts[b];
  }

  /** Word offsets of each bucket counted here, and the end. */
  index(): Float64Array {
    const index = new Float64Array(this.#counts.length + 1);
    for (let b = 0; b < this.#counts.length; b++) index[b + 1] = index[b] + this.#counts[b];
    return index;
  }
}

/**
 * Whether one of the keys in `region[start:end]` (records without their
 * row) is the key of the record at `records[i]`: the same id and instant (see `key_record.ts`).
 */
function holdsKeyIn(
  region: Uint32Array,
  start: number,
  end: number,
  records: Uint32Array,
  i: number,
): boolean {
  for (let m = start; m < end; m += keyWords(region, m)) {
    if (sameKey(region, m, records, i)) return true;
  }
  return false;
}

/** An open segment: its file and index. */
export interface Segment {
  /** The records file, open for reading. */
  file: Deno.FsFile;
  /** Word offsets of each bucket, and the end. */
  index: Float64Array;
}

/** Bucket bits of a segment, from its index. */
function bitsOf(segment: Segment): number {
  return Math.log2(segment.index.length - 1);
}

/** A key segment's words that are not whole keys: the file was changed after it was written. */
export class CorruptSegmentError extends Error {
  /** Builds the error for a key at word `at` of a read of `words` words. */
  constructor(at: number, words: number) {
    super(
      `a key segment is corrupt: the key at word ${at} of a bucket of ${words} words runs past its end`,
    );
    this.name = "CorruptSegmentError";
  }
}

/**
 * The keys in words `start` to `end` of a segment's open file, checked to
 * be whole keys: a segment is checked by its size only, and a changed
 * header word would otherwise make a key of up to 2 GiB.
 */
function readKeys(file: Deno.FsFile, start: number, end: number): Uint32Array {
  const keys = readWords(file, start, end);
  for (let i = 0; i < keys.length;) {
    const n = keys.length - i < 4 ? keys.length + 1 : keyWords(keys, i);
    if (i + n > keys.length) throw new CorruptSegmentError(i, keys.length);
    i += n;
  }
  return keys;
}

/** Words `start` to `end` of an open file of 32-bit words. */
function readWords(file: Deno.FsFile, start: number, end: number): Uint32Array {
  const out = new Uint32Array(Math.max(0, end - start));
  if (out.length === 0) return out;
  const bytes = new Uint8Array(out.buffer);
  file.seekSync(start * 4, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < bytes.length) {
    const n = file.readSync(bytes.subarray(filled));
    if (n === null) throw new Error("a key segment ends early");
    filled += n;
  }
  return out;
}

/**
 * The keys of a segment whose first lane's top `chunkBits` bits are
 * `chunk` (`chunkBits` at least {@linkcode MIN_BUCKET_BITS}).
 *
 * @example
 * ```ts
 * import { readChunk, type Segment } from "./key_index.ts";
 * declare const segment: Segment;
 * const records = readChunk(segment, 3, 8);
 * ```
 */
export function readChunk(segment: Segment, chunk: number, chunkBits: number): Uint32Array {
  const bits = bitsOf(segment);
  if (bits >= chunkBits) {
    const shift = bits - chunkBits;
    return readKeys(
      segment.file,
      segment.index[chunk << shift],
      segment.index[(chunk + 1) << shift],
    );
  }
  const bucket = chunk >>> (chunkBits - bits);
  const all = readKeys(segment.file, segment.index[bucket], segment.index[bucket + 1]);
  let words = 0;
  for (let i = 0, n = 0; i < all.length; i += n) {
    n = keyWords(all, i);
    if (all[i] >>> (32 - chunkBits) === chunk) words += n;
  }
  const out = new Uint32Array(words);
  let at = 0;
  for (let i = 0; i < all.length;) {
    const n = keyWords(all, i);
    if (all[i] >>> (32 - chunkBits) === chunk) {
      out.set(all.subarray(i, i + n), at);
      at += n;
    }
    i += n;
  }
  return out;
}

/**
 * Whether the segment holds the key of the record at `i` of `records`: the
 * same id and instant (see `key_record.ts`).
 *
 * @example
 * ```ts
 * import { holdsKey, type Segment } from "./key_index.ts";
 * declare const segment: Segment;
 * declare const records: Uint32Array;
 * holdsKey(segment, records, 0);
 * ```
 */
export function holdsKey(segment: Segment, records: Uint32Array, i: number): boolean {
  const b = bucketOf(records[i], bitsOf(segment));
  const bucket = readKeys(segment.file, segment.index[b], segment.index[b + 1]);
  return holdsKeyIn(bucket, 0, bucket.length, records, i);
}

/**
 * A one-bit-a-slot filter of keys.
 *
 * @example
 * ```ts
 * import { KeyFilter } from "./key_index.ts";
 * const filter = KeyFilter.sized(1000, 1 << 20);
 * filter.add(new Uint32Array([7, 1, 0x61, 9])); // the key of "a" at second 9
 * filter.mayHold(new Uint32Array([7, 1, 0x61, 9, 5]), 0); // true: that key, row 5
 * ```
 */
export class KeyFilter {
  /** The bits, eight slots a byte. */
  readonly bytes: Uint8Array;
  /** Slots a region, minus one. */
  #mask: number;
  /** Shift of the first lane that gives the region's first slot. */
  #shift: number;

  /** A filter over `bytes` (a power of two of them, at least 1 KiB). */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    const slotBits = Math.log2(bytes.length * 8);
    const regionBits = slotBits - REGION_BITS;
    this.#mask = 2 ** regionBits - 1;
    // (h0 >>> 24) << regionBits, as one shift and a mask of the region bits.
    this.#shift = 32 - REGION_BITS - regionBits;
  }

  #slot(h0: number, spread: number): number {
    const shift = this.#shift;
    const region = shift >= 0
      ? (h0 >>> shift) & ~this.#mask
      : ((h0 >>> (32 - REGION_BITS)) * (this.#mask + 1));
    return (region + (spread & this.#mask)) >>> 0;
  }

  /**
   * An empty filter of 8 to 16 slots a key for `keys` keys, within
   * `maxBytes`; on a `SharedArrayBuffer` with `shared`, for several threads
   * to fill (each its own regions). With one bit a key, some 6 to 12% of
   * the keys not added find their slot set: a wasted bucket read each in an
   * incremental run, where a larger filter is more to zero and write in a
   * full one (32 MiB for 10M rows at 16 slots a key).
   */
  static sized(keys: number, maxBytes: number, options?: { shared?: boolean }): KeyFilter {
    let bytes = 1024;
    while (bytes * 8 < keys * 8 && bytes * 2 <= maxBytes) bytes *= 2;
    // Setting a slot reads its byte first: see `written_buffer.ts`.
    return new KeyFilter(new Uint8Array(writtenBuffer(bytes, options)));
  }

  /** Sets the slot of a key by its hash lane and its record's `spreadOf`. */
  addSlot(h0: number, spread: number): void {
    const slot = this.#slot(h0, spread);
    this.bytes[slot >>> 3] |= 1 << (slot & 7);
  }

  /** Sets the slots of every key in `records` (keys: records without their row). */
  add(records: Uint32Array): void {
    for (let i = 0; i < records.length; i += keyWords(records, i)) {
      this.addSlot(records[i], spreadOf(records, i));
    }
  }

  /** Whether the key of the record at `i` may have been added. */
  mayHold(records: Uint32Array, i: number): boolean {
    const slot = this.#slot(records[i], spreadOf(records, i));
    return (this.bytes[slot >>> 3] & (1 << (slot & 7))) !== 0;
  }
}
