/**
 * Deduplicating a day's key partitions, and writing its key segment, in
 * blocks of partitions that run on several threads at once.
 *
 * A block is a run of consecutive hash partitions. It goes through two
 * passes, each on whichever thread is free:
 *
 * 1. {@linkcode dedupeBlock}: each partition is deduplicated in processing
 *    order ({@linkcode dedupePartition}), exactly as one thread going
 *    through every partition would; it counts the words of the kept rows'
 *    records.
 * 2. {@linkcode writeSegmentBlock}: once every block's count is known, and
 *    so where each block's records start in the segment file, the kept
 *    records of each partition are sorted into segment order
 *    ({@linkcode SegmentBuilder.sortKept}) in a buffer the thread reuses,
 *    and written at the block's place in the file. The file is the same
 *    bytes whatever thread ran which block, and no record crosses threads.
 *
 * Threads share, each part written by one block only:
 *
 * - the records, on the shared buffers the parse tasks filled (read only);
 * - the kept flags, one byte a row: a row's key falls in one partition, so
 *   one block writes its byte;
 * - the key filter: a block spans whole filter regions (the first lane's
 *   top 8 bits, see `key_index.ts`), so blocks set bits of disjoint bytes;
 * - the segment file, at disjoint byte ranges.
 *
 * The segment index's counts come back with each block, for the bucket
 * range it touched, and the caller adds them up.
 *
 * @module
 */

import { createDedupeTable, dedupePartition, type RecordRun } from "./dedupe.ts";
import { KeyFilter, SegmentBuilder } from "./key_index.ts";
import { RECORD_HEADER_WORDS } from "./key_partitions.ts";
import { idWords } from "./id_key.ts";
import { LocalIoError, localIoError, type LocalIoProblem } from "../resources/local_io.ts";

/** A block's share of one parse task's records. */
export interface BlockRun {
  /** The task's records (a view of its buffer, shared between threads). */
  records: Uint32Array;
  /** Word offsets in `records` where each of the block's partitions starts, and the end. */
  starts: Int32Array;
  /** Added to each record's row number to get the day's row number. */
  rowOffset: number;
}

/** A block of partitions: what both passes are sent. */
export interface PartitionBlock {
  /** Its first partition. */
  first: number;
  /** Partitions in the day. */
  partitions: number;
  /** The tasks' records for the block, in processing order. */
  runs: BlockRun[];
  /** One byte a row of the day, on a shared buffer: 1 when the row is kept. */
  kept: Uint8Array;
}

/** Pass 1 of a block, as sent to a worker. */
export interface DedupeBlock extends PartitionBlock {
  /** Tells a worker's message apart. */
  kind: "dedupe";
}

/** What pass 1 gives back. */
export interface DedupeBlockResult {
  /** Rows of the block found to repeat an earlier row's key. */
  duplicates: number;
  /** Words of the kept rows' records: the block's share of the segment. */
  words: number;
}

/** Pass 2 of a block, as sent to a worker. */
export interface SegmentBlock extends PartitionBlock {
  /** Tells a worker's message apart. */
  kind: "segment";
  /** The key filter's bytes, on a shared buffer. */
  filter: Uint8Array;
  /** The key segment's bucket bits. */
  bucketBits: number;
  /** The segment file being written (it exists). */
  file: string;
  /** The file's name in messages. */
  name: string;
  /** Byte offset of the block's records in it. */
  offset: number;
  /** Words of the block's kept records (from pass 1). */
  words: number;
}

/** What pass 2 gives back. */
export interface SegmentBlockResult {
  /** First bucket of `counts`. */
  lo: number;
  /** Words per bucket from `lo` on, for the segment index. */
  counts: Float64Array;
  /** A failed write (a full or read-only disk). */
  error?: LocalIoProblem;
}

/** Filter regions: the first lane's top 8 bits (see `key_index.ts`). */
const REGION_BITS = 8;
/** Blocks a day is cut into: enough for both threads to end together. */
const BLOCKS = 64;

/**
 * The first partition of each block of a day of `partitions` partitions (a
 * power of two, at least 256), each block whole filter regions.
 *
 * @example
 * ```ts
 * import { blockStarts } from "./dedupe_blocks.ts";
 * blockStarts(2048).length; // 64, every 32 partitions
 * ```
 */
export function blockStarts(partitions: number): number[] {
  const perRegion = Math.max(1, partitions >>> REGION_BITS);
  const size = Math.max(perRegion, Math.floor(partitions / BLOCKS));
  const starts: number[] = [];
  for (let p = 0; p < partitions; p += size) starts.push(p);
  return starts;
}

/**
 * The block of `records` (split into `partitions` views of one buffer, as a
 * parse task returns them) that starts at partition `first` and holds
 * `count` partitions.
 *
 * @example
 * ```ts
 * import { blockRun } from "./dedupe_blocks.ts";
 * const buffer = new Uint32Array(10);
 * const run = blockRun([buffer.subarray(0, 4), buffer.subarray(4, 10)], 1, 1, 0);
 * // run.starts is [0, 6]
 * ```
 */
