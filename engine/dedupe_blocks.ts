/**
 * Deduplicating a day's key partitions, and writing its key segment, in
 * blocks of partitions that run on several threads at once.
 *
 * A block is a run of consecutive hash partitions. Whichever thread takes
 * it deduplicates each of its partitions in processing order and puts its
 * kept rows' records in segment order in one go
 * ({@linkcode SegmentBuilder.dedupeSorted}), in a buffer the thread reuses:
 * exactly what one thread going through every partition would do. The
 * block's records then go to the segment file right after the previous
 * block's: a block learns where from the shared {@linkcode SegmentLayout},
 * where each block, once sorted, publishes where the next one starts.
 * Blocks are taken in order, so the one a block waits for has started
 * before it. The file is the same bytes whatever thread ran which block,
 * and no record crosses threads.
 *
 * Threads share, each part written by one block only:
 *
 * - the records, on the shared buffers the parse tasks filled (read only);
 * - the kept flags, one byte a row: a row's key falls in one partition, so
 *   one block writes its byte;
 * - the key filter: a block spans whole filter regions (the first lane's
 *   top 8 bits, see `key_index.ts`), so blocks set bits of disjoint bytes;
 * - the segment file, at disjoint byte ranges, and the layout's slot after
 *   the block's own.
 *
 * The segment index's counts come back with each block, for the bucket
 * range it touched, and the caller adds them up.
 *
 * @module
 */

import { createDedupeTable, type RecordRun } from "./dedupe.ts";
import { KeyFilter, REGION_BITS, SegmentBuilder } from "./key_index.ts";
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

/**
 * Where each block's records start in the segment file, on shared memory:
 * `words[b]` is block `b`'s first word once `ready[b]` is 1. Slot 0 is
 * ready at the start; `ready[blocks + 1]` is set when the day is abandoned
 * (a block failed), so that no block waits for one that will never come.
 */
export interface SegmentLayout {
  /** First word of each block, and the end. */
  words: BigInt64Array;
  /** 1 where `words` is known; the last slot is the abandon flag. */
  ready: Int32Array;
}

/**
 * A layout for `blocks` blocks, on shared memory.
 *
 * @example
 * ```ts
 * import { segmentLayout } from "./dedupe_blocks.ts";
 * const layout = segmentLayout(64); // layout.ready[0] is 1
 * ```
 */
export function segmentLayout(blocks: number): SegmentLayout {
  const words = new BigInt64Array(new SharedArrayBuffer((blocks + 1) * 8));
  const ready = new Int32Array(new SharedArrayBuffer((blocks + 2) * 4));
  ready[0] = 1;
  return { words, ready };
}

/** Tells the blocks still to run, or waiting, that the day is abandoned. */
export function abandonLayout(layout: SegmentLayout): void {
  const flag = layout.ready.length - 1;
  Atomics.store(layout.ready, flag, 1);
  for (let b = 0; b < flag; b++) Atomics.notify(layout.ready, b);
}

/** A block of partitions, as sent to a worker. */
export interface DedupeBlock {
  /** Tells a worker's message apart from a scan task. */
  kind: "dedupe";
  /** The block's position among the day's blocks. */
  index: number;
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
  /** The segment file being written (it exists). */
  file: string;
  /** The file's name in messages. */
  name: string;
  /**
   * The key filter's file being written (it exists, at its full size):
   * the block writes the bytes of its regions there. None to leave that
   * to the caller.
   */
  filterFile?: string;
  /** That file's name in messages. */
  filterName?: string;
  /** Where blocks start in the file. */
  layout: SegmentLayout;
}

/** What a block gives back. */
export interface DedupeBlockResult {
  /** Rows of the block found to repeat an earlier row's key. */
  duplicates: number;
  /** First bucket of `counts`. */
  lo: number;
  /** Words per bucket from `lo` on, for the segment index. */
  counts: Float64Array;
  /** A failed write (a full or read-only disk). */
  error?: LocalIoProblem;
}

/** A block that cannot go on: an earlier one failed or never published. */
export class BlockAbandonedError extends Error {
  /** Builds the error for block `index`. */
  constructor(index: number) {
    super(`block ${index} of the key segment was abandoned: an earlier block failed`);
    this.name = "BlockAbandonedError";
  }
}

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
  out: new Uint32Array(0),
};

