/**
 * `hourly_campaign_counts`: impressions per campaign and UTC hour of the
 * partition date, from the deduplicated rows.
 *
 * @module
 */

import { type CampaignHourCount, countCampaignHours } from "../engine/hourly_counts.ts";
import { defineAsset } from "../materializer/asset.ts";
import { jsonIO } from "../materializer/io.ts";
import { dedupedImpressions } from "./deduped_impressions.ts";

/** The value of `hourly_campaign_counts`. */
export interface HourlyCampaignCounts {
  /** One entry per (campaign, hour) with impressions, in output order. */
  counts: CampaignHourCount[];
  /** Deduplicated rows of the partition date (what the counts must sum to). */
  inDayRows: number;
}

/** The `hourly_campaign_counts` asset. */
export const hourlyCampaignCounts = defineAsset({
  name: "hourly_campaign_counts",
  description: "impressions per CAMPAIGN_ID and UTC hour",
  deps: { deduped: dedupedImpressions },
  codeVersion: "1",
  io: jsonIO<HourlyCampaignCounts>(),
  compute({ deduped }, ctx) {
    const counts = countCampaignHours(deduped.day);
    const impressions = counts.reduce((n, c) => n + c.count, 0);
    ctx.record({
      groups: counts.length,
      campaigns: new Set(counts.map((c) => c.campaign)).size,
      impressions,
      lateRows: deduped.stats.lateRows,
    });
    return Promise.resolve({
      counts,
      inDayRows: deduped.stats.rowsOut - deduped.stats.lateRows,
    });
  },
  checks: [
    {
      name: "counts_sum_to_rows",
      severity: "error",
      evaluate(value: HourlyCampaignCounts) {
        const sum = value.counts.reduce((n, c) => n + c.count, 0);
        return {
          passed: sum === value.inDayRows,
          detail: `counts sum to ${sum}; deduplicated rows of the day: ${value.inDayRows}`,
        };
      },
    },
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
