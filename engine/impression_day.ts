/**
 * One partition's rows, from every object in processing order, reduced to
 * the columns the aggregations need, with the deduplication outcome.
 *
 * @module
 */

import { createDedupeTable, dedupePartition } from "./dedupe.ts";
import { KeyPartitions } from "./key_partitions.ts";
import { INVALID_ROW, type ObjectScan, OTHER_DATE } from "./scan_impressions.ts";

/** Where an object's rows sit in the day's row numbering. */
export interface ObjectRows {
  /** Object key. */
  key: string;
  /** First row number of the object in the day. */
  offset: number;
  /** Number of data rows in the object. */
  rows: number;
}

/** The deduplicated day: per-row columns plus which rows were kept. */
export interface ImpressionDay {
  /** Data rows read across all objects, including invalid ones. */
  rows: number;
  /** Per row: UTC hour 0-23, -1 for another date, -2 for invalid. */
  hours: Int8Array;
  /** Per row: index into `campaignIds`. */
  campaigns: Uint32Array;
  /** Canonical campaign ids (`""` is the empty campaign). */
  campaignIds: string[];
  /** Per row: 1 when kept (first of its key and valid). */
  kept: Uint8Array;
  /** Row ranges of each object, in processing order. */
  objects: ObjectRows[];
}

/** Figures about a deduplicated day. */
export interface DayStats {
  /** Data rows read. */
  rowsIn: number;
  /** Rows kept (valid, first of their key). */
  rowsOut: number;
  /** Rows dropped as duplicates. */
  duplicates: number;
  /** Kept rows whose instant is on another UTC date. */
  lateRows: number;
  /** Rows left out as invalid. */
  invalidRows: number;
}

/**
 * Joins the scans of a day's objects (in processing order) and deduplicates
 * across all of them.
 *
 * @example
 * ```ts
 * import { dedupeDay } from "./impression_day.ts";
 * import { scanImpressions } from "./scan_impressions.ts";
 * const csv = "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\nx,2021-01-30 01:00:00,5\n";
 * const scans = await Promise.all(["a.csv", "b.csv"].map((key) =>
 *   scanImpressions([new TextEncoder().encode(csv)], { key, date: "2021-01-30" })
 * ));
 * const { stats } = dedupeDay(scans);
 * // stats.rowsIn is 2, stats.duplicates is 1
 * ```
 */
export function dedupeDay(
  scans: readonly ObjectScan[],
): { day: ImpressionDay; stats: DayStats } {
  let rows = 0;
  for (const scan of scans) rows += scan.rows;
  const hashes = new Uint32Array(rows * 4);
  const seconds = new Float64Array(rows);
  const nanos = new Uint32Array(rows);
  const hours = new Int8Array(rows);
  const campaigns = new Uint32Array(rows);
  const keys = new Uint32Array(scans.reduce((n, scan) => n + scan.keys.length, 0));
  const keyStarts = new Uint32Array(rows + 1);
  const keyLengths = new Uint32Array(rows);
  let keyWords = 0;
  const campaignIds: string[] = [];
  const campaignIndex = new Map<string, number>();
  const objects: ObjectRows[] = [];
  let offset = 0;
  for (const scan of scans) {
    const remap = new Uint32Array(scan.campaignIds.length);
    scan.campaignIds.forEach((id, i) => {
      let index = campaignIndex.get(id);
      if (index === undefined) {
        index = campaignIds.length;
        campaignIds.push(id);
        campaignIndex.set(id, index);
      }
      remap[i] = index;
    });
    hashes.set(scan.hashes, offset * 4);
    seconds.set(scan.seconds, offset);
    nanos.set(scan.nanos, offset);
    hours.set(scan.hours, offset);
    keys.set(scan.keys, keyWords);
    for (let r = 0; r <= scan.rows; r++) keyStarts[offset + r] = keyWords + scan.keyStarts[r];
    keyLengths.set(scan.keyLengths, offset);
    keyWords += scan.keys.length;
    for (let r = 0; r < scan.rows; r++) {
      campaigns[offset + r] = remap[scan.campaigns[r]];
    }
    objects.push({ key: scan.key, offset, rows: scan.rows });
    offset += scan.rows;
  }
  const partitions = new KeyPartitions(256);
  partitions.add(
    { firstRow: 0, rows, hashes, seconds, nanos, hours, campaigns, keys, keyStarts, keyLengths },
    0,
  );
  const kept = new Uint8Array(rows);
  const table = createDedupeTable();
  let duplicates = 0;
  for (const records of partitions.take()) {
    duplicates += dedupePartition([{ records, rowOffset: 0 }], kept, table);
  }
  const day: ImpressionDay = {
    rows,
    hours,
    campaigns,
    campaignIds,
    kept,
    objects,
  };
  return { day, stats: dayStats(day, duplicates) };
}

/** Counts kept, late and invalid rows of a day. */
export function dayStats(
  day: Pick<ImpressionDay, "rows" | "hours" | "kept">,
  duplicates: number,
): DayStats {
  let rowsOut = 0, lateRows = 0, invalidRows = 0;
  for (let r = 0; r < day.rows; r++) {
    const hour = day.hours[r];
    if (hour === INVALID_ROW) invalidRows++;
    else if (day.kept[r] === 1) {
      rowsOut++;
      if (hour === OTHER_DATE) lateRows++;
    }
  }
  return { rowsIn: day.rows, rowsOut, duplicates, lateRows, invalidRows };
}
