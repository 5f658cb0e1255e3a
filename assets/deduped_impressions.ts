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
 * @module
 */

import type { DayStats, ObjectRows } from "../engine/impression_day.ts";
import { formatInvalidRow, type InvalidRow } from "../engine/scan_impressions.ts";
import { type AssetContext, defineAsset } from "./_define.ts";
import type { ObjectInfo } from "../resources/storage.ts";
import { DayScanner } from "../engine/day_scan.ts";
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
   * The campaign index of every row (into `day.campaignIds`), in row order,
   * a block at a time: kept on disk, since it is 4 bytes a row.
   */
  campaigns(): AsyncIterable<Uint32Array>;
  /** Figures. */
  stats: DayStats;
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
  codeVersion: "2", // 2: ids compared by value and in full, not by hash alone
  params: (ctx) => ({ maxInvalidRows: ctx.params.maxInvalidRows }),
  io: {
    write(value: DedupedImpressions, out) {
      // hours.bin, campaigns.bin and kept.bin were written while computing.
      out.setValue({
        rows: value.day.rows,
        campaignIds: value.day.campaignIds,
        dayObjects: value.day.objects,
        stats: value.stats,
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
        campaigns: () => readCampaigns(entry.path("campaigns.bin"), v.rows),
        stats: v.stats,
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
        const { index, object, listing } = item;
        scanner ??= await openScanner(ctx, listing);
        await scanner.add(index, object);
      }
      return scanner;
    },
    discard: (scanner: DayScanner) => scanner.close(),
  },
  async compute({ raw }, ctx): Promise<DedupedImpressions> {
    const scanner = (await ctx.prefetched) ??
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
      campaigns: () => readCampaigns(`${ctx.output.dir}/campaigns.bin`, scan.rows),
      stats: scan.stats,
      invalid: scan.invalid,
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

/** The campaign index file of `rows` rows, a million rows at a time. */
async function* readCampaigns(path: string, rows: number): AsyncIterable<Uint32Array> {
  const file = await Deno.open(path);
  try {
    const buffer = new Uint8Array(4 << 20);
    let row = 0;
    while (row < rows) {
      let filled = 0;
      const want = Math.min(buffer.length, (rows - row) * 4);
      while (filled < want) {
        const n = await file.read(buffer.subarray(filled, want));
        if (n === null) throw new Error(`${path} ends early, at row ${row + filled / 4}`);
        filled += n;
      }
      yield new Uint32Array(buffer.buffer, 0, filled / 4);
      row += filled / 4;
    }
  } finally {
    file.close();
  }
}

function asInt8(bytes: Uint8Array): Int8Array {
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}
