/**
 * `deduped_impressions`: every row of the day's objects, parsed and
 * validated, with duplicates (same `IMPRESSION_ID` and instant) removed
 * across all files; the first row in processing order is kept.
 *
 * The cached form is compact: per row, the UTC hour (1 byte), the campaign
 * (4 bytes) and whether it was kept (1 byte), beside the raw files already
 * in `raw_partition`'s entry, so downstream assets can still read every
 * column of the kept rows. Parsing uses both cores and stays within the
 * memory budget (see `_day_scan.ts`); it starts on each raw object as soon
 * as `raw_partition` has it, while the others still download.
 *
 * @module
 */

import type { DayStats, ObjectRows } from "../engine/impression_day.ts";
import { formatInvalidRow, type InvalidRow } from "../engine/scan_impressions.ts";
import { type AssetContext, defineAsset } from "./_define.ts";
import type { ObjectInfo } from "../resources/storage.ts";
import { DayScanner } from "./_day_scan.ts";
import { type RawObject, type RawObjectReady, rawPartition } from "./raw_partition.ts";

export { TooManyInvalidRowsError } from "./_day_scan.ts";

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
  /** Per-row columns on disk: hours (Int8) and campaigns (Uint32, little-endian). */
  files: { hours: string; campaigns: string };
  /** Figures. */
  stats: DayStats;
  /** The raw objects the rows come from, in processing order. */
  objects: RawObject[];
  /** Rows left out as invalid (only with `maxInvalidRows` > 0). */
  invalid: InvalidRow[];
}

/** A scanner for the day whose objects are `listing`, set up from the run's context. */
function openScanner(ctx: AssetContext, listing: readonly ObjectInfo[]): Promise<DayScanner> {
  return DayScanner.open({
    listing,
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
}

/** The `deduped_impressions` asset. */
export const dedupedImpressions = defineAsset({
  name: "deduped_impressions",
  description: "rows of all the day's files, validated, duplicates (id + instant) removed",
  deps: { raw: rawPartition },
  codeVersion: "1",
  params: (ctx) => ({ maxInvalidRows: ctx.params.maxInvalidRows }),
  io: {
    write(value: DedupedImpressions, out) {
      // hours.bin, campaigns.bin and kept.bin were written while computing.
      out.setValue({
        rows: value.day.rows,
        campaignIds: value.day.campaignIds,
        dayObjects: value.day.objects,
        stats: value.stats,
        // No local paths in a manifest (it may be shared): read() finds the files again.
        objects: value.objects.map(({ path: _, ...o }) => o),
        invalid: value.invalid,
      });
      return Promise.resolve();
    },
    async read(entry) {
      const v = entry.manifest.value as {
        rows: number;
        campaignIds: string[];
        dayObjects: ObjectRows[];
        stats: DayStats;
        objects: RawObject[];
        invalid: InvalidRow[];
      };
      return {
        day: {
          rows: v.rows,
          campaignIds: v.campaignIds,
          kept: await entry.readFile("kept.bin"),
          hours: asInt8(await entry.readFile("hours.bin")),
          objects: v.dayObjects,
        },
        files: { hours: entry.path("hours.bin"), campaigns: entry.path("campaigns.bin") },
        stats: v.stats,
        objects: v.objects.map((o) => ({ ...o, path: rawFilePath(entry.dir, o.file) })),
        invalid: v.invalid,
      };
    },
  },
  // Parse each object as soon as raw_partition has it in the cache.
  prefetch: {
    from: "raw",
    async start(announcements, ctx, signal): Promise<DayScanner | undefined> {
      let scanner: DayScanner | undefined;
      for await (const item of announcements) {
        if (signal.aborted) break;
        const { index, object, listing } = item as RawObjectReady;
        scanner ??= await openScanner(ctx, listing);
        await scanner.add(index, object);
      }
      return scanner;
    },
    discard: (scanner: DayScanner) => scanner.close(),
  },
  async compute({ raw }, ctx): Promise<DedupedImpressions> {
    const scanner = ((await ctx.prefetched) as DayScanner | undefined) ??
      await openScanner(ctx, raw.objects);
    const scan = await scanner.finish(raw.objects, ctx.output);
    ctx.record({ prefetched: ctx.prefetched !== undefined });
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
    });
    return {
      day: {
        rows: scan.rows,
        campaignIds: scan.campaignIds,
        kept: scan.kept,
        hours: scan.hours,
        objects: scan.objects,
      },
      files: {
        hours: `${ctx.output.dir}/hours.bin`,
        campaigns: `${ctx.output.dir}/campaigns.bin`,
      },
      stats: scan.stats,
      objects: raw.objects,
      invalid: scan.invalid,
    };
  },
  checks: [
    {
      name: "duplicate_share",
      severity: "warn",
      evaluate(value: DedupedImpressions, ctx) {
        const limit = ctx.params.thresholds.duplicate_share ?? 0.2;
        const valid = value.stats.rowsIn - value.stats.invalidRows;
        const share = valid === 0 ? 0 : value.stats.duplicates / valid;
        return {
          passed: share <= limit,
          detail: `${percent(share)} of rows are duplicates (limit ${percent(limit)})`,
        };
      },
    },
    {
      name: "late_rows",
      severity: "warn",
      evaluate(value: DedupedImpressions, ctx) {
        const limit = ctx.params.thresholds.late_rows ?? 0.01;
        const share = value.stats.rowsOut === 0 ? 0 : value.stats.lateRows / value.stats.rowsOut;
        return {
          passed: share <= limit,
          detail: `${value.stats.lateRows} rows (${percent(share)}) are on another date (limit ${
            percent(limit)
          })`,
        };
      },
    },
    {
      name: "volume_drop",
      severity: "warn",
      async evaluate(value: DedupedImpressions, ctx) {
        const limit = ctx.params.thresholds.volume_drop ?? 0.5;
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
    },
  ],
});

/** The raw file `file` of the same date, in raw_partition's entry beside `dir`. */
function rawFilePath(dir: string, file: string): string {
  if (!/^objects\/[0-9a-f]{32}-[0-9a-f]{12}\.csv(\.gz)?$/.test(file)) {
    throw new Error(`deduped_impressions names an unexpected raw file ${JSON.stringify(file)}`);
  }
  return `${dir.slice(0, dir.lastIndexOf("/"))}/raw_partition/${file}`;
}

function asInt8(bytes: Uint8Array): Int8Array {
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}
