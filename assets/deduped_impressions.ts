/**
 * `deduped_impressions`: every row of the day's objects, parsed and
 * validated, with duplicates (same `IMPRESSION_ID` and instant) removed
 * across all files; the first row in processing order is kept.
 *
 * The cached form is compact: per row, the UTC hour (1 byte), the campaign
 * (4 bytes) and whether it was kept (1 byte), next to the raw files already
 * in `raw_partition`'s entry, so downstream assets can still read every
 * column of the kept rows.
 *
 * @module
 */

import { type DayStats, dedupeDay, type ImpressionDay } from "../engine/impression_day.ts";
import {
  formatInvalidRow,
  ImpressionDataError,
  type InvalidRow,
  type ObjectScan,
  scanImpressions,
} from "../engine/scan_impressions.ts";
import { defineAsset } from "../materializer/asset.ts";
import { readObjectFile } from "../resources/object_file.ts";
import { type RawObject, rawPartition } from "./raw_partition.ts";

/** The value of `deduped_impressions`. */
export interface DedupedImpressions {
  /** Per-row columns and the kept flags. */
  day: ImpressionDay;
  /** Figures. */
  stats: DayStats;
  /** The raw objects the rows come from, in processing order. */
  objects: RawObject[];
  /** Rows left out as invalid (only with `maxInvalidRows` > 0). */
  invalid: InvalidRow[];
}

/** A day with more invalid rows than allowed. */
export class TooManyInvalidRowsError extends ImpressionDataError {}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Scans the day's objects in order, collecting invalid rows within a budget. */
export async function scanDay(
  objects: readonly RawObject[],
  options: { date: string; maxInvalidRows: number },
): Promise<{ scans: ObjectScan[]; invalid: InvalidRow[] }> {
  const invalid: InvalidRow[] = [];
  const onInvalid = options.maxInvalidRows > 0
    ? (row: InvalidRow) => {
      invalid.push(row);
      if (invalid.length > options.maxInvalidRows) {
        throw new TooManyInvalidRowsError({
          ...row,
          reason: `more than ${options.maxInvalidRows} invalid rows; this one: ${row.reason}`,
        });
      }
    }
    : undefined;
  const scans: ObjectScan[] = [];
  for (const object of objects) {
    try {
      scans.push(
        await scanImpressions(readObjectFile({ path: object.path, gzip: object.gzip }), {
          key: object.key,
          date: options.date,
          onInvalid,
        }),
      );
    } catch (error) {
      if (error instanceof ImpressionDataError || !(error instanceof TypeError)) throw error;
      // DecompressionStream reports a damaged gzip stream as a TypeError.
      throw new ImpressionDataError({
        key: object.key,
        line: 0,
        column: "*",
        value: "",
        reason: `cannot decompress: ${error.message}`,
      });
    }
  }
  return { scans, invalid };
}

/** The `deduped_impressions` asset. */
export const dedupedImpressions = defineAsset({
  name: "deduped_impressions",
  description: "rows of all the day's files, validated, duplicates (id + instant) removed",
  deps: { raw: rawPartition },
  codeVersion: "1",
  params: (ctx) => ({ maxInvalidRows: ctx.params.maxInvalidRows }),
  io: {
    async write(value: DedupedImpressions, out) {
      await out.writeFile("hours.bin", bytesOf(value.day.hours));
      await out.writeFile("campaigns.bin", bytesOf(value.day.campaigns));
      await out.writeFile("kept.bin", value.day.kept);
      out.setValue({
        rows: value.day.rows,
        campaignIds: value.day.campaignIds,
        dayObjects: value.day.objects,
        stats: value.stats,
        objects: value.objects,
        invalid: value.invalid,
      });
    },
    async read(entry) {
      const v = entry.manifest.value as {
        rows: number;
        campaignIds: string[];
        dayObjects: ImpressionDay["objects"];
        stats: DayStats;
        objects: RawObject[];
        invalid: InvalidRow[];
      };
      const hours = await entry.readFile("hours.bin");
      const campaigns = await entry.readFile("campaigns.bin");
      return {
        day: {
          rows: v.rows,
          hours: new Int8Array(hours.buffer, hours.byteOffset, hours.byteLength),
          campaigns: new Uint32Array(campaigns.slice().buffer),
          campaignIds: v.campaignIds,
          kept: await entry.readFile("kept.bin"),
          objects: v.dayObjects,
        },
        stats: v.stats,
        objects: v.objects,
        invalid: v.invalid,
      };
    },
  },
  async compute({ raw }, ctx): Promise<DedupedImpressions> {
    const { scans, invalid } = await scanDay(raw.objects, {
      date: ctx.partition,
      maxInvalidRows: ctx.params.maxInvalidRows,
    });
    for (const row of invalid) {
      ctx.log.log("warn", `invalid row left out: ${formatInvalidRow(row)}`);
    }
    const { day, stats } = dedupeDay(scans);
    ctx.record({ ...stats, objects: raw.objects.length });
    return { day, stats, objects: raw.objects, invalid };
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

function percent(x: number): string {
  return `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}
