/**
 * `deduped_impressions`: every row of the day's objects, parsed and
 * validated, with duplicates (same `IMPRESSION_ID` and instant) removed
 * across all files; the first row in processing order is kept.
 *
 * The cached form is compact: per row, the UTC hour (1 byte), the campaign
 * (4 bytes) and whether it was kept (1 byte), beside the raw files already
 * in `raw_partition`'s entry, so downstream assets can still read every
 * column of the kept rows. Parsing uses both cores and stays within the
 * memory budget (see `engine/day_scan.ts`); it starts on each raw object as soon
 * as `raw_partition` has it, while the others still download.
 *
 * A day that keeps arriving is deduplicated incrementally: when the listing
 * has only grown since the cached entry and the new objects sort after the
 * processed ones, only they are parsed, against the key records of the rows
 * kept so far (`dedupe/keys-N.bin`, local scratch like the other files), and
 * the value is the one a full run would give (see `_incremental.ts`).
 *
 * @module
 */

import type { DayStats, ObjectRows } from "../engine/impression_day.ts";
import { formatInvalidRow, type InvalidRow } from "../engine/scan_impressions.ts";
import { type AssetContext, defineAsset } from "./_define.ts";
import type { ObjectInfo } from "../resources/storage.ts";
import { type DayBase, DayScanner } from "../engine/day_scan.ts";
import {
  dayBase,
  type DayMode,
  dayMode,
  describeDayMode,
  filterName,
  keysName,
  type KeyState,
  keyStateFiles,
  rowFiles,
} from "./_incremental.ts";
import type { EntryReader } from "../materializer/cache.ts";
import { duplicateShare } from "./figures.ts";
import { thresholdCheck } from "./_checks.ts";
import { rawPartition } from "./raw_partition.ts";

export { TooManyInvalidRowsError } from "../engine/day_scan.ts";

/** The value of `deduped_impressions`. */
export interface DedupedImpressions {
  /** Rows, campaign dictionary, kept flags and object ranges. */
  day: {
    /** Rows read across all objects, including invalid ones. */
    rows: number;
    /** Canonical campaign ids (`""` is the empty campaign). */
    campaignIds: string[];
    /** Per row: 1 when kept (first of its key and valid). */
    kept: Uint8Array;
    /** Per row: UTC hour 0-23, -1 for another date, -2 for invalid. */
    hours: Int8Array;
    /** Row ranges of each object, in processing order. */
    objects: ObjectRows[];
  };
  /**
   * The campaign index of every row (into `day.campaignIds`), in row order
   * from row `from` (default 0), a block at a time: kept on disk, since it is
   * 4 bytes a row, in files one after another (one per run that added rows,
   * see `_incremental.ts`).
   */
  campaigns(from?: number): AsyncIterable<Uint32Array>;
  /** Per-row hours (Int8) on disk, in files one after another (for the next incremental scan). */
  files: { hours: string[]; campaigns: string[] };
  /** Figures. */
  stats: DayStats;
  /**
   * The objects processed, in order, by key, ETag and size (no local path):
   * what a later incremental run compares the listing with.
   */
  objects: ObjectInfo[];
  /** Rows left out as invalid (only with `maxInvalidRows` > 0). */
  invalid: InvalidRow[];
  /** Where the key records of the kept rows are (for the next incremental run). */
  keys: KeyState;
  /**
   * After an incremental run: the data version of the entry it continued
   * and that entry's rows (the first `rows` rows are as they were there).
   */
  base?: { dataVersion: string; rows: number };
}

/** Segments before they are merged into one. */
const MAX_SEGMENTS = 8;

/** The code version, part of what decides incremental runs. */
const CODE_VERSION = "5"; // 3: key records of kept rows cached, for incremental days; 4: records hold the instant; 5: the usual record has no header

/** The mode of this run from the previous entry and the listing. */
function modeOf(ctx: AssetContext, previous: EntryReader | null, objects: readonly ObjectInfo[]) {
  return dayMode(previous, {
    bucket: ctx.resources.bucket.identity,
    objects,
    codeVersion: CODE_VERSION,
    params: { maxInvalidRows: ctx.params.maxInvalidRows },
  });
}

