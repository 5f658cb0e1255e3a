/**
 * `warehouse_hourly_counts`: the day's hourly counts in the SQL warehouse,
 * table `hourly_campaign_counts`, one row per (date, campaign, hour). A load
 * replaces the date's rows in one transaction and is recorded in `loads`
 * with the version of its content (the SHA-256 of the rows as the published
 * CSV writes them), so a rerun whose rows are already there loads nothing,
 * and the rows removed from the table or loaded by someone else are put back.
 *
 * @module
 */

import { formatCountsCsv } from "../engine/hourly_counts.ts";
import { type AssetContext, defineAsset } from "./_define.ts";
import { sha256Hex } from "../materializer/cache.ts";
import { jsonIO } from "../materializer/io.ts";
import { type Warehouse, WarehouseError } from "../resources/warehouse.ts";
import { hourlyCampaignCounts } from "./hourly_campaign_counts.ts";

/** The value of `warehouse_hourly_counts`: the load the table holds. */
export interface WarehouseReceipt {
  /** Where: the warehouse URI and the date, e.g. `sqlite:///x.sqlite#hourly_campaign_counts/2021-01-30`. */
  uri: string;
  /** The partition date. */
  date: string;
  /** Version of the rows' content. */
  dataVersion: string;
  /** Rows of the date. */
  rows: number;
  /** When they were loaded. */
  loadedAt: string;
  /** The run that loaded them. */
  runId: string;
  /** Whether this run loaded them (false: they were already there). */
  loaded: boolean;
}

function warehouseOf(ctx: AssetContext): Warehouse {
  const warehouse = ctx.resources.warehouse;
  if (!warehouse) {
    throw new WarehouseError(
      `no warehouse is open for warehouse_hourly_counts on ${ctx.partition}`,
    );
  }
  return warehouse;
}

/**
 * The content version of a day's rows: `sha256:` and the hex SHA-256 of
 * their CSV form.
 *
 * @example
 * ```ts
 * import { rowsVersion } from "./warehouse_hourly_counts.ts";
 * rowsVersion([{ campaign: "7", hour: 1, count: 2 }]).startsWith("sha256:"); // true
 * ```
 */
export function rowsVersion(rows: Parameters<typeof formatCountsCsv>[0]): string {
  return `sha256:${sha256Hex(formatCountsCsv(rows))}`;
}

/** The `warehouse_hourly_counts` asset. */
export const warehouseHourlyCounts = defineAsset({
  name: "warehouse_hourly_counts",
  description:
    "the day's rows in the warehouse table hourly_campaign_counts (SQLite or PostgreSQL)",
  deps: { counts: hourlyCampaignCounts },
  codeVersion: "1",
  requires: ["warehouse"],
  io: jsonIO<WarehouseReceipt>(),
  params: (ctx) => ({ warehouse: ctx.resources.warehouse?.uri ?? null }),
  async compute({ counts }, ctx): Promise<WarehouseReceipt> {
    const warehouse = warehouseOf(ctx);
    const uri = `${warehouse.uri}#hourly_campaign_counts/${ctx.partition}`;
    const dataVersion = rowsVersion(counts.counts);
    const current = await warehouse.currentLoad(ctx.partition);
    let receipt: WarehouseReceipt;
    if (
      current && current.dataVersion === dataVersion && current.rowsPresent === current.rows &&
      current.rows === counts.counts.length
    ) {
      receipt = { ...current, uri, loaded: false };
    } else {
      const load = await warehouse.loadDay({
        date: ctx.partition,
        dataVersion,
        runId: ctx.runId,
        rows: counts.counts,
      });
      receipt = { ...load, uri, loaded: true };
    }
    ctx.record({ uri, rows: receipt.rows, loaded: receipt.loaded });
    return {
      uri,
      date: ctx.partition,
      dataVersion,
      rows: receipt.rows,
      loadedAt: receipt.loadedAt,
      runId: receipt.runId,
      loaded: receipt.loaded,
    };
  },
  async isCurrent(receipt, ctx) {
    const current = await warehouseOf(ctx).currentLoad(ctx.partition);
    return current !== null && current.dataVersion === receipt.dataVersion &&
      current.rows === receipt.rows && current.rowsPresent === receipt.rows;
  },
  published: (receipt) => [receipt.uri],
});