export function blockRun(
  records: readonly Uint32Array[],
  first: number,
  count: number,
  rowOffset: number,
): BlockRun {
  const starts = new Int32Array(count + 1);
  const whole = records[first] ?? new Uint32Array(0);
  const base = whole.byteOffset / 4;
  for (let k = 0; k < count; k++) {
    const view = records[first + k];
    starts[k] = view ? view.byteOffset / 4 - base : 0;
    starts[k + 1] = view ? view.byteOffset / 4 - base + view.length : 0;
  }
  // One view from the block's first partition to its last one's end.
  return {
    records: new Uint32Array(whole.buffer, whole.byteOffset, starts[count]),
    starts,
    rowOffset,
  };
}

/** Scratch kept by each thread between blocks. */
const scratch = {
  table: createDedupeTable(),
  builders: new Map<number, SegmentBuilder>(),
  out: new Uint32Array(0),
};

/** The runs of the block's `k`-th partition. */
function partitionRuns(block: PartitionBlock, k: number): RecordRun[] {
  const runs: RecordRun[] = [];
  for (const run of block.runs) {
    const start = run.starts[k], end = run.starts[k + 1];
    if (end > start) {
      runs.push({ records: run.records.subarray(start, end), rowOffset: run.rowOffset });
    }
  }
  return runs;
}

/** Partitions in a block. */
function countOf(block: PartitionBlock): number {
  return block.runs.length === 0 ? 0 : block.runs[0].starts.length - 1;
}

/**
 * Pass 1: deduplicates a block's partitions, marking kept rows; see the
 * module documentation.
 *
 * @example
 * ```ts
 * import { blockRun, dedupeBlock } from "./dedupe_blocks.ts";
 * const records = Array.from({ length: 256 }, () => new Uint32Array(0));
 * const result = dedupeBlock({
 *   kind: "dedupe",
 *   first: 0,
 *   partitions: 256,
 *   runs: [blockRun(records, 0, 4, 0)],
 *   kept: new Uint8Array(0),
 * });
 * // { duplicates: 0, words: 0 }
 * ```
 */
export function dedupeBlock(block: DedupeBlock): DedupeBlockResult {
  const { kept } = block;
  let duplicates = 0, words = 0;
  for (let k = 0; k < countOf(block); k++) {
    const runs = partitionRuns(block, k);
    duplicates += dedupePartition(runs, kept, scratch.table);
    for (const { records, rowOffset } of runs) {
      for (let i = 0; i < records.length;) {
        const n = RECORD_HEADER_WORDS + idWords(records[i + 5]);
        if (kept[rowOffset + records[i + 4]] === 1) words += n;
        i += n;
      }
    }
  }
  return { duplicates, words };
}

/**
 * Pass 2: sorts a deduplicated block's kept records into segment order and
 * writes them at the block's offset of the segment file; see the module
 * documentation. A failed write comes back as `error`.
 *
 * @example
 * ```ts
 * import { blockRun, writeSegmentBlock } from "./dedupe_blocks.ts";
 * const records = Array.from({ length: 256 }, () => new Uint32Array(0));
 * const result = writeSegmentBlock({
 *   kind: "segment",
 *   first: 0,
 *   partitions: 256,
 *   runs: [blockRun(records, 0, 4, 0)],
 *   kept: new Uint8Array(0),
 *   filter: new Uint8Array(1024),
 *   bucketBits: 8,
 *   file: "/tmp/keys.bin",
 *   name: "keys.bin",
 *   offset: 0,
 *   words: 0,
 * });
 * // result.counts is [0, 0, 0, 0]
 * ```
 */
export function writeSegmentBlock(block: SegmentBlock): SegmentBlockResult {
  const { first, kept, bucketBits, words } = block;
  const count = countOf(block);
  const filter = new KeyFilter(block.filter);
  let builder = scratch.builders.get(bucketBits);
  if (!builder) scratch.builders.set(bucketBits, builder = new SegmentBuilder(bucketBits));
  if (scratch.out.length < words) scratch.out = new Uint32Array(words);
  const out = scratch.out;
  let at = 0;
  for (let k = 0; k < count; k++) {
    at += builder.sortKept(partitionRuns(block, k), kept, filter, out.subarray(at)).length;
  }
  // The buckets of the block's partitions: bucket and partition are both
  // top bits of the first lane, one of them the finer.
  const scale = 2 ** (bucketBits - Math.log2(block.partitions));
  const lo = Math.floor(first * scale);
  const counts = builder.takeCounts(lo, Math.ceil((first + count) * scale));
  if (at !== words) throw new Error(`a block kept ${at} words, pass 1 counted ${words}`);
  try {
    writeAt(block.file, block.offset, new Uint8Array(out.buffer, 0, at * 4));
  } catch (error) {
    const local = localIoError(error, "write", block.name);
    if (local instanceof LocalIoError) return { lo, counts, error: local.problem };
    throw error;
  }
  return { lo, counts };
}

/** Writes `bytes` at `offset` of the existing file `path`. */
function writeAt(path: string, offset: number, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  const file = Deno.openSync(path, { write: true });
  try {
    file.seekSync(offset, Deno.SeekMode.Start);
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  } finally {
    file.close();
  }
}