/** A scanner started for a mode, with the base it scans after. */
interface Started {
  mode: DayMode;
  scanner: DayScanner;
  keys: KeyState;
  segment: number;
}

/** A scanner for the day whose objects are `listing`, set up from the run's context and mode. */
async function openScanner(
  ctx: AssetContext,
  listing: readonly ObjectInfo[],
  previous: EntryReader | null,
): Promise<Started> {
  const mode = modeOf(ctx, previous, listing);
  let base: DayBase | undefined;
  let keys: KeyState;
  let segment = 0;
  if (mode.incremental) {
    base = await dayBase(previous!);
    const before = (previous!.manifest.value as { keys: KeyState }).keys;
    segment = Math.max(...before.segments) + 1;
    const merge = before.segments.length >= MAX_SEGMENTS;
    keys = merge
      ? { ...before, segments: [segment], rows: [0] }
      : { ...before, segments: [...before.segments, segment], rows: [...before.rows, segment] };
  } else {
    keys = { bucket: ctx.resources.bucket.identity, partitions: 0, segments: [0], rows: [0] };
  }
  const scanner = await DayScanner.open({
    listing: mode.incremental ? mode.added : listing,
    base,
    keysName: keysName(segment),
    filterName: filterName(segment),
    rowFiles: rowFiles(keys.rows.at(-1)!),
    mergeSegments: keys.segments.length === 1 && segment > 0,
    date: ctx.partition,
    maxInvalidRows: ctx.params.maxInvalidRows,
    workers: ctx.params.workers,
    memoryBudget: ctx.params.memoryBudget,
    scratchDir: `${ctx.scratchDir}/deduped_impressions`,
    onProgress: (done, total, rows) =>
      ctx.progress({
        phase: "parse",
        done,
        total,
        unit: "bytes",
        detail: `${rows.toLocaleString("en-US")} rows`,
      }),
  });
  return { mode, scanner, keys, segment };
}

/** Whether two modes are the same decision. */
function sameMode(a: DayMode, b: DayMode): boolean {
  return describeDayMode(a) === describeDayMode(b);
}

