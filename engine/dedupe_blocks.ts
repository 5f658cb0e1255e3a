/**
 * Deduplicating a day's key partitions in blocks that run on several
 * threads at once.
 *
 * A block is a run of consecutive hash partitions. Each of its partitions
 * is deduplicated in processing order ({@linkcode dedupePartition}) and its
 * kept rows' records sorted into a key segment chunk
 * ({@linkcode SegmentBuilder.sortKept}), exactly as one thread going
 * through every partition would; so the chunks, concatenated in block
 * order, are the same bytes whatever thread ran which block.
 *
 * Threads share three things, each written by one block only where it is
 * written at all:
 *
 * - the records, on the shared buffers the parse tasks filled (read only);
 * - the kept flags, one byte a row: a row's key falls in one partition, so
 *   one block writes its byte;
 * - the key filter: a block spans whole filter regions (the first lane's
 *   top 8 bits, see `key_index.ts`), so blocks set bits of disjoint bytes.
 *
 * The segment index's counts come back with each block, for the bucket
 * range it touched, and the caller adds them up.
 *
 * @module
 */

import { createDedupeTable, dedupePartition, type RecordRun } from "./dedupe.ts";
import { KeyFilter, SegmentBuilder } from "./key_index.ts";

/** A block's share of one parse task's records. */
export interface BlockRun {
  /** The task's records (a view of its buffer, shared between threads). */
  records: Uint32Array;
  /** Word offsets in `records` where each of the block's partitions starts, and the end. */
  starts: Int32Array;
  /** Added to each record's row number to get the day's row number. */
  rowOffset: number;
}

/** A block of partitions to deduplicate, as sent to a worker. */
export interface DedupeBlock {
  /** Tells a worker's message apart from a scan task. */
  kind: "dedupe";
  /** Its first partition. */
  first: number;
  /** Partitions in the day. */
  partitions: number;
  /** The tasks' records for the block, in processing order. */
  runs: BlockRun[];
  /** One byte a row of the day, on a shared buffer: 1 when the row is kept. */
  kept: Uint8Array;
  /** The key filter's bytes, on a shared buffer. */
  filter: Uint8Array;
  /** The key segment's bucket bits. */
  bucketBits: number;
}

/** What a block gives back. */
export interface DedupeBlockResult {
  /** The kept rows' records of the block's partitions, sorted into segment order, a chunk each. */
  chunks: Uint32Array[];
  /** Rows of the block found to repeat an earlier row's key. */
  duplicates: number;
  /** First bucket of `counts`. */
  lo: number;
  /** Words per bucket from `lo` on, for the segment index. */
  counts: Float64Array;
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
 * // run.starts is [4, 10]
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
  const end = starts[count];
  return {
    records: new Uint32Array(whole.buffer, whole.byteOffset, end),
    starts,
    rowOffset,
  };
}

/** Scratch kept by each thread between blocks. */
const scratch = {
  table: createDedupeTable(),
  builders: new Map<number, SegmentBuilder>(),
};

/**
 * Deduplicates one block; see the module documentation.
 *
 * @example
 * ```ts
 * import { blockRun, dedupeBlock } from "./dedupe_blocks.ts";
 * const partitions = 256;
 * const records = Array.from({ length: partitions }, () => new Uint32Array(0));
 * const result = dedupeBlock({
 *   kind: "dedupe",
 *   first: 0,
 *   partitions,
 *   runs: [blockRun(records, 0, 4, 0)],
 *   kept: new Uint8Array(0),
 *   filter: new Uint8Array(1024),
 *   bucketBits: 8,
 * });
 * // result.chunks is empty, result.duplicates is 0
 * ```
 */
export function dedupeBlock(block: DedupeBlock): DedupeBlockResult {
  const { first, runs, kept, bucketBits } = block;
  const count = runs[0]?.starts.length - 1 || 0;
  const filter = new KeyFilter(block.filter);
  let builder = scratch.builders.get(bucketBits);
  if (!builder) scratch.builders.set(bucketBits, builder = new SegmentBuilder(bucketBits));
  const chunks: Uint32Array[] = [];
  let duplicates = 0;
  for (let k = 0; k < count; k++) {
    const partitionRuns: RecordRun[] = [];
    for (const run of runs) {
      const start = run.starts[k], end = run.starts[k + 1];
      if (end > start) {
        partitionRuns.push({ records: run.records.subarray(start, end), rowOffset: run.rowOffset });
      }
    }
    duplicates += dedupePartition(partitionRuns, kept, scratch.table);
    const chunk = builder.sortKept(partitionRuns, kept, filter);
    if (chunk.length > 0) chunks.push(chunk);
  }
  // The buckets of the block's partitions: bucket and partition are both
  // top bits of the first lane, one of them the finer.
  const scale = 2 ** (bucketBits - Math.log2(block.partitions));
  const lo = Math.floor(first * scale);
  const counts = builder.takeCounts(lo, Math.ceil((first + count) * scale));
  return { chunks, duplicates, lo, counts };
}
