/**
 * The PostgreSQL warehouse (npm `postgres`, imported only when opened). The
 * empty campaign is stored as NULL and kept unique per (date, hour) by
 * `UNIQUE NULLS NOT DISTINCT` (PostgreSQL 15 or later). A load takes a
 * transaction-scoped advisory lock on its date, so two processes loading
 * the same date run one after the other.
 *
 * Reads `PGAPPNAME` and `PGTARGETSESSIONATTRS` (the client always looks
 * them up) and, for what the URL leaves out, `PGHOST`, `PGPORT`,
 * `PGDATABASE`; the password comes from the URL or the caller.
 *
 * @module
 */

import type { Sql } from "postgres";
import {
  type CurrentLoad,
  type DayLoad,
  type LoadRecord,
  type SummaryRequest,
  type Warehouse,
  WarehouseError,
  type WarehouseSummary,
} from "./warehouse.ts";
import { redact } from "./secrets.ts";
import { loadPackage } from "./npm_package.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS hourly_campaign_counts (
    impression_date date NOT NULL,
    campaign_id bigint,
    impression_hour smallint NOT NULL CHECK (impression_hour BETWEEN 0 AND 23),
    impression_count bigint NOT NULL CHECK (impression_count > 0),
    loaded_at timestamptz NOT NULL,
    run_id text NOT NULL,
    CONSTRAINT hourly_campaign_counts_key
      UNIQUE NULLS NOT DISTINCT (impression_date, campaign_id, impression_hour)
  )`,
  `CREATE TABLE IF NOT EXISTS loads (
    load_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    impression_date date NOT NULL,
    data_version text NOT NULL,
    row_count bigint NOT NULL,
    loaded_at timestamptz NOT NULL,
    run_id text NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS loads_by_date ON loads (impression_date, load_id)`,
];

/** Rows per INSERT statement. */
const BATCH = 10_000;

/**
 * The client's defaults, passed explicitly so that it does not look up one
 * `PG*` environment variable per setting (the URL's query still wins).
 */
const CLIENT_DEFAULTS: Record<string, unknown> = {
  max: 4,
  ssl: false,
  sslnegotiation: null,
  idle_timeout: null,
  connect_timeout: 10,
  max_lifetime: null,
  max_pipeline: 100,
  backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 20),
  keep_alive: 60,
  prepare: true,
  debug: false,
  fetch_types: true,
  publications: "alltables",
  target_session_attrs: null,
};

function isoTime(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/** The URI of a server location without its password. */
function publicUri(location: string): string {
  const url = new URL(location);
  const port = url.port || "5432";
  return `postgres://${
    url.username ? `${decodeURIComponent(url.username)}@` : ""
  }${url.hostname}:${port}${url.pathname}`;
}

/**
 * Options for the `postgres` client: its defaults spelled out (so that it
 * looks up no `PG*` variable per setting; the URL's query still wins), no
 * notices on stderr, and `password` when the URL has none.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { postgresClientOptions } from "./postgres_warehouse.ts";
 * const url = "postgres://app@127.0.0.1:5432/impressions";
 * const sql = postgres(url, postgresClientOptions(url));
 * ```
 */
export function postgresClientOptions(
  location: string,
  password?: string,
): Record<string, unknown> {
  const url = new URL(location);
  const options: Record<string, unknown> = {
    onnotice: () => {},
    connection: { application_name: "impressions" },
  };
  for (const [key, value] of Object.entries(CLIENT_DEFAULTS)) {
    const inQuery = url.searchParams.has(key) || (key === "ssl" && url.searchParams.has("sslmode"));
    if (!inQuery) options[key] = value;
  }
  if (!url.password && password) options.pass = password;
  return options;
}

/**
 * Connects to PostgreSQL at `location` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`)
 * and creates the tables when missing.
 *
 * @example
 * ```ts
 * import { openPostgresWarehouse } from "./postgres_warehouse.ts";
 * const warehouse = await openPostgresWarehouse("postgres://app@127.0.0.1:5432/impressions");
 * console.log(await warehouse.currentLoad("2021-01-30"));
 * await warehouse.close();
 * ```
 */
