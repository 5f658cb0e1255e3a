/**
 * One unit of parsing work: an object, or a byte range of one starting at a
 * line. It runs in a worker (see `scan_worker.ts`) or inline, reads the
 * cached file, scans it with the engine, writes the rows' hours and
 * campaigns to scratch files, and keeps the key records per hash
 * partition, in memory or spilled to scratch files.
 *
 * @module
 */

import { CsvKernel, REGIONS } from "./csv_kernel.ts";
import { KeyPartitions } from "./key_partitions.ts";
import {
  createImpressionScan,
  ImpressionDataError,
  type InvalidRow,
  type KnownColumns,
} from "./scan_impressions.ts";
import { HeaderError } from "./columns.ts";
import { gunzip, GzipError } from "../resources/gunzip.ts";
import { checkFileVersion } from "../resources/file_version.ts";
import { ObjectChangedError } from "../resources/errors.ts";
import {
  isOsError,
  LocalIoError,
  localIoError,
  type LocalIoProblem,
  withLocalIo,
} from "../resources/local_io.ts";

/** A unit of parsing work. */
export interface ScanTask {
  /** Position in processing order. */
  id: number;
  /** Object key (errors name it). */
  key: string;
  /** Cached file, or a folder bucket's file read in place (see `version`). */
  path: string;
  /**
   * For a file read in place, the version its listing said: checked before
   * the first read and after the last (see `file_version.ts`).
   */
  version?: string;
  /** Whether the file is gzip-compressed (never split). */
  gzip: boolean;
  /** First byte (at a line start). */
  start: number;
  /** End byte (exclusive), or -1 for the end of the file. */
  end: number;
  /** Whether this is one byte range of an object split at line starts. */
  split?: boolean;
  /** Columns, for a range after the first (which holds the header). */
  columns?: KnownColumns;
  /** Partition date. */
  date: string;
  /** Hash partitions (a power of two). */
  partitions: number;
  /** Spill key records to files under `scratch` instead of returning them. */
  spill: boolean;
  /** Folder for this task's files. */
  scratch: string;
  /** Invalid rows tolerated before failing (0: fail on the first). */
  maxInvalidRows: number;
}

/** What a task hands back. */
export interface ScanTaskResult {
  /** The task's id. */
  id: number;
  /** Rows scanned. */
  rows: number;
  /** Line breaks consumed (to number later ranges' lines). */
  lines: number;
  /**
   * Whether the cut may have fallen inside a quoted field: a field opened
   * with a quote, or a split range failed. The object is then parsed whole.
   */
  cutUnsafe: boolean;
  /** Campaign ids by the task's own index. */
  campaignIds: string[];
  /** Invalid rows left out, lines counted from the task's start. */
  invalid: InvalidRow[];
  /** Key records per partition (memory mode), else empty. */
  records: Uint32Array[];
  /** Paths of spilled records per partition (spill mode), else empty. */
  spilled: string[];
  /**
   * One hour byte per row: in memory (memory mode, where the records are
   * too) as a piece a block of rows, else the path of a file in the
   * scratch folder.
   */
  hours: Uint8Array[] | string;
  /** One 32-bit little-endian campaign index per row, as `hours` is kept. */
  campaigns: Uint8Array[] | string;
  /** The failure, lines counted from the task's start. */
  error?:
    | { kind: "data"; detail: InvalidRow }
    | { kind: "gzip"; key: string; reason: string }
    | { kind: "io"; problem: LocalIoProblem }
    | { kind: "changed"; target: string }
    | { kind: "header" | "other"; message: string };
}

const BLOCK_ROWS = 1 << 16;
/** Spill once the partitions hold this many words (16 MiB). */
const SPILL_WORDS = 4 << 20;

/**
 * The bytes of the task's range, a chunk at a time. Plain ranges are read
 * into the read regions of `kernel`, the instance that scans them, so that
 * it scans them where they are: a copy of the day's bytes into its memory
 * was some 3% of a run's CPU.
 */
