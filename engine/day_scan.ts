/**
 * Parses and deduplicates a day's cached raw files within a memory budget,
 * on several cores.
 *
 * 1. Plan: one task per object; a large uncompressed object is split into
 *    byte ranges at line starts (a split is kept only if the object has no
 *    quote byte, since a quoted field may hold a line break; otherwise it is
 *    parsed whole).
 * 2. Parse: tasks run in Deno workers (or inline with `workers: 0`), each
 *    writing its rows' hours and campaigns to scratch files and splitting
 *    key records (hash and id bytes) into partitions, kept in memory or, when the day's keys
 *    would not fit the budget, spilled to scratch files. Objects may be
 *    added one at a time as they arrive (while others still download);
 *    their tasks start at once.
 * 3. Deduplicate one partition at a time, in processing order, so the first
 *    row of a key wins exactly as in a single sequential pass.
 * 4. Write the cached form: hours, campaigns (one global dictionary) and
 *    kept flags, one entry each per row, and the key records of the kept
 *    rows per partition (a key segment), which a later scan of objects that
 *    arrived after these deduplicates against (see `base`).
 *
 * @module
 */

import { recordSize } from "./key_record.ts";
import { bucketBits, KeyFilter, type Segment, SegmentBuilder } from "./key_index.ts";
import { type SegmentDay, segmentInBlocks, segmentOneByOne } from "./key_segment.ts";
import { settled } from "./settled.ts";
import { packUuid, UUID_KEY } from "./id_key.ts";
import { type DayStats, dayStats, type ObjectRows } from "./impression_day.ts";
import { resolveColumns } from "./columns.ts";
import { ImpressionDataError, type InvalidRow } from "./scan_impressions.ts";
import { ScanPool } from "./scan_pool.ts";
import type { ScanTask, ScanTaskResult } from "./scan_task.ts";
import { isGzipKey } from "../resources/object_file.ts";
import { GzipError } from "../resources/gunzip.ts";
import { escapeText } from "./escape_text.ts";
import { LocalIoError } from "../resources/local_io.ts";
import { ObjectChangedError } from "../resources/errors.ts";
import { checkFileVersion } from "../resources/file_version.ts";

/** An object of the day as the scanner reads it: a local file and what its listing said. */
export interface DayObject {
  /** The object's key, for messages. */
  key: string;
  /** Its size in bytes. */
  size: number;
  /** Its version (an ETag): a prefetched parse is used only for the same version. */
  etag: string;
  /** Where its bytes are on this machine. */
  path: string;
  /**
   * Whether `path` is a folder bucket's own file, read in place: every read
   * checks it still has version `etag` (see `file_version.ts`).
   */
  inPlace?: boolean;
  /** Whether it is gzip-compressed. */
  gzip: boolean;
  /** Header names as written (untrimmed). */
  header: string[];
}

/** Where the scanner writes the per-row files it keeps (an entry writer fits). */
export interface RowFileSink {
  /** Streams a file in, verified by checksum when asked. */
  writeStream(
    name: string,
    stream: ReadableStream<Uint8Array>,
    options?: { checksum?: boolean },
  ): Promise<number>;
  /** Writes a whole file. */
  writeFile(name: string, data: Uint8Array): Promise<void>;
  /**
   * Has `fill` write a file at the temporary path it is given (`path`, where
   * it goes, is for messages), then puts it in place; returns its size.
   */
  writeFileWith(
    name: string,
    fill: (temporary: string, path: string) => Promise<void>,
  ): Promise<number>;
}

/** A day with more invalid rows than allowed. */
export class TooManyInvalidRowsError extends ImpressionDataError {}