/** The `deduped_impressions` asset. */
export const dedupedImpressions = defineAsset({
  name: "deduped_impressions",
  description: "rows of all the day's files, validated, duplicates (id + instant) removed",
  deps: { raw: rawPartition },
  codeVersion: CODE_VERSION,
  params: (ctx) => ({ maxInvalidRows: ctx.params.maxInvalidRows }),
  io: {
    write(value: DedupedImpressions, out) {
      // The rows' hours, campaigns and kept flags were written while computing.
      out.setValue({
        rows: value.day.rows,
        campaignIds: value.day.campaignIds,
        dayObjects: value.day.objects,
        stats: value.stats,
        objects: value.objects,
        invalid: value.invalid,
        keys: value.keys,
        base: value.base,
      });
      return Promise.resolve();
    },
    async read(entry) {
      const v = entry.manifest.value as {
        rows: number;
        campaignIds: string[];
        dayObjects: ObjectRows[];
        stats: DayStats;
        objects: ObjectInfo[];
        invalid: InvalidRow[];
        keys: KeyState;
        base?: { dataVersion: string; rows: number };
      };
      return {
        day: {
          rows: v.rows,
          campaignIds: v.campaignIds,
          kept: await readRowFiles(entry, v.keys.rows.map((n) => rowFiles(n).kept), v.rows),
          hours: asInt8(
            await readRowFiles(entry, v.keys.rows.map((n) => rowFiles(n).hours), v.rows),
          ),
          objects: v.dayObjects,
        },
        campaigns: (from) =>
          readCampaigns(v.keys.rows.map((n) => entry.path(rowFiles(n).campaigns)), v.rows, from),
        files: {
          hours: v.keys.rows.map((n) => entry.path(rowFiles(n).hours)),
          campaigns: v.keys.rows.map((n) => entry.path(rowFiles(n).campaigns)),
        },
        stats: v.stats,
        objects: v.objects,
        invalid: v.invalid,
        keys: v.keys,
        base: v.base,
      };
    },
  },
  // Parse each object as soon as raw_partition has it in the cache.
  prefetch: {
    from: "raw",
    async start(announcements, ctx, signal): Promise<Started | undefined> {
      let started: Started | undefined;
      for await (const item of announcements) {
        if (signal.aborted) break;
        const { index, object, listing } = item;
        started ??= await openScanner(ctx, listing, ctx.previous);
        // An incremental scan parses only the new objects.
        const skip = started.mode.incremental ? started.mode.processed : 0;
        if (index >= skip) await started.scanner.add(index - skip, object);
      }
      return started;
    },
    discard: (started: Started) => started.scanner.close(),
  },
  // What `plan` says of a compute: incremental or full, and why.
  describeCompute(ctx, observations) {
    const listing = observations.raw as { objects: ObjectInfo[] } | undefined;
    return listing ? describeDayMode(modeOf(ctx, ctx.previous, listing.objects)) : undefined;
  },
  async compute({ raw }, ctx): Promise<DedupedImpressions> {
    const mode = modeOf(ctx, ctx.previous, raw.objects);
    let started = (await ctx.prefetched) as Started | undefined;
    if (started && !sameMode(started.mode, mode)) {
      // The prefetch saw the previous entry unverified; it did not verify.
      await started.scanner.close();
      started = undefined;
    }
    started ??= await openScanner(ctx, raw.objects, ctx.previous);
    const { scanner, keys, segment } = started;
    const objects = mode.incremental ? raw.objects.slice(mode.processed) : raw.objects;
    if (mode.incremental && ctx.previous) {
      // Segments not merged, and their rows' files, stay as they are in the entry.
      const kept = [
        ...keys.segments.filter((n) => n !== segment).flatMap((n) => [
          `${keysName(n)}.bin`,
          `${keysName(n)}.index`,
        ]),
        ...keys.rows.filter((n) => n !== segment).flatMap((n) => Object.values(rowFiles(n))),
      ];
      for (const name of kept) {
        const file = ctx.previous.manifest.files.find((f) => f.name === name);
        if (!file) throw new Error(`the previous entry has no ${name}`);
        ctx.output.keepFile(file);
      }
    }
    const scan = await scanner.finish(objects, ctx.output);
    const finalKeys = { ...keys, partitions: scan.partitions };
    ctx.record({ prefetched: ctx.prefetched !== undefined });
    ctx.record(
      mode.incremental
        ? {
          incremental: true,
          newObjects: mode.added.length,
          newRows: scan.newRows,
          keyLookups: scan.lookups,
        }
        : { incremental: false, full: mode.reason },
    );
    await ctx.checkpoint("scanned");
    for (const row of scan.invalid) {
      ctx.log.log("warn", `invalid row left out: ${formatInvalidRow(row)}`);
    }
    ctx.record({
      ...scan.stats,
      objects: raw.objects.length,
      partitions: scan.partitions,
      spilled: scan.spilled,
      tasks: scan.tasks,
      keyStateBytes: keyStateBytes(ctx.output.files, finalKeys),
    });
    return {
      day: {
        rows: scan.rows,
        campaignIds: scan.campaignIds,
        kept: scan.kept,
        hours: scan.hours,
        objects: scan.objects,
      },
      campaigns: (from) =>
        readCampaigns(
          finalKeys.rows.map((n) => `${ctx.output.dir}/${rowFiles(n).campaigns}`),
          scan.rows,
          from,
        ),
      files: {
        hours: finalKeys.rows.map((n) => `${ctx.output.dir}/${rowFiles(n).hours}`),
        campaigns: finalKeys.rows.map((n) => `${ctx.output.dir}/${rowFiles(n).campaigns}`),
      },
      stats: scan.stats,
      objects: raw.objects.map(({ key, etag, size }) => ({ key, etag, size })),
      invalid: scan.invalid,
      keys: finalKeys,
      base: mode.incremental && ctx.previous
        ? {
          dataVersion: ctx.previous.manifest.dataVersion,
          rows: scan.rows - scan.newRows,
        }
        : undefined,
    };
  },
  checks: [
    thresholdCheck<DedupedImpressions>({
      name: "duplicate_share",
      severity: "warn",
      threshold: 0.2,
      evaluate(value, limit) {
        const share = duplicateShare(value.stats)!;
        return {
          passed: share <= limit,
          detail: `${percent(share)} of rows are duplicates (limit ${percent(limit)})`,
        };
      },
    }),
    thresholdCheck<DedupedImpressions>({
      name: "late_rows",
      severity: "warn",
      threshold: 0.01,
      evaluate(value, limit) {
        const share = value.stats.rowsOut === 0 ? 0 : value.stats.lateRows / value.stats.rowsOut;
        return {
          passed: share <= limit,
          detail: `${value.stats.lateRows} rows (${percent(share)}) are on another date (limit ${
            percent(limit)
          })`,
        };
      },
    }),
    thresholdCheck<DedupedImpressions>({
      name: "volume_drop",
      severity: "warn",
      threshold: 0.5,
      async evaluate(value, limit, ctx) {
        const history = (await ctx.history(7))
          .map((m) => m.rowsOut)
          .filter((n): n is number => typeof n === "number")
          .sort((a, b) => a - b);
        if (history.length === 0) return { passed: true, detail: "no earlier days cached" };
        const mid = history.length >> 1;
        const median = history.length % 2 ? history[mid] : (history[mid - 1] + history[mid]) / 2;
        const drop = median === 0 ? 0 : 1 - value.stats.rowsOut / median;
        return {
          passed: drop < limit,
          detail:
            `${value.stats.rowsOut} rows vs median ${median} of ${history.length} earlier days (${
              percent(Math.max(0, drop))
            } fewer; limit ${percent(limit)})`,
        };
      },
    }),
  ],
});

