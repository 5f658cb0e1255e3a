/**
 * Where the warehouse is: `--warehouse` (or the profile's `warehouse`), else
 * the SQLite file `warehouse.sqlite` in the cache dir.
 *
 * @module
 */

import { openWarehouse, type Warehouse } from "../resources/warehouse.ts";

/** The SQLite file used when no warehouse is configured. */
export const DEFAULT_WAREHOUSE_FILE = "warehouse.sqlite";

/**
 * The warehouse location for a run.
 *
 * @example
 * ```ts
 * import { warehouseLocation } from "./warehouse_option.ts";
 * warehouseLocation(undefined, ".cache"); // ".cache/warehouse.sqlite"
 * ```
 */
export function warehouseLocation(configured: string | undefined, cacheDir: string): string {
  return configured ?? `${cacheDir.replace(/\/$/, "")}/${DEFAULT_WAREHOUSE_FILE}`;
}

/**
 * Opens the configured warehouse; a server's password comes from
 * `PGPASSWORD` when its URL has none.
 *
 * @example
 * ```ts
 * import { openConfiguredWarehouse } from "./warehouse_option.ts";
 * const warehouse = await openConfiguredWarehouse({ cacheDir: ".cache", env: {} });
 * await warehouse.close();
 * ```
 */
export function openConfiguredWarehouse(options: {
  warehouse?: string;
  cacheDir: string;
  env: Record<string, string | undefined>;
}): Promise<Warehouse> {
  return openWarehouse(warehouseLocation(options.warehouse, options.cacheDir), {
    password: options.env.PGPASSWORD,
  });
}