/** Options for {@linkcode DayScanner.open}. */
export interface DayScannerOptions {
  /** All the day's objects in processing order (keys and sizes, to plan). */
  listing: readonly { key: string; size: number; etag: string }[];
  /** Partition date. */
  date: string;
  /** Invalid rows tolerated (0: fail on the first). */
  maxInvalidRows: number;
  /** Worker threads (0: parse on this thread). */
  workers: number;
  /** Bytes the day's key records may take before spilling. */
  memoryBudget: number;
  /** Scratch folder, emptied first and removed afterwards. */
  scratchDir: string;
  /** Bytes parsed so far, of `total`. */
  onProgress?: (done: number, total: number, rows: number) => void;
  /** Target bytes per range when splitting large objects. */
  splitBytes?: number;
  /**
   * The day so far, when only objects that sort after it are scanned: its
   * rows come first, and a new row whose key it holds is a duplicate.
   */
  base?: DayBase;
  /** Entry file name (without extension) of the key segment written. */
  keysName?: string;
  /** Entry file name of the key filter written. */
  filterName?: string;
  /**
   * Entry file names of the rows' hours, campaigns and kept flags
   * (`hours.bin`, `campaigns.bin` and `kept.bin` by default). With a base
   * whose segments are not merged, they hold only the new rows.
   */
  rowFiles?: { hours: string; campaigns: string; kept: string };
  /** Write the base's segments and the new records as one segment. */
  mergeSegments?: boolean;
}

/** The day as scanned so far, from the previous entry. */
export interface DayBase {
  /** Rows so far. */
  rows: number;
  /** Campaign dictionary so far (new ids are appended). */
  campaignIds: string[];
  /** Row ranges of the objects so far. */
  objects: ObjectRows[];
  /** Invalid rows so far. */
  invalid: InvalidRow[];
  /** Figures of the rows so far. */
  stats: DayStats;
  /** Hash partitions of the key segments (new records use the same). */
  partitions: number;
  /** Files of hours, campaigns and kept flags so far, each in row order. */
  files: { hours: string[]; campaigns: string[]; kept: string[] };
  /** Key segments: records of kept rows by bucket, and their indexes (see `key_index.ts`). */
  segments: { path: string; index: Float64Array }[];
  /** The filter of every key in the segments. */
  filter: string;
}

/** Options for {@linkcode scanDay}. */
export interface DayScanOptions extends Omit<DayScannerOptions, "listing"> {
  /** The day's objects in processing order, with cached paths. */
  objects: readonly DayObject[];
  /** Where `hours.bin`, `campaigns.bin` and `kept.bin` go. */
  output: RowFileSink;
}

/** What {@linkcode scanDay} produced. */
export interface DayScan {
  /** Rows read, including invalid ones. */
  rows: number;
  /** Canonical campaign ids; `campaigns.bin` indexes into them. */
  campaignIds: string[];
  /** One byte per row: 1 when kept. */
  kept: Uint8Array;
  /** Per row: UTC hour 0-23, -1 for another date, -2 for invalid (as in `hours.bin`). */
  hours: Int8Array;
  /** Row ranges per object. */
  objects: ObjectRows[];
  /** Figures. */
  stats: DayStats;
  /** Invalid rows left out, with their lines in the file. */
  invalid: InvalidRow[];
  /** Whether key records were spilled to disk. */
  spilled: boolean;
  /** Hash partitions used. */
  partitions: number;
  /** Parse tasks run (objects, or byte ranges of large ones). */
  tasks: number;
  /** Split objects parsed again whole because they hold quotes. */
  reparsed: number;
  /** Rows scanned by this scan (all of them without a base). */
  newRows: number;
  /** Bytes of the key segment written. */
  keysBytes: number;
  /** Keys looked up in the base's segments (their filter bit was set). */
  lookups: number;
}

/**
 * Memory per byte of key records in memory mode: the records sit in buffers
 * of their exact size (see `key_partitions.ts`), plus each running task's
 * 4 MiB chunks while it parses.
 */
const MEMORY_PER_RECORD_BYTE = 1.1;
/**
 * Share of the budget the key records may take in memory; the rest is for
 * the kept flags and hours (2 bytes a row), the parsers' buffers and the
 * runtime itself.
 */
