/**
 * Every asset of the pipeline. Adding an asset: one file in this folder and
 * one line in {@linkcode ASSETS}.
 *
 * @example
 * ```ts
 * import { ASSETS } from "./mod.ts";
 * ASSETS.map((asset) => asset.name);
 * ```
 *
 * @module
 */

import type { AnyAsset } from "../materializer/asset.ts";
import { rawPartition } from "./raw_partition.ts";
import { dedupedImpressions } from "./deduped_impressions.ts";
import { hourlyCampaignCounts } from "./hourly_campaign_counts.ts";
import { publishedCsv } from "./published_csv.ts";
import { warehouseHourlyCounts } from "./warehouse_hourly_counts.ts";
import { publishedParquet } from "./published_parquet.ts";
import { hourlyDeviceCounts } from "./hourly_device_counts.ts";

export { dedupedImpressions, hourlyCampaignCounts, publishedCsv, rawPartition };

/** The registered assets, in any order; the materializer sorts them. */
export const ASSETS: readonly AnyAsset[] = [
  rawPartition,
  dedupedImpressions,
  hourlyCampaignCounts,
  publishedCsv,
  warehouseHourlyCounts,
  publishedParquet,
  hourlyDeviceCounts,
];
