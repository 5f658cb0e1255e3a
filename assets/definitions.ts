/**
 * The impressions pipeline in one object: its assets, its params, and how
 * its resources (the bucket, and the warehouse when a selected asset needs
 * it) are opened. Adding an asset: one file in this folder and one line in
 * `ASSETS` (`mod.ts`); adding a parameter: one field in `params.ts`.
 *
 * @module
 */

import { defineDefinitions } from "../materializer/definitions.ts";
import { openBucket } from "../resources/bucket.ts";
import { secretsOf } from "../resources/secrets.ts";
import { openWarehouse } from "../resources/warehouse.ts";
import type { Resources, RunParams } from "./_define.ts";
import { ASSETS } from "./mod.ts";
import { ASSET_PARAMS, RESOURCE_PARAMS } from "./params.ts";

/** The SQLite file used when no warehouse is configured, in the local state folder. */
export const DEFAULT_WAREHOUSE_FILE = "warehouse.sqlite";

/**
 * The warehouse location for a run: the configured one, else the SQLite
 * file in the local state folder.
 *
 * @example
 * ```ts
 * import { warehouseLocation } from "./definitions.ts";
 * warehouseLocation(undefined, ".cache"); // ".cache/warehouse.sqlite"
 * ```
 */
export function warehouseLocation(configured: string | undefined, stateDir: string): string {
  return configured ?? `${stateDir.replace(/\/$/, "")}/${DEFAULT_WAREHOUSE_FILE}`;
}

/**
 * The pipeline.
 *
 * @example
 * ```ts
 * import { DEFINITIONS } from "./definitions.ts";
 * DEFINITIONS.assets.map((a) => a.name).includes("published_csv"); // true
 * ```
 */
export const DEFINITIONS = defineDefinitions({
  name: "impressions",
  assets: ASSETS,
  params: ASSET_PARAMS,
  resourceParams: RESOURCE_PARAMS,
  assetParams(values, run): RunParams {
    return {
      ...values,
      // The budget is per process: dates run at once share it.
      memoryBudget: Math.floor(values.memoryBudget / Math.max(1, run.concurrentPartitions)),
      downloadConcurrency: 8,
    };
  },
  async openResources(values, context) {
    const bucket = await openBucket({
      bucket: values.bucket!,
      endpoint: values.endpoint,
      region: values.region,
      timeoutMs: values.timeoutMs,
      retry: {
        retries: context.assetParams.retries,
        onRetry: ({ attempt, delayMs, error }) =>
          context.log.log(
            "warn",
            `retry ${attempt}/${context.assetParams.retries} in ${delayMs} ms: ${error.message}`,
          ),
      },
    });
    // Opened only when a selected asset needs it; closed with the bucket.
    const warehouse = context.selection.some((a) => a.requires?.includes("warehouse"))
      ? await openWarehouse(warehouseLocation(values.warehouse, context.stateDir), {
        password: context.env.PGPASSWORD,
      }).catch((error) => {
        bucket.close();
        throw error;
      })
      : undefined;
    const resources: Resources = { bucket, warehouse };
    return {
      resources,
      async close() {
        bucket.close();
        await warehouse?.close();
      },
    };
  },
  secrets: (values, env) =>
    secretsOf({ env, values: [values.endpoint, values.warehouse, values.bucket] }),
});