export async function openPostgresWarehouse(
  location: string,
  options: { password?: string } = {},
): Promise<Warehouse> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new WarehouseError(
      `invalid PostgreSQL URL ${JSON.stringify(redact(location))}`,
    );
  }
  if (!url.username) {
    throw new WarehouseError(
      `PostgreSQL URL ${
        JSON.stringify(redact(location))
      } has no user name; use postgres://USER@HOST:PORT/DB`,
    );
  }
  const uri = publicUri(location);
  const { default: postgres } = await loadPackage(() => import("postgres"));
  const sql: Sql = postgres(location, postgresClientOptions(location, options.password));
  const failed = (what: string, error: unknown) =>
    new WarehouseError(`${what} ${uri} failed: ${oneLine(error)}`, { cause: error });
  try {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext('impressions warehouse schema'))`;
      for (const statement of SCHEMA) await tx.unsafe(statement);
    });
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw failed("connecting to", error);
  }

  return {
    kind: "postgres",
    uri,
    async loadDay(load: DayLoad): Promise<LoadRecord> {
      const loadedAt = (load.loadedAt ?? new Date()).toISOString();
      try {
        await sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtext(${`impressions load ${load.date}`}))`;
          await tx`DELETE FROM hourly_campaign_counts WHERE impression_date = ${load.date}::date`;
          for (let i = 0; i < load.rows.length; i += BATCH) {
            const batch = load.rows.slice(i, i + BATCH);
            const campaigns = batch.map((r) => (r.campaign === "" ? null : r.campaign));
            const hours = batch.map((r) => r.hour);
            const counts = batch.map((r) => r.count);
            await tx`
              INSERT INTO hourly_campaign_counts
                (impression_date, campaign_id, impression_hour, impression_count, loaded_at, run_id)
              SELECT ${load.date}::date, c, h, n, ${loadedAt}::timestamptz, ${load.runId}
              FROM unnest(${campaigns}::bigint[], ${hours}::smallint[], ${counts}::bigint[])
                AS u(c, h, n)`;
          }
          await tx`
            INSERT INTO loads (impression_date, data_version, row_count, loaded_at, run_id)
            VALUES (${load.date}::date, ${load.dataVersion}, ${load.rows.length},
              ${loadedAt}::timestamptz, ${load.runId})`;
        });
      } catch (error) {
        throw failed(`loading ${load.date} into`, error);
      }
      return {
        date: load.date,
        dataVersion: load.dataVersion,
        rows: load.rows.length,
        loadedAt,
        runId: load.runId,
      };
    },
    async currentLoad(date: string): Promise<CurrentLoad | null> {
      let rows;
      try {
        rows = await sql`
          SELECT data_version, row_count::text AS row_count, loaded_at, run_id,
            (SELECT count(*) FROM hourly_campaign_counts WHERE impression_date = ${date}::date)::text
              AS present
          FROM loads WHERE impression_date = ${date}::date ORDER BY load_id DESC LIMIT 1`;
      } catch (error) {
        throw failed(`reading the loads of ${date} from`, error);
      }
      if (rows.length === 0) return null;
      const row = rows[0];
      return {
        date,
        dataVersion: String(row.data_version),
        rows: Number(row.row_count),
        loadedAt: isoTime(row.loaded_at),
        runId: String(row.run_id),
        rowsPresent: Number(row.present),
      };
    },
    async summarize({ from, to, limit }: SummaryRequest): Promise<WarehouseSummary> {
      try {
        const campaigns = await sql`
          SELECT campaign_id::text AS campaign_id, sum(impression_count)::text AS impressions
          FROM hourly_campaign_counts
          WHERE impression_date BETWEEN ${from}::date AND ${to}::date
          GROUP BY campaign_id
          ORDER BY sum(impression_count) DESC, campaign_id ASC NULLS LAST
          LIMIT ${limit}`;
        const hours = await sql`
          SELECT impression_hour, sum(impression_count)::text AS impressions
          FROM hourly_campaign_counts
          WHERE impression_date BETWEEN ${from}::date AND ${to}::date
          GROUP BY impression_hour ORDER BY impression_hour`;
        const days = await sql`
          SELECT l.impression_date::text AS date,
            coalesce(sum(c.impression_count), 0)::text AS impressions,
            count(c.impression_date)::text AS row_count
          FROM (SELECT DISTINCT impression_date FROM loads
                WHERE impression_date BETWEEN ${from}::date AND ${to}::date) l
          LEFT JOIN hourly_campaign_counts c ON c.impression_date = l.impression_date
          GROUP BY l.impression_date ORDER BY l.impression_date`;
        return {
          topCampaigns: campaigns.map((r) => ({
            campaign: r.campaign_id ?? "",
            impressions: Number(r.impressions),
          })),
          hours: hours.map((r) => ({
            hour: Number(r.impression_hour),
            impressions: Number(r.impressions),
          })),
          days: days.map((r) => ({
            date: String(r.date),
            impressions: Number(r.impressions),
            rows: Number(r.row_count),
          })),
        };
      } catch (error) {
        throw failed(`summarizing ${from}..${to} in`, error);
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
