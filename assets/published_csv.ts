/**
 * `published_csv`: the day's hourly counts as
 * `results/YYYY/MM/DD/daily_agg_YYYYMMDD_{INITIALS}.csv` in the bucket.
 * Identical inputs give identical bytes; the upload is skipped when the
 * object already holds them, and a missing or altered object is put back.
 *
 * @module
 */

import { formatCountsCsv } from "../engine/hourly_counts.ts";
import { defineAsset } from "../materializer/asset.ts";
import { jsonIO } from "../materializer/io.ts";
import { publishObject, type Receipt, receiptIsCurrent, resultKey } from "./_publish.ts";
import { hourlyCampaignCounts } from "./hourly_campaign_counts.ts";

/** The `published_csv` asset. */
export const publishedCsv = defineAsset({
  name: "published_csv",
  description: "results/YYYY/MM/DD/daily_agg_YYYYMMDD_{INITIALS}.csv in the bucket",
  deps: { counts: hourlyCampaignCounts },
  codeVersion: "1",
  defaultSelected: true,
  io: jsonIO<Receipt>(),
  params: (ctx) => ({
    bucket: ctx.resources.bucket.uri,
    endpoint: ctx.params.endpoint ?? null,
    initials: ctx.params.initials,
    resultsPrefix: ctx.params.resultsPrefix,
  }),
  compute({ counts }, ctx) {
    const body = new TextEncoder().encode(formatCountsCsv(counts.counts));
    return publishObject(ctx, resultKey(ctx, "daily_agg", "csv"), body, "text/csv");
  },
  isCurrent: (receipt, ctx) => receiptIsCurrent(receipt, ctx),
  published: (receipt) => [receipt.uri],
});
