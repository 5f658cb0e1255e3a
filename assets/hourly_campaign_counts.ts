/**
 * `hourly_campaign_counts`: impressions per campaign and UTC hour of the
 * partition date, from the deduplicated rows.
 *
 * @module
 */

import { type CampaignHourCount, createCampaignHourCounter } from "../engine/hourly_counts.ts";
import type { InvalidRow } from "../engine/scan_impressions.ts";
import { defineAsset } from "./_define.ts";
import { jsonIO } from "../materializer/io.ts";
import { dedupedImpressions } from "./deduped_impressions.ts";
import { countsSumToRows } from "./_checks.ts";

/** The value of `hourly_campaign_counts`. */
export interface HourlyCampaignCounts {
  /** One entry per (campaign, hour) with impressions, in output order. */
  counts: CampaignHourCount[];
  /** Deduplicated rows of the partition date (what the counts must sum to). */
  inDayRows: number;
  /** Invalid rows left out of the counts (with `--max-invalid-rows`). */
  rejected: InvalidRow[];
}

/** The code version (an incremental count needs the same). */
const CODE_VERSION = "1";

/** The `hourly_campaign_counts` asset. */
export const hourlyCampaignCounts = defineAsset({
  name: "hourly_campaign_counts",
  description: "impressions per CAMPAIGN_ID and UTC hour",
  deps: { deduped: dedupedImpressions },
  codeVersion: CODE_VERSION,
  io: jsonIO<HourlyCampaignCounts>(),
  async compute({ deduped }, ctx) {
    // After an incremental deduped_impressions whose earlier state this
    // asset's cached counts were made from, only the new rows are counted:
    // the earlier rows are as they were.
    const before = ctx.previous?.manifest;
    const from = deduped.base && before?.codeVersion === CODE_VERSION &&
        before.inputs?.upstream[dedupedImpressions.name] === deduped.base.dataVersion
      ? deduped.base.rows
      : 0;
    const start = from > 0 ? (before!.value as HourlyCampaignCounts).counts : [];
    const counter = createCampaignHourCounter(deduped.day.campaignIds, start);
    const { hours, kept } = deduped.day;
    // Campaign indexes are read from disk a million rows at a time, from row `from`.
    const buffer = new Uint8Array(4 << 20);
    let row = 0;
    for (const path of deduped.files.campaigns) {
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
          if (row + count > deduped.day.rows) throw new Error(`${path} has more rows than the day`);
          counter.add(
            hours.subarray(row, row + count),
            new Uint32Array(buffer.buffer, 0, count),
            kept.subarray(row, row + count),
            count,
          );
          row += count;
          if (filled < buffer.length) break;
        }
      } finally {
        file.close();
      }
    }
    if (row !== deduped.day.rows) throw new Error(`${deduped.files.campaigns.at(-1)} ends early`);
    ctx.record({ incremental: from > 0, countedRows: deduped.day.rows - from });
    const counts = counter.result();
    const impressions = counts.reduce((n, c) => n + c.count, 0);
    ctx.record({
      groups: counts.length,
      campaigns: new Set(counts.map((c) => c.campaign)).size,
      impressions,
      lateRows: deduped.stats.lateRows,
    });
    return {
      counts,
      inDayRows: deduped.stats.rowsOut - deduped.stats.lateRows,
      rejected: deduped.invalid,
    };
  },
  checks: [
    countsSumToRows<HourlyCampaignCounts>(),
    {
      name: "positive_counts",
      severity: "error",
      evaluate(value: HourlyCampaignCounts) {
        const bad = value.counts.filter((c) => !(c.count > 0));
        return {
          passed: bad.length === 0,
          detail: bad.length === 0
            ? `${value.counts.length} counts, all positive`
            : `${bad.length} counts are zero or negative`,
        };
      },
    },
  ],
});