/**
 * The campaign index files `paths`, one after another (`rows` rows in all),
 * from row `from`, a million rows at a time.
 */
async function* readCampaigns(
  paths: readonly string[],
  rows: number,
  from = 0,
): AsyncIterable<Uint32Array> {
  const buffer = new Uint8Array(4 << 20);
  let row = 0;
  for (const path of paths) {
    const size = (await Deno.stat(path)).size / 4;
    if (row + size <= from) {
      row += size;
      continue;
    }
    const file = await Deno.open(path);
    try {
      if (row < from) {
        await file.seek((from - row) * 4, Deno.SeekMode.Start);
        row = from;
      }
      while (true) {
        let filled = 0;
        while (filled < buffer.length) {
          const n = await file.read(buffer.subarray(filled));
          if (n === null) break;
          filled += n;
        }
        if (filled === 0) break;
        const count = filled >> 2;
        if (row + count > rows) throw new Error(`${path} has more rows than the day`);
        yield new Uint32Array(buffer.buffer, 0, count);
        row += count;
        if (filled < buffer.length) break;
      }
    } finally {
      file.close();
    }
  }
  if (row !== rows) throw new Error(`${paths.at(-1)} ends early, at row ${row} of ${rows}`);
}

/** Bytes of the key state files of `keys`. */
function keyStateBytes(files: readonly { name: string; size: number }[], keys: KeyState): number {
  const names = new Set(keyStateFiles(keys));
  return files.filter((f) => names.has(f.name)).reduce((n, f) => n + f.size, 0);
}

/** The files `names` of an entry, one after another (`rows` bytes in all). */
async function readRowFiles(
  entry: EntryReader,
  names: string[],
  rows: number,
): Promise<Uint8Array> {
  if (names.length === 1) return await entry.readFile(names[0]);
  const out = new Uint8Array(rows);
  let at = 0;
  for (const name of names) {
    const bytes = await entry.readFile(name);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function asInt8(bytes: Uint8Array): Int8Array {
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}
