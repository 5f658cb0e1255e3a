/**
 * `published_csv`: the day's hourly counts as
 * `results/YYYY/MM/DD/daily_agg_YYYYMMDD_{INITIALS}.csv` in the bucket, and,
 * when invalid rows were left out (`--max-invalid-rows`), those rows as
 * `rejected_YYYYMMDD_{INITIALS}.csv` beside it (a stale one is removed).
 * Identical inputs give identical bytes; an upload is skipped when the
 * object already holds them, and a missing or altered object is put back.
 *
 * @module
 */

import { formatCountsCsv } from "../engine/hourly_counts.ts";
import { formatRejectedCsv } from "../engine/rejected_rows.ts";
import { defineAsset } from "./_define.ts";
import { jsonIO } from "../materializer/io.ts";
import { objectUri } from "../resources/storage.ts";
import {
  newerPublication,
  publishObject,
  publishParams,
  type Receipt,
  receiptIsCurrent,
  resultKey,
} from "./_publish.ts";
import { hourlyCampaignCounts } from "./hourly_campaign_counts.ts";

/** The receipt of the counts file, with the rejected rows' file if any. */
export interface PublishedCsv extends Receipt {
  /** Receipt of `rejected_*.csv`, when rows were left out. */
  rejected?: Receipt;
}

const encoder = new TextEncoder();

/** The `published_csv` asset. */
export const publishedCsv = defineAsset({
  name: "published_csv",
  description: "results/YYYY/MM/DD/daily_agg_YYYYMMDD_{INITIALS}.csv in the bucket",
  deps: { counts: hourlyCampaignCounts },
  codeVersion: "1",
  defaultSelected: true,
  io: jsonIO<PublishedCsv>(),
  params: publishParams,
  async compute({ counts }, ctx): Promise<PublishedCsv> {
    const bucket = ctx.resources.bucket;
    const rejectedKey = resultKey(ctx, "rejected", "csv");
    let rejected: Receipt | undefined;
    if (counts.rejected.length > 0) {
      const body = encoder.encode(formatRejectedCsv(counts.rejected));
      rejected = await publishObject(ctx, rejectedKey, body, "text/csv");
      ctx.record({ rejectedRows: counts.rejected.length, rejectedUri: rejected.uri });
    } else {
      const head = await bucket.head(rejectedKey);
      const newer = newerPublication(head, ctx);
      if (head && newer) {
        ctx.log.log(
          "info",
          `${
            objectUri(bucket, rejectedKey)
          }: newer publication by run ${newer.runId}; leaving it in place`,
        );
      } else if (head) {
        await bucket.delete(rejectedKey);
        ctx.log.log("info", `removed stale ${objectUri(bucket, rejectedKey)}`);
      }
    }
    const body = encoder.encode(formatCountsCsv(counts.counts));
    const receipt = await publishObject(ctx, resultKey(ctx, "daily_agg", "csv"), body, "text/csv");
    return rejected ? { ...receipt, rejected } : receipt;
  },
  async isCurrent(receipt, ctx) {
    if (receipt.rejected && !(await receiptIsCurrent(receipt.rejected, ctx))) return false;
    return await receiptIsCurrent(receipt, ctx);
  },
  published: (receipt) => [receipt.uri, ...(receipt.rejected ? [receipt.rejected.uri] : [])],
});