/** The runs of the block's `k`-th partition. */
function partitionRuns(block: DedupeBlock, k: number): RecordRun[] {
  const runs: RecordRun[] = [];
  for (const run of block.runs) {
    const start = run.starts[k], end = run.starts[k + 1];
    if (end > start) {
      runs.push({ records: run.records.subarray(start, end), rowOffset: run.rowOffset });
    }
  }
  return runs;
}

/** How long a block waits for the one before it between looks at the abandon flag. */
const WAIT_MS = 1000;

/**
 * Deduplicates a block, sorts its kept records and writes them at their
 * place in the segment file; see the module documentation. A failed write
 * comes back as `error`; an abandoned day throws
 * {@linkcode BlockAbandonedError}.
 *
 * @example
 * ```ts
 * import { blockRun, dedupeBlock, segmentLayout } from "./dedupe_blocks.ts";
 * const records = Array.from({ length: 256 }, () => new Uint32Array(0));
 * const result = dedupeBlock({
 *   kind: "dedupe",
 *   index: 0,
 *   first: 0,
 *   partitions: 256,
 *   runs: [blockRun(records, 0, 4, 0)],
 *   kept: new Uint8Array(0),
 *   filter: new Uint8Array(1024),
 *   bucketBits: 8,
 *   file: "/tmp/keys.bin",
 *   name: "keys.bin",
 *   layout: segmentLayout(1),
 * });
 * // result.duplicates is 0 and result.counts is [0, 0, 0, 0]
 * ```
 */
export function dedupeBlock(block: DedupeBlock): DedupeBlockResult {
  const { index, first, kept, bucketBits, layout } = block;
  const count = block.runs.length === 0 ? 0 : block.runs[0].starts.length - 1;
  const filter = new KeyFilter(block.filter);
  // The block's buckets: bucket and partition are both top bits of the
  // first lane, one of them the finer.
  const scale = 2 ** (bucketBits - Math.log2(block.partitions));
  const lo = Math.floor(first * scale), end = Math.ceil((first + count) * scale);
  const builder = new SegmentBuilder(bucketBits, { from: lo, to: end });
  // Room for every record of the block, kept or not.
  const most = block.runs.reduce((n, run) => n + run.records.length, 0);
  if (scratch.out.length < most) scratch.out = new Uint32Array(most);
  const out = scratch.out;
  let duplicates = 0, words = 0;
  for (let k = 0; k < count; k++) {
    const runs = partitionRuns(block, k);
    const sorted = builder.dedupeSorted(runs, kept, filter, out.subarray(words), scratch.table);
    duplicates += sorted.duplicates;
    words += sorted.words;
  }
  const counts = builder.takeCounts(lo, end);

  // Where this block starts, once the one before it is sorted; then where
  // the next one starts.
  const { ready } = layout;
  const abandoned = ready.length - 1;
  while (Atomics.load(ready, index) === 0) {
    if (Atomics.load(ready, abandoned) === 1) throw new BlockAbandonedError(index);
    Atomics.wait(ready, index, 0, WAIT_MS);
  }
  const start = Number(layout.words[index]);
  layout.words[index + 1] = BigInt(start + words);
  Atomics.store(ready, index + 1, 1);
  Atomics.notify(ready, index + 1);
  let writing = block.name;
  try {
    writeAt(block.file, start * 4, new Uint8Array(out.buffer, 0, words * 4));
    if (block.filterFile !== undefined && count > 0) {
      // The filter regions the block's partitions cover are its alone.
      writing = block.filterName ?? block.filterFile;
      const regionBytes = block.filter.length >>> REGION_BITS;
      const from = ((first << REGION_BITS) / block.partitions) * regionBytes;
      const to = (((first + count) << REGION_BITS) / block.partitions) * regionBytes;
      writeAt(block.filterFile, from, block.filter.subarray(from, to));
    }
  } catch (error) {
    const local = localIoError(error, "write", writing);
    if (local instanceof LocalIoError) return { duplicates, lo, counts, error: local.problem };
    throw error;
  }
  return { duplicates, lo, counts };
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
