/**
 * A day's key segment: the kept rows' keys (key records without the row)
 * sorted by bucket, which later runs of the day deduplicate new objects
 * against (see `key_index.ts`). Built in blocks of partitions on the workers for a whole
 * day in memory (`dedupe_blocks.ts`), or one partition at a time on this
 * thread for a spilled day and for new objects after a base.
 *
 * @module
 */

import {
  createDedupeTable,
  dedupeAfter,
  dedupePartition,
  keptRecords,
  type RecordRun,
} from "./dedupe.ts";
import { recordWords } from "./key_record.ts";
import { abandonLayout, blockRun, blockStarts, segmentLayout } from "./dedupe_blocks.ts";
import {
  holdsKey,
  type KeyFilter,
  readChunk,
  type Segment,
  type SegmentBuilder,
} from "./key_index.ts";
import type { ScanPool } from "./scan_pool.ts";
import type { ScanTaskResult } from "./scan_task.ts";
import type { RowFileSink } from "./day_scan.ts";
import { LocalIoError, withLocalIo } from "../resources/local_io.ts";
import { settled } from "./settled.ts";

/** A parsed day whose key segment is to be built. */
export interface SegmentDay {
  /** Hash partitions of the day. */
  partitions: number;
  /** The parse tasks' results, in processing order. */
  results: ScanTaskResult[];
  /** The day's row number of each task's first row. */
  rowOffset: readonly number[];
  /** One byte a row of the day, 1 when kept (filled here). */
  kept: Uint8Array;
  /** The key filter (new keys are added). */
  filter: KeyFilter;
  /** Counts the segment's buckets, for its index. */
  builder: SegmentBuilder;
  /** Receives the duplicates found as they are. */
  onDuplicates: (n: number) => void;
}

/** Options for {@linkcode segmentOneByOne}. */
export interface OneByOneOptions extends SegmentDay {
  /** Whether the tasks spilled their records to files. */
  spill: boolean;
  /** Whether the base's segments are rewritten with the new keys (else looked up). */
  merge: boolean;
  /** The base's segments, open. */
  segments: readonly Segment[];
  /** Whether the new rows come after a base. */
  base: boolean;
  /** Receives the segment lookups made. */
  onLookups: (n: number) => void;
}

/**
 * The key segment's records of a day deduplicated one partition at a time
 * on this thread, as a stream: a spilled day (partitions read back from
 * their files), or new objects after a base (whose segments the kept rows
 * are looked up in, or, with `merge`, rewritten with the new ones).
 *
 * @example
 * ```ts
 * import { segmentOneByOne, type OneByOneOptions } from "./key_segment.ts";
 * declare const day: OneByOneOptions;
 * for await (const bytes of segmentOneByOne(day)) console.log(bytes.length);
 * ```
 */
export function segmentOneByOne(day: OneByOneOptions): ReadableStream<Uint8Array> {
  const { partitions, results, rowOffset, kept, filter, builder, spill, merge, segments } = day;
  const table = createDedupeTable();
  const partitionBits = Math.log2(partitions);
  let p = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      for (; p < partitions; p++) {
        const runs: RecordRun[] = [];
        for (const [i, result] of results.entries()) {
          const records = spill ? readRecords(result.spilled[p] ?? "") : result.records[p];
          if (records.length > 0) runs.push({ records, rowOffset: rowOffset[i] });
          if (!spill) result.records[p] = new Uint32Array(0); // release as we go
        }
        let chunk: Uint32Array;
        if (merge) {
          // The segments are read whole, a partition at a time, and written as one.
          const earlier = segments.map((s) => readChunk(s, p, partitionBits));
          day.onDuplicates(dedupeAfter(earlier, runs, kept, table));
          chunk = concatWords([...earlier, keptRecords(runs, kept)]);
          filter.add(chunk);
        } else {
          day.onDuplicates(dedupePartition(runs, kept, table));
          if (day.base) {
            const known = dropKnown(runs, kept, filter, segments);
            day.onDuplicates(known.duplicates);
            day.onLookups(known.lookups);
          }
          chunk = builder.sortKept(runs, kept, filter);
        }
        if (chunk.length > 0) {
          const sorted = merge ? builder.sort(chunk) : chunk;
          controller.enqueue(new Uint8Array(sorted.buffer, sorted.byteOffset, sorted.byteLength));
          p++;
          return;
        }
      }
      controller.close();
    },
  }, { highWaterMark: 2 }); // a chunk or two ahead, sorted while the last is written
}

