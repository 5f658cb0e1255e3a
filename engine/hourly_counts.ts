/**
 * Impressions per campaign and UTC hour, and their CSV form.
 *
 * @module
 */

import { compareCampaigns } from "./campaign.ts";
import type { ImpressionDay } from "./impression_day.ts";

/** One output row. */
export interface CampaignHourCount {
  /** Canonical campaign id, `""` for the empty campaign. */
  campaign: string;
  /** UTC hour, 0-23. */
  hour: number;
  /** Impressions in that campaign and hour (at least 1). */
  count: number;
}

/** The header of the published CSV. */
export const COUNTS_HEADER = "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT";

/** Accumulates counts per (campaign, hour) over chunks of rows. */
export interface CampaignHourCounter {
  /** Counts rows `[0, count)` of the given per-row arrays. */
  add(hours: Int8Array, campaigns: Uint32Array, kept: Uint8Array, count: number): void;
  /** The counts, sorted by campaign as a number (empty last), then hour. */
  result(): CampaignHourCount[];
}

/**
 * Creates a counter for a day whose campaign indexes point into `campaignIds`,
 * starting from the counts `start` (of earlier rows; none by default).
 *
 * @example
 * ```ts
 * import { createCampaignHourCounter } from "./hourly_counts.ts";
 * const counter = createCampaignHourCounter(["42"]);
 * counter.add(new Int8Array([5, 5, -1]), new Uint32Array(3), new Uint8Array([1, 1, 1]), 3);
 * counter.result(); // [{ campaign: "42", hour: 5, count: 2 }]
 * ```
 */
export function createCampaignHourCounter(
  campaignIds: readonly string[],
  start: readonly CampaignHourCount[] = [],
): CampaignHourCounter {
  const cells = new Float64Array(campaignIds.length * 24);
  if (start.length > 0) {
    const index = new Map(campaignIds.map((id, i) => [id, i]));
    for (const c of start) {
      const i = index.get(c.campaign);
      if (i === undefined) {
        throw new RangeError(`campaign ${JSON.stringify(c.campaign)} is not listed`);
      }
      cells[i * 24 + c.hour] += c.count;
    }
  }
  return {
    add(hours, campaigns, kept, count) {
      for (let r = 0; r < count; r++) {
        const hour = hours[r];
        if (hour >= 0 && kept[r] === 1) cells[campaigns[r] * 24 + hour]++;
      }
    },
    result() {
      const order = campaignIds
        .map((id, index) => ({ id, index }))
        .sort((a, b) => compareCampaigns(a.id, b.id));
      const out: CampaignHourCount[] = [];
      for (const { id, index } of order) {
        for (let hour = 0; hour < 24; hour++) {
          const count = cells[index * 24 + hour];
          if (count > 0) out.push({ campaign: id, hour, count });
        }
      }
      return out;
    },
  };
}

/**
 * Counts the kept, in-date rows of an in-memory day per (campaign, hour).
 *
 * @example
 * ```ts
 * import { countCampaignHours } from "./hourly_counts.ts";
 * const counts = countCampaignHours({
 *   rows: 3,
 *   hours: new Int8Array([5, 5, -1]),
 *   campaigns: new Uint32Array([0, 0, 0]),
 *   campaignIds: ["42"],
 *   kept: new Uint8Array([1, 1, 1]),
 *   objects: [],
 * });
 * // counts is [{ campaign: "42", hour: 5, count: 2 }]
 * ```
 */
export function countCampaignHours(day: ImpressionDay): CampaignHourCount[] {
  const counter = createCampaignHourCounter(day.campaignIds);
  counter.add(day.hours, day.campaigns, day.kept, day.rows);
  return counter.result();
}

/**
 * Formats counts as the published CSV: header, LF line endings, a final
 * newline, no quoting.
 *
 * @example
 * ```ts
 * import { formatCountsCsv } from "./hourly_counts.ts";
 * formatCountsCsv([{ campaign: "", hour: 3, count: 2 }]);
 * // "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n,3,2\n"
 * ```
 */
export function formatCountsCsv(counts: readonly CampaignHourCount[]): string {
  const lines = [COUNTS_HEADER];
  for (const c of counts) lines.push(`${c.campaign},${c.hour},${c.count}`);
  return lines.join("\n") + "\n";
}