async function* readRange(task: ScanTask, kernel: CsvKernel): AsyncGenerator<Uint8Array> {
  const { version } = task;
  if (version !== undefined) await checkFileVersion(task.path, version);
  const file = await Deno.open(task.path);
  let next: Promise<Uint8Array | null> | undefined;
  try {
    if (task.gzip) {
      yield* gunzip(file.readable, task.key);
      if (version !== undefined) await checkFileVersion(task.path, version);
      return;
    }
    await file.seek(task.start, Deno.SeekMode.Start);
    let left = task.end < 0 ? Infinity : task.end - task.start;
    // Read the next chunk while the caller parses this one, into the
    // kernel's read regions in turn: the scanner copies what it keeps of a
    // chunk, so a region is free again once the caller asks for the chunk
    // after next. They are the thread's earlier tasks' (the kernel is
    // reused): fresh buffers for each cost a page fault per 4 KiB.
    let turn = 0;
    const readNext = async (): Promise<Uint8Array | null> => {
      if (left <= 0) return null;
      // A view made now: it stays valid while the memory does not grow.
      const whole = kernel.region(turn++ % REGIONS);
      const buffer = whole.subarray(0, Math.min(whole.length, left));
      let filled = 0;
      while (filled < buffer.length) {
        const n = await file.read(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      left -= filled;
      if (filled < buffer.length) left = 0;
      return filled > 0 ? buffer.subarray(0, filled) : null;
    };
    next = readNext();
    while (true) {
      const chunk = await next;
      if (chunk === null) break;
      next = readNext();
      yield chunk;
    }
    // Every byte of the range was read from the listed version.
    if (version !== undefined) await checkFileVersion(task.path, version);
  } finally {
    await next?.catch(() => null); // a read still in flight when the caller stopped
    try {
      file.close();
    } catch {
      // closed by the stream
    }
  }
}

/** Appends byte chunks to a file, buffering small writes. */
class Appender {
  #file: Deno.FsFile;
  #path: string;
  constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }
  static async open(path: string): Promise<Appender> {
    const file = await withLocalIo(
      "create",
      path,
      () => Deno.open(path, { write: true, create: true, append: true }),
    );
    return new Appender(file, path);
  }
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    try {
      while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
    } catch (error) {
      throw localIoError(error, "write", this.#path);
    }
  }
  close(): void {
    this.#file.close();
  }
}

function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Runs a task to completion; failures come back in `error`, not thrown.
 *
 * @example
 * ```ts
 * import { runScanTask, type ScanTask } from "./scan_task.ts";
 * declare const task: ScanTask;
 * const result = await runScanTask(task, (bytes, rows) => console.log(bytes, rows));
 * const failed = result.error !== undefined;
 * ```
 */
export async function runScanTask(
  task: ScanTask,
  onProgress?: (bytes: number, rows: number) => void,
): Promise<ScanTaskResult> {
  const base = `${task.scratch}/t${task.id}`;
  const hoursFile = `${base}.hours`, campaignsFile = `${base}.campaigns`;
  const result: ScanTaskResult = {
    id: task.id,
    rows: 0,
    lines: 0,
    cutUnsafe: false,
    campaignIds: [],
    invalid: [],
    records: [],
    spilled: [],
    hours: task.spill ? hoursFile : [],
    campaigns: task.spill ? campaignsFile : [],
  };
  let hoursOut: Appender | null = null;
  let campaignsOut: Appender | null = null;
  const spillOut: (Deno.FsFile | null)[] = new Array(task.partitions).fill(null);
  const partitions = new KeyPartitions(task.partitions);
  const pending: Uint8Array[][] = [];
  // The kernel that scans the task, and into whose memory it is read.
  const kernel = CsvKernel.acquire();
  try {
    await withLocalIo(
      "create folder",
      task.scratch,
      () => Deno.mkdir(task.scratch, { recursive: true }),
    );
    // Spilling, the columns go to scratch files as the records do; else
    // they stay in memory, one piece a block.
    const hoursPieces: Uint8Array[] = [], campaignPieces: Uint8Array[] = [];
    if (task.spill) {
      hoursOut = await Appender.open(hoursFile);
      campaignsOut = await Appender.open(campaignsFile);
    }
    const scan = createImpressionScan(
      {
        key: task.key,
        date: task.date,
        columns: task.columns,
        kernel,
        onInvalid: task.maxInvalidRows > 0
          ? (row) => {
            result.invalid.push(row);
            if (result.invalid.length > task.maxInvalidRows) throw new ImpressionDataError(row);
          }
          : undefined,
      },
      {
        blockRows: BLOCK_ROWS,
        records: partitions,
        onBlock(block) {
          const hours = asBytes(block.hours).slice(), campaigns = asBytes(block.campaigns).slice();
          if (task.spill) pending.push([hours, campaigns]);
          else hoursPieces.push(hours), campaignPieces.push(campaigns);
        },
      },
    );
    const drain = async () => {
      for (const [hoursBlock, campaignsBlock] of pending.splice(0)) {
        await hoursOut!.write(hoursBlock);
        await campaignsOut!.write(campaignsBlock);
      }
      if (task.spill && partitions.words >= SPILL_WORDS) spill();
    };
    // Synchronous, like the reads in `day_scan.ts`: one small write per
    // partition, where waiting for the runtime's thread pool cost more than
    // the write on a busy machine.
    const spill = () => {
      const records = partitions.take();
      for (let p = 0; p < records.length; p++) {
        if (records[p].length === 0) continue;
        spillOut[p] ??= Deno.openSync(`${base}.p${p}`, { write: true, create: true, append: true });
        const bytes = asBytes(records[p]);
        let written = 0;
        while (written < bytes.length) written += spillOut[p]!.writeSync(bytes.subarray(written));
      }
    };
    let read = 0;
    for await (const chunk of readRange(task, kernel)) {
      scan.push(chunk);
      await drain();
      read += chunk.length;
      onProgress?.(read, scan.rows);
    }
    const summary = scan.finish();
    await drain();
    if (task.spill) {
      spill();
      result.spilled = spillOut.map((_, p) => (spillOut[p] ? `${base}.p${p}` : ""));
    } else {
      result.records = partitions.take({ shared: true });
      result.hours = hoursPieces;
      result.campaigns = campaignPieces;
    }
    result.rows = summary.rows;
    result.lines = summary.lines;
    result.campaignIds = summary.campaignIds;
    result.cutUnsafe = summary.sawQuotedField;
  } catch (error) {
    // A range cut inside a quoted field fails or mis-parses; it is redone whole.
    if (task.split) result.cutUnsafe = true;
    if (error instanceof ImpressionDataError) {
      result.error = { kind: "data", detail: error.detail };
    } else if (error instanceof LocalIoError || isOsError(error)) {
      // The scratch folder's disk (full, read-only), or the cached file unreadable.
      const local = localIoError(error, "read", task.path) as LocalIoError;
      result.error = { kind: "io", problem: local.problem };
    } else if (error instanceof HeaderError) {
      result.error = { kind: "header", message: error.message };
    } else if (error instanceof GzipError) {
      result.error = { kind: "gzip", key: error.key, reason: error.reason };
    } else if (error instanceof ObjectChangedError) {
      result.error = { kind: "changed", target: error.target };
    } else {
      result.error = { kind: "other", message: (error as Error)?.message ?? String(error) };
    }
  } finally {
    hoursOut?.close();
    campaignsOut?.close();
    for (const out of spillOut) out?.close();
    CsvKernel.release(kernel); // no read into it is left in flight
  }
  return result;
}
