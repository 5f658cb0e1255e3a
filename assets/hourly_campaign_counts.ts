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
    let row = from;
    for await (const campaigns of deduped.campaigns(from)) {
      const count = campaigns.length;
      counter.add(
        hours.subarray(row, row + count),
        campaigns,
        kept.subarray(row, row + count),
        count,
      );
      row += count;
    }
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