const RECORD_SHARE = 0.7;
/** Bytes a row of the hour and campaign columns a task keeps in memory. */
const COLUMN_BYTES = 5;
/** Below this many bytes a day is parsed on the calling thread. */
const SMALL_DAY_BYTES = 4 * 1024 * 1024;
/** Below this many bytes a day of one object is parsed on the calling thread. */
const ONE_TASK_INLINE_BYTES = 64 * 1024 * 1024;

/** The smallest row size assumed when estimating rows from bytes. */
const MIN_ROW_BYTES = 24;
/** Bytes of an object's start that {@linkcode sampleRows} measures. */
const SAMPLE_BYTES = 64 * 1024;
/** The id length assumed when there is nothing to measure. */
const DEFAULT_ID_BYTES = 40;

/** What the start of an object says about its rows. */
interface RowSample {
  /** Bytes per row (a third less than measured, for safety). */
  rowBytes: number;
  /** Bytes of a row's key record (see `key_record.ts`; a whole-second instant). */
  recordBytes: number;
}

/**
 * Bytes per row and per key record, measured on the first 64 KiB of a
 * plain object (some hundreds of rows, read byte by byte before any parse
 * task starts); 60 and a 40-byte id when there is nothing to measure.
 */
async function sampleRows(object: DayObject): Promise<RowSample> {
  const guess = { rowBytes: 60, recordBytes: recordSize(DEFAULT_ID_BYTES, 0, 0) * 4 };
  if (object.gzip || object.size === 0 || object.header.length === 0) return guess;
  const file = await Deno.open(object.path);
  try {
    const buffer = new Uint8Array(SAMPLE_BYTES);
    const n = (await file.read(buffer)) ?? 0;
    let id: number, datetime: number;
    try {
      ({ id, datetime } = resolveColumns(object.key, object.header));
    } catch {
      return guess; // the scan reports the header
    }
    let lines = 0, sampled = 0, sampledWords = 0;
    const uuid = new Uint32Array(4);
    let field = 0, fieldStart = 0, idStart = 0, idLength = -1, quoted = false, fraction = false;
    for (let i = 0; i < n; i++) {
      const b = buffer[i];
      if (b === 0x22) quoted = true;
      else if (b === 0x2e && field === datetime) fraction = true;
      else if (b === 0x2c || b === 0x0a) {
        if (field === id) idStart = fieldStart, idLength = i - fieldStart;
        field++;
        fieldStart = i + 1;
      }
      if (b !== 0x0a) continue;
      // The header is line 0; lines with a quote are not measured. A
      // datetime with a fraction of a second counts as one whose record
      // keeps nanoseconds (three words for the instant, not one).
      if (lines > 0 && !quoted && idLength >= 0) {
        sampled++;
        const packed = packUuid(buffer, idStart, idStart + idLength, uuid, 0);
        sampledWords += recordSize(packed ? UUID_KEY : idLength, 0, fraction ? 1 : 0);
      }
      lines++;
      field = 0, fieldStart = i + 1, idLength = -1, quoted = false, fraction = false;
    }
    if (lines < 16) return guess;
    return {
      rowBytes: Math.max(MIN_ROW_BYTES, (n / lines) * 0.66),
      recordBytes: sampled === 0 ? guess.recordBytes : (sampledWords / sampled) * 4,
    };
  } finally {
    file.close();
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Offset just after the first line break at or after `at` (or the size). */
async function lineStartAfter(path: string, at: number, size: number): Promise<number> {
  const file = await Deno.open(path);
  try {
    await file.seek(at, Deno.SeekMode.Start);
    const buffer = new Uint8Array(64 * 1024);
    let position = at;
    while (position < size) {
      const n = await file.read(buffer);
      if (n === null) break;
      const lf = buffer.subarray(0, n).indexOf(0x0a);
      if (lf >= 0) return position + lf + 1;
      position += n;
    }
    return size;
  } finally {
    file.close();
  }
}

/** A scan task and which object (by processing order) it reads. */
type DayTask = ScanTask & { object: number };

/** How the day's key records are laid out. */
interface Layout {
  partitions: number;
  spill: boolean;
}

/**
 * Parses a day's objects as they are added and, once all are in,
 * deduplicates them; see the module documentation. Close it (or let
 * {@linkcode DayScanner.finish} close it) to stop the workers and remove
 * the scratch files.
 *
 * @example
 * ```ts
 * import { DayScanner } from "./day_scan.ts";
 * declare const options: Parameters<typeof DayScanner.open>[0];
 * declare const objects: Parameters<DayScanner["finish"]>[0];
 * declare const output: Parameters<DayScanner["finish"]>[1];
 * const scanner = await DayScanner.open(options);
 * for (const [i, object] of objects.entries()) await scanner.add(i, object);
 * const day = await scanner.finish(objects, output);
 * ```
 */
export class DayScanner {
  #options: DayScannerOptions;
  #pool: ScanPool;
  #totalBytes: number;
  #layout: Layout | undefined;
  #added: DayObject[] = [];
  #tasks: { task: DayTask; result: Promise<ScanTaskResult> }[][] = [];
  #progress = new Map<number, [number, number]>();
  #nextId = 0;
  #adding: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(options: DayScannerOptions) {
    this.#options = options;
    this.#totalBytes = options.listing.reduce(
      (n, o) => n + (isGzipKey(o.key) ? o.size * 8 : o.size),
      0,
    );
    // Starting workers costs more than parsing a small day on this thread,
    // or one object of a few new ones (one task: a worker would not help).
    const oneTask = options.listing.length === 1 && this.#totalBytes < ONE_TASK_INLINE_BYTES;
    this.#pool = new ScanPool(
      this.#totalBytes < SMALL_DAY_BYTES || oneTask ? 0 : options.workers,
    );
  }

  /** A scanner with an empty scratch folder. */
  static async open(options: DayScannerOptions): Promise<DayScanner> {
    await Deno.remove(options.scratchDir, { recursive: true }).catch(() => {});
    return new DayScanner(options);
  }

  /**
   * Plans the tasks of the object at `index` (in processing order) and
   * starts them. Objects may come in any order, each once.
   */
  add(index: number, object: DayObject): Promise<void> {
    const added = this.#adding.then(() => this.#add(index, object));
    this.#adding = added.catch(() => {});
    return added;
  }

  async #add(index: number, object: DayObject): Promise<void> {
    if (this.#closed) throw new Error("the day scanner is closed");
    if (this.#added[index]) throw new Error(`${escapeText(object.key)} was added twice`);
    this.#layout ??= await this.#planLayout(object);
    const tasks = await this.#planTasks(index, object, this.#layout);
    this.#added[index] = object;
    this.#tasks[index] = tasks.map((task) => {
      const result = this.#pool.run(task, (bytes, rows) => this.#onProgress(task.id, bytes, rows));
      result.catch(() => {}); // awaited by finish, or dropped by close
      return { task, result };
    });
  }

  /** Spill or not, and how many partitions, from the day's estimated rows. */
  async #planLayout(first: DayObject): Promise<Layout> {
    const budget = this.#options.memoryBudget;
    const sample = await sampleRows(first);
    const estimatedRows = this.#totalBytes / sample.rowBytes;
    // With the records, each row's hour and campaign stay in memory until
    // written (see `scan_task.ts`).
    const recordBytes = estimatedRows * (sample.recordBytes + COLUMN_BYTES);
    // The rest of the budget: the kept flags and hours (2 bytes a row), the
    // parsers' buffers and the runtime itself.
    const spill = recordBytes * MEMORY_PER_RECORD_BYTE > budget * RECORD_SHARE;
    const base = this.#options.base;
    if (base) return { partitions: base.partitions, spill };
    // Spilled partitions are read back one at a time: size each at ~1/8 of the budget.
    const partitions = spill
      ? Math.min(4096, Math.max(256, nextPowerOfTwo((recordBytes * 8) / budget)))
      // In memory: about 32,768 keys a partition, whose records (some 1.3 MB)
      // stay in the CPU's cache while sorted into buckets and deduplicated;
      // fewer partitions make placing each task's records cheaper (a 10M
      // day took 512 instead of 2,048: about 5k fewer page faults).
      : Math.min(4096, Math.max(256, nextPowerOfTwo(estimatedRows / 32768)));
    return { partitions, spill };
  }

  async #planTasks(index: number, object: DayObject, layout: Layout): Promise<DayTask[]> {
    const options = this.#options;
    const splitBytes = options.splitBytes ?? 64 * 1024 * 1024;
    const tasks: DayTask[] = [];
    const add = (range: Partial<ScanTask>) =>
      tasks.push({
        date: options.date,
        ...layout,
        scratch: options.scratchDir,
        maxInvalidRows: options.maxInvalidRows,
        id: this.#nextId++,
        object: index,
        key: object.key,
        path: object.path,
        version: object.inPlace ? object.etag : undefined,
        gzip: object.gzip,
        start: 0,
        end: -1,
        ...range,
      });
    // Splitting pays only with several workers (or when asked for, in tests).
    const split = !object.gzip && (options.workers >= 2 || options.splitBytes !== undefined);
    const ranges = split ? Math.floor(object.size / splitBytes) : 1;
    if (ranges < 2 || object.header.length === 0) {
      add({});
      return tasks;
    }
    const columns = resolveColumns(object.key, object.header);
    let start = 0;
    for (let r = 1; r <= ranges && start < object.size; r++) {
      const end = r === ranges
        ? object.size
        : await lineStartAfter(object.path, Math.floor((object.size * r) / ranges), object.size);
      if (end <= start) continue;
      add({ start, end, split: true, columns: start === 0 ? undefined : { ...columns } });
      start = end;
    }
    // The cuts were found in the listed version of a file read in place.
    if (object.inPlace) await checkFileVersion(object.path, object.etag);
    return tasks;
  }

  #onProgress(id: number, bytes: number, rows: number): void {
    this.#progress.set(id, [bytes, rows]);
    let done = 0, rowsDone = 0;
    for (const [b, r] of this.#progress.values()) {
      done += b;
      rowsDone += r;
    }
    this.#options.onProgress?.(Math.min(done, this.#totalBytes), this.#totalBytes, rowsDone);
  }

  /**
   * Adds the objects not added yet, waits for every task, deduplicates and
   * writes the cached columns to `output`; then closes the scanner.
   */
  async finish(objects: readonly DayObject[], output: RowFileSink): Promise<DayScan> {
    try {
      await this.#adding;
      for (const [index, object] of objects.entries()) {
        const added = this.#added[index];
        if (!added) await this.add(index, object);
        else if (added.key !== object.key || added.etag !== object.etag) {
          throw new Error(
            `prefetched ${escapeText(added.key)} is not ${escapeText(object.key)} (ETag ${
              escapeText(object.etag)
            })`,
          );
        }
      }
      if (this.#added.length > objects.length) {
        throw new Error(`${this.#added.length} objects were prefetched, ${objects.length} listed`);
      }
      return await this.#finish(objects, output);
    } finally {
      await this.close();
    }
  }

  async #finish(objects: readonly DayObject[], output: RowFileSink): Promise<DayScan> {
    const options = this.#options;
    const base = options.base;
    const { partitions, spill } = this.#layout ??
      { partitions: base?.partitions ?? 256, spill: false };
    const planned = this.#tasks.flat();
    let tasks = planned.map((p) => p.task);
    let results = await Promise.all(planned.map((p) => p.result));

    // A split object with a quoted field may have been cut inside it:
    // parse such objects again, whole.
    const recut = new Set(
      tasks.filter((t, i) => t.split && results[i].cutUnsafe).map((t) => t.object),
    );
    if (recut.size > 0) {
      const next: { task: DayTask; result: ScanTaskResult | Promise<ScanTaskResult> }[] = [];
      for (const [i, task] of tasks.entries()) {
        if (!recut.has(task.object)) next.push({ task, result: results[i] });
        else if (task.start === 0) {
          const whole: DayTask = {
            ...task,
            id: this.#nextId++,
            end: -1,
            split: false,
            columns: undefined,
            scratch: `${options.scratchDir}/whole`,
          };
          next.push({ task: whole, result: this.#pool.run(whole, () => {}) });
        }
      }
      tasks = next.map((n) => n.task);
      results = await Promise.all(next.map((n) => n.result));
    }

    // The first failure in processing order wins; lines become file lines.
    const lineBase = new Array<number>(tasks.length).fill(0);
    for (let i = 1; i < tasks.length; i++) {
      if (tasks[i].object === tasks[i - 1].object) {
        lineBase[i] = lineBase[i - 1] + results[i - 1].lines;
      }
    }
    const fileLine = (i: number, row: InvalidRow): InvalidRow => ({
      ...row,
      line: row.line === 0 ? 0 : row.line + lineBase[i],
    });
    for (const [i, result] of results.entries()) {
      const error = result.error;
      if (!error) continue;
      if (error.kind === "data") throw new ImpressionDataError(fileLine(i, error.detail));
      if (error.kind === "gzip") throw new GzipError(error.key, error.reason);
      if (error.kind === "io") throw new LocalIoError(error.problem);
      if (error.kind === "changed") throw new ObjectChangedError(error.target);
      throw new Error(error.message);
    }
    const invalid = [
      ...(base?.invalid ?? []),
      ...results.flatMap((r, i) => r.invalid.map((row) => fileLine(i, row))),
    ];
    if (invalid.length > options.maxInvalidRows) {
      const row = invalid[options.maxInvalidRows];
      throw new TooManyInvalidRowsError({
        ...row,
        reason: `more than ${options.maxInvalidRows} invalid rows; this one: ${row.reason}`,
      });
    }

    // Row numbering, object ranges and one campaign dictionary.
    const rowOffset: number[] = [];
    const baseRows = base?.rows ?? 0;
    let rows = baseRows;
    const newObjects: ObjectRows[] = objects.map((o) => ({ key: o.key, offset: rows, rows: 0 }));
    for (const [i, result] of results.entries()) {
      rowOffset.push(rows);
      const object = newObjects[tasks[i].object];
      if (object.rows === 0) object.offset = rows;
      object.rows += result.rows;
      rows += result.rows;
    }
    const dayObjects = [...(base?.objects ?? []), ...newObjects];
    const campaignIds: string[] = [...(base?.campaignIds ?? [])];
    const campaignIndex = new Map<string, number>(campaignIds.map((id, i) => [id, i]));
    const remaps = results.map((r) =>
      Uint32Array.from(r.campaignIds, (id) => {
        let index = campaignIndex.get(id);
        if (index === undefined) {
          index = campaignIds.length;
          campaignIds.push(id);
          campaignIndex.set(id, index);
        }
        return index;
      })
    );

    // Deduplicate partition by partition, in processing order, after the
    // base's kept rows; the kept rows' records become the new key segment.
    // A whole day in memory goes in blocks of partitions, on the workers.
    const inBlocks = !base && !spill;
    const kept = new Uint8Array(inBlocks ? new SharedArrayBuffer(rows) : new ArrayBuffer(rows));
    if (base) readChunks(base.files.kept, kept.subarray(0, baseRows));
    let duplicates = 0, lookups = 0;
    const merge = base !== undefined && (options.mergeSegments ?? false);
    const budget = options.memoryBudget;
    const builder = new SegmentBuilder(
      bucketBits(base && !merge ? rows - baseRows : rows, budget / 16),
    );
    const filter = base && !merge
      ? new KeyFilter(Deno.readFileSync(base.filter))
      : KeyFilter.sized(rows, budget / 8, { shared: inBlocks });
    const segments: Segment[] = (base?.segments ?? []).map((s) => ({
      file: Deno.openSync(s.path),
      index: s.index,
    }));
    const keysName = options.keysName ?? "dedupe/keys-0";
    const filterName = options.filterName ?? "dedupe/filter-0.bin";
    const day: SegmentDay = {
      partitions,
      results,
      rowOffset,
      kept,
      filter,
      builder,
      onDuplicates: (n) => duplicates += n,
    };
    let writeSegment: () => Promise<number>;
    if (inBlocks) {
      writeSegment = () =>
        segmentInBlocks(this.#pool, { ...day, output, name: `${keysName}.bin`, filterName });
    } else {
      const keys = segmentOneByOne({
        ...day,
        spill,
        merge,
        segments,
        base: base !== undefined,
        onLookups: (n) => lookups += n,
      });
      writeSegment = () => output.writeStream(`${keysName}.bin`, keys);
    }
    // After a base whose segments stay, the cached columns and kept flags
    // are only the new rows' (the base's files stay too); otherwise all rows'.
    const append = base !== undefined && !merge;
    const names = options.rowFiles ??
      { hours: "hours.bin", campaigns: "campaigns.bin", kept: "kept.bin" };
    const writeKeys = async (): Promise<number> => {
      let bytes: number;
      try {
        bytes = await writeSegment();
      } finally {
        for (const s of segments) s.file.close();
      }
      // The kept flags are final once the segment is: the three smaller
      // files are written side by side.
      await settled<unknown>([
        output.writeFile(`${keysName}.index`, new Uint8Array(builder.index().buffer)),
        // The blocks wrote the filter as they went.
        inBlocks ? Promise.resolve(0) : output.writeStream(
          filterName,
          ReadableStream.from([filter.bytes]),
        ),
        output.writeFile(names.kept, append ? kept.subarray(baseRows) : kept),
      ]);
      return bytes;
    };

    // The cached columns, in row order, written while the key segment is.
    const hours = new Int8Array(rows); // kept in memory too: downstream counts read it
    if (base) readChunks(base.files.hours, new Uint8Array(hours.buffer, 0, baseRows));
    const copied = append ? [] : base?.files.hours ?? [];
    const firstRow = append ? baseRows : 0;
    const hoursStream = concatFiles(
      [...copied, ...results.flatMap((r) => columnSources(r.hours))],
      (chunk, row) => {
        hours.set(new Int8Array(chunk.buffer, chunk.byteOffset, chunk.length), firstRow + row);
        return chunk;
      },
    );
    // Each source's remap into the day's dictionary; none for the base's,
    // already in it.
    const baseCampaigns = append ? [] : base?.files.campaigns ?? [];
    const sourceRemaps = [
      ...baseCampaigns.map(() => null),
      ...results.flatMap((r, i) => columnSources(r.campaigns).map(() => remaps[i])),
    ];
    const campaignsStream = concatFiles(
      [...baseCampaigns, ...results.flatMap((r) => columnSources(r.campaigns))],
      (chunk, _row, file) => {
        const remap = sourceRemaps[file];
        if (remap === null) return chunk;
        const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 4);
        for (let i = 0; i < words.length; i++) words[i] = remap[words[i]] ?? 0;
        return chunk;
      },
      4,
    );
    // Both end before either's failure is reported: nothing is left writing.
    const [keysBytes] = await settled([
      writeKeys(),
      (async () => {
        await output.writeStream(names.hours, hoursStream, { checksum: true });
        await output.writeStream(names.campaigns, campaignsStream, { checksum: true });
        return 0;
      })(),
    ]);
    return {
      rows,
      campaignIds,
      kept: inBlocks ? kept.slice() : kept, // not on a shared buffer
      hours,
      objects: dayObjects,
      stats: addStats(
        base?.stats,
        // The base's rows are as they were: only the new ones are counted.
        dayStats({
          rows: rows - baseRows,
          hours: hours.subarray(baseRows),
          kept: kept.subarray(baseRows),
        }, duplicates),
      ),
      invalid,
      spilled: spill,
      partitions,
      tasks: tasks.length,
      reparsed: recut.size,
      newRows: rows - baseRows,
      keysBytes,
      lookups,
    };
  }

  /** Stops the workers and removes the scratch folder; safe to call again. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.close();
    await this.#adding;
    await Deno.remove(this.#options.scratchDir, { recursive: true }).catch(() => {});
  }
}

/** Fills `into` with the files at `paths`, one after another. */
function readChunks(paths: readonly string[], into: Uint8Array): void {
  let filled = 0;
  for (const path of paths) {
    const file = Deno.openSync(path);
    try {
      while (true) {
        const n = file.readSync(into.subarray(filled));
        if (n === null || n === 0) break;
        filled += n;
      }
    } finally {
      file.close();
    }
  }
  if (filled !== into.length) throw new Error(`${paths.at(-1)} ends early`);
}

/** The figures of two parts of a day, or of the second alone. */
function addStats(a: DayStats | undefined, b: DayStats): DayStats {
  if (!a) return b;
  return {
    rowsIn: a.rowsIn + b.rowsIn,
    rowsOut: a.rowsOut + b.rowsOut,
    duplicates: a.duplicates + b.duplicates,
    lateRows: a.lateRows + b.lateRows,
    invalidRows: a.invalidRows + b.invalidRows,
  };
}

/**
 * Parses and deduplicates the day in one go; see the module documentation.
 *
 * @example
 * ```ts
 * import { scanDay } from "./day_scan.ts";
 * declare const options: Parameters<typeof scanDay>[0];
 * const day = await scanDay({ ...options, date: "2021-01-30", maxInvalidRows: 0, workers: 2 });
 * ```
 */
export async function scanDay(options: DayScanOptions): Promise<DayScan> {
  const { objects, output, ...rest } = options;
  const scanner = await DayScanner.open({ ...rest, listing: objects });
  return await scanner.finish(objects, output);
}

/** A task's column as {@linkcode concatFiles} sources: its file, or its pieces in memory. */
function columnSources(column: Uint8Array[] | string): (string | Uint8Array)[] {
  return typeof column === "string" ? [column] : column;
}

/**
 * Streams files, or pieces kept in memory, one after another through `map`
 * (chunks aligned to `unit` bytes).
 */
function concatFiles(
  sources: (string | Uint8Array)[],
  map: (chunk: Uint8Array, firstRow: number, file: number) => Uint8Array,
  unit = 1,
): ReadableStream<Uint8Array> {
  let file = 0;
  let handle: Deno.FsFile | null = null;
  let row = 0;
  const take = (chunk: Uint8Array, name: string): Uint8Array => {
    if (chunk.length % unit !== 0) throw new Error(`${name} is not a whole number of rows`);
    const mapped = map(chunk, row, file);
    row += chunk.length / unit;
    return mapped;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (file < sources.length) {
        const source = sources[file];
        if (typeof source !== "string") {
          // Kept in memory: one piece.
          if (source.length > 0) controller.enqueue(take(source, `column ${file}`));
          file++;
          if (source.length > 0) return;
          continue;
        }
        handle ??= await Deno.open(source);
        const buffer = new Uint8Array(1 << 20);
        let filled = 0;
        while (filled < buffer.length) {
          const n = await handle.read(buffer.subarray(filled));
          if (n === null) break;
          filled += n;
        }
        if (filled > 0) {
          controller.enqueue(take(buffer.subarray(0, filled), source));
          return;
        }
        handle.close();
        handle = null;
        file++;
      }
      controller.close();
    },
    cancel() {
      handle?.close();
    },
  });
}
