/**
 * The SQL warehouse: where the day's hourly campaign counts are loaded, one
 * small interface with a back end per kind of database. SQLite is the
 * embedded default; PostgreSQL is used for `postgres://` locations. Another
 * kind (BigQuery, Snowflake) is one more file implementing
 * {@linkcode Warehouse} and one more entry in {@linkcode WAREHOUSE_BACKENDS}.
 *
 * The tables, the same in every back end:
 *
 * - `hourly_campaign_counts(impression_date, campaign_id, impression_hour,
 *   impression_count, loaded_at, run_id)`: one row per (date, campaign,
 *   hour); `campaign_id` is a nullable 64-bit integer, NULL for the empty
 *   campaign, still unique per (date, hour).
 * - `loads(load_id, impression_date, data_version, row_count, loaded_at,
 *   run_id)`: one row per load of a date.
 *
 * @module
 */

import { redact } from "./secrets.ts";

/** One row of a day's hourly counts. */
export interface CountRow {
  /** Canonical campaign id, `""` for the empty campaign (stored as NULL). */
  campaign: string;
  /** UTC hour, 0-23. */
  hour: number;
  /** Impressions, at least 1. */
  count: number;
}

/** What {@linkcode Warehouse.loadDay} loads. */
export interface DayLoad {
  /** The partition date, `YYYY-MM-DD`. */
  date: string;
  /** Version of the rows' content, recorded in `loads`. */
  dataVersion: string;
  /** Run that loads them. */
  runId: string;
  /** Every row of the date; rows of the date not listed are removed. */
  rows: readonly CountRow[];
  /** Load time; now by default. */
  loadedAt?: Date;
}

/** One load of a date, as recorded in the `loads` table. */
export interface LoadRecord {
  /** The partition date. */
  date: string;
  /** Version of the rows' content. */
  dataVersion: string;
  /** Rows loaded. */
  rows: number;
  /** Load time, ISO 8601 in UTC. */
  loadedAt: string;
  /** Run that loaded them. */
  runId: string;
}

/** The latest load of a date and the rows the table holds for it now. */
export interface CurrentLoad extends LoadRecord {
  /** Rows of the date in `hourly_campaign_counts` now. */
  rowsPresent: number;
}

/** What {@linkcode Warehouse.summarize} is asked for. */
export interface SummaryRequest {
  /** First date, inclusive. */
  from: string;
  /** Last date, inclusive. */
  to: string;
  /** How many campaigns to list. */
  limit: number;
}

/** Aggregates over a date range. */
export interface WarehouseSummary {
  /** Campaigns by impressions, most first (ties by id, the empty one last). */
  topCampaigns: { campaign: string; impressions: number }[];
  /** Impressions per UTC hour, hours without impressions left out, by hour. */
  hours: { hour: number; impressions: number }[];
  /** Every loaded date in the range, by date. */
  days: { date: string; impressions: number; rows: number }[];
}

/** A warehouse connection. */
export interface Warehouse {
  /** Back end name, e.g. `sqlite` or `postgres`. */
  readonly kind: string;
  /** Where it is, without secrets (`sqlite:///abs/path`, `postgres://user@host:5432/db`). */
  readonly uri: string;
  /**
   * Replaces the date's rows by `load.rows` and records the load, in one
   * transaction: on failure the previous rows stay.
   */
  loadDay(load: DayLoad): Promise<LoadRecord>;
  /** The latest load of a date, or `null` when it was never loaded. */
  currentLoad(date: string): Promise<CurrentLoad | null>;
  /** Top campaigns, hourly and daily totals over a date range. */
  summarize(request: SummaryRequest): Promise<WarehouseSummary>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** A bad warehouse location or a failure talking to the warehouse. */
export class WarehouseError extends Error {
  /** Builds the error; the message is one line. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WarehouseError";
  }
}

/** How a back end is found and opened. */
export interface WarehouseBackend {
  /** Back end name. */
  name: string;
  /** Whether it handles a location. */
  accepts(location: string): boolean;
  /** Opens it (creating the tables when missing). */
  open(location: string, options: OpenWarehouseOptions): Promise<Warehouse>;
}

/** Options for {@linkcode openWarehouse}. */
export interface OpenWarehouseOptions {
  /** Password for a server whose URL has none (the CLI passes `PGPASSWORD`). */
  password?: string;
  /** Back ends to choose from; {@linkcode WAREHOUSE_BACKENDS} by default. */
  backends?: readonly WarehouseBackend[];
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The built-in back ends: PostgreSQL for `postgres://`, SQLite for paths.
 * Each is imported when opened, so a run without a warehouse loads neither.
 *
 * @example
 * ```ts
 * import { WAREHOUSE_BACKENDS } from "./warehouse.ts";
 * WAREHOUSE_BACKENDS.find((b) => b.accepts("postgres://app@db/x"))?.name; // "postgres"
 * ```
 */
export const WAREHOUSE_BACKENDS: readonly WarehouseBackend[] = [
  {
    name: "postgres",
    accepts: (location) => /^postgres(ql)?:\/\//i.test(location),
    open: async (location, options) =>
      (await import("./postgres_warehouse.ts")).openPostgresWarehouse(location, {
        password: options.password,
      }),
  },
  {
    name: "sqlite",
    accepts: (location) => /^sqlite:/i.test(location) || !URL_SCHEME.test(location),
    open: async (location) =>
      (await import("./sqlite_warehouse.ts")).openSqliteWarehouse(sqlitePath(location)),
  },
];

/**
 * The file path of a SQLite location: `sqlite:PATH`, `sqlite://PATH` or a path.
 *
 * @example
 * ```ts
 * import { sqlitePath } from "./warehouse.ts";
 * sqlitePath("sqlite:///var/lib/w.sqlite"); // "/var/lib/w.sqlite"
 * ```
 */
export function sqlitePath(location: string): string {
  return location.replace(/^sqlite:(\/\/)?/i, "");
}

/**
 * Opens the warehouse at `location`: a `postgres://USER@HOST:PORT/DB` URL, or
 * a SQLite file (`sqlite:PATH` or a plain path).
 *
 * @example
 * ```ts
 * import { openWarehouse } from "./warehouse.ts";
 * const warehouse = await openWarehouse("/tmp/warehouse.sqlite");
 * await warehouse.loadDay({
 *   date: "2021-01-30",
 *   dataVersion: "v1",
 *   runId: "example",
 *   rows: [{ campaign: "9624", hour: 13, count: 2 }],
 * });
 * await warehouse.close();
 * ```
 */
export async function openWarehouse(
  location: string,
  options: OpenWarehouseOptions = {},
): Promise<Warehouse> {
  const backends = options.backends ?? WAREHOUSE_BACKENDS;
  const backend = backends.find((b) => b.accepts(location));
  if (!backend) {
    throw new WarehouseError(
      `unsupported warehouse ${JSON.stringify(redact(location))}; use ${
        backends.map((b) => b.name).join(" or ")
      } (postgres://USER@HOST:PORT/DB, sqlite:PATH or a file path)`,
    );
  }
  return await backend.open(location, options);
}