/** Options for {@linkcode segmentInBlocks}. */
export interface InBlocksOptions extends SegmentDay {
  /** Where the segment file goes. */
  output: RowFileSink;
  /** Its name in `output`. */
  name: string;
  /** The key filter's name in `output`: the blocks write it too, each its regions. */
  filterName: string;
}

/**
 * Deduplicates a whole day in memory in blocks of partitions on the
 * workers of `pool`, which write the key segment `name`, each block at its
 * place (see `dedupe_blocks.ts`), and the key filter `filterName`, each
 * block its regions. Returns the segment's size.
 *
 * @example
 * ```ts
 * import { type InBlocksOptions, segmentInBlocks } from "./key_segment.ts";
 * import { ScanPool } from "./scan_pool.ts";
 * declare const day: InBlocksOptions;
 * const bytes = await segmentInBlocks(new ScanPool(2), day);
 * ```
 */
export async function segmentInBlocks(pool: ScanPool, day: InBlocksOptions): Promise<number> {
  const { partitions, results, rowOffset, kept, filter, builder } = day;
  const starts = blockStarts(partitions);
  const layout = segmentLayout(starts.length);
  let size = 0;
  await day.output.writeFileWith(day.filterName, async (filterFile, filterName) => {
    await withLocalIo("create", filterName, async () => {
      await Deno.writeFile(filterFile, new Uint8Array(0));
      await Deno.truncate(filterFile, filter.bytes.length);
    });
    size = await day.output.writeFileWith(day.name, async (temporary, path) => {
      await withLocalIo("create", path, () => Deno.writeFile(temporary, new Uint8Array(0)));
      await runBlocks(temporary, path, filterFile, filterName);
    });
  });
  return size;

  async function runBlocks(
    temporary: string,
    path: string,
    filterFile: string,
    filterName: string,
  ): Promise<void> {
    const blocks = starts.map((first, index) => {
      const count = (starts[index + 1] ?? partitions) - first;
      const block = pool.dedupe({
        kind: "dedupe",
        index,
        first,
        partitions,
        runs: results.map((r, i) => blockRun(r.records, first, count, rowOffset[i])),
        kept,
        filter: filter.bytes,
        bucketBits: builder.bits,
        file: temporary,
        name: path,
        filterFile,
        filterName,
        layout,
      });
      // A failed block: those after it must not wait for it.
      block.catch(() => abandonLayout(layout));
      return block;
    });
    const done = await settled(blocks);
    for (const { error } of done) if (error) throw new LocalIoError(error);
    for (const { duplicates, lo, counts } of done) {
      day.onDuplicates(duplicates);
      builder.addCounts(lo, counts);
    }
  }
}

/**
 * A spilled partition file's records. Read synchronously: there are
 * partitions × tasks of them, and each asynchronous read waits its turn in
 * the runtime's thread pool, which on a busy machine cost more than the read.
 */
function readRecords(path: string): Uint32Array {
  if (path === "") return new Uint32Array(0);
  const bytes = Deno.readFileSync(path);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The words of several arrays, one after another. */
function concatWords(parts: readonly Uint32Array[]): Uint32Array {
  const nonEmpty = parts.filter((part) => part.length > 0);
  if (nonEmpty.length === 1) return nonEmpty[0];
  const out = new Uint32Array(nonEmpty.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of nonEmpty) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Unkeeps the runs' kept rows whose key a segment holds (found through the
 * filter, then one bucket read per segment); returns the duplicates found
 * and the lookups made.
 */
function dropKnown(
  runs: readonly RecordRun[],
  kept: Uint8Array,
  filter: KeyFilter,
  segments: readonly Segment[],
): { duplicates: number; lookups: number } {
  let duplicates = 0, lookups = 0;
  for (const { records, rowOffset } of runs) {
    for (let i = 0, size = 0; i < records.length; i += size) {
      size = recordWords(records, i);
      const row = rowOffset + records[i + size - 1];
      if (kept[row] !== 1 || !filter.mayHold(records, i)) continue;
      lookups++;
      if (segments.some((segment) => holdsKey(segment, records, i))) {
        kept[row] = 0;
        duplicates++;
      }
    }
  }
  return { duplicates, lookups };
}
