/**
 * The embedded warehouse: a SQLite file, through Deno's built-in
 * `node:sqlite` (no native add-on, only read and write permission on the
 * file and its folder). The empty campaign is stored as NULL and kept unique
 * per (date, hour) by a unique index on `ifnull(campaign_id, '')`: SQLite
 * never takes the text `''` as equal to an integer.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  type CurrentLoad,
  type DayLoad,
  type LoadRecord,
  type SummaryRequest,
  type Warehouse,
  WarehouseError,
  type WarehouseSummary,
} from "./warehouse.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hourly_campaign_counts (
  impression_date TEXT NOT NULL,
  campaign_id INTEGER,
  impression_hour INTEGER NOT NULL CHECK (impression_hour BETWEEN 0 AND 23),
  impression_count INTEGER NOT NULL CHECK (impression_count > 0),
  loaded_at TEXT NOT NULL,
  run_id TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS hourly_campaign_counts_key
  ON hourly_campaign_counts (impression_date, ifnull(campaign_id, ''), impression_hour);
CREATE TABLE IF NOT EXISTS loads (
  load_id INTEGER PRIMARY KEY AUTOINCREMENT,
  impression_date TEXT NOT NULL,
  data_version TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  loaded_at TEXT NOT NULL,
  run_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS loads_by_date ON loads (impression_date, load_id);
`;

type Row = Record<string, unknown>;

function int(value: unknown): number {
  return typeof value === "bigint" ? Number(value) : Number(value ?? 0);
}

/**
 * Opens (creating when missing) the SQLite warehouse at `path`.
 *
 * @example
 * ```ts
 * import { openSqliteWarehouse } from "./sqlite_warehouse.ts";
 * const warehouse = openSqliteWarehouse("/tmp/warehouse.sqlite");
 * console.log(await warehouse.currentLoad("2021-01-30"));
 * await warehouse.close();
 * ```
 */
export function openSqliteWarehouse(path: string): Warehouse {
  const absolute = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  let db: DatabaseSync;
  try {
    const folder = absolute.slice(0, absolute.lastIndexOf("/"));
    if (folder) Deno.mkdirSync(folder, { recursive: true });
    db = new DatabaseSync(absolute);
    db.exec("PRAGMA busy_timeout = 10000");
    db.exec(SCHEMA);
  } catch (error) {
    throw new WarehouseError(
      `cannot open SQLite warehouse ${JSON.stringify(absolute)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const statement = (sql: string): StatementSync => {
    const s = db.prepare(sql);
    s.setReadBigInts(true);
    return s;
  };
  const insertRow = statement(
    `INSERT INTO hourly_campaign_counts
       (impression_date, campaign_id, impression_hour, impression_count, loaded_at, run_id)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const deleteDay = statement("DELETE FROM hourly_campaign_counts WHERE impression_date = ?");
  const insertLoad = statement(
    `INSERT INTO loads (impression_date, data_version, row_count, loaded_at, run_id)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const latestLoad = statement(
    `SELECT data_version, row_count, loaded_at, run_id,
       (SELECT count(*) FROM hourly_campaign_counts WHERE impression_date = ?1) AS present
     FROM loads WHERE impression_date = ?1 ORDER BY load_id DESC LIMIT 1`,
  );
  const uri = `sqlite://${absolute}`;
  let closed = false;

  return {
    kind: "sqlite",
    uri,
    loadDay(load: DayLoad): Promise<LoadRecord> {
      const loadedAt = (load.loadedAt ?? new Date()).toISOString();
      // Synchronous from BEGIN to COMMIT: nothing else in this process runs
      // in between, and BEGIN IMMEDIATE keeps other processes out.
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          deleteDay.run(load.date);
          for (const row of load.rows) {
            insertRow.run(
              load.date,
              row.campaign === "" ? null : BigInt(row.campaign),
              row.hour,
              row.count,
              loadedAt,
              load.runId,
            );
          }
          insertLoad.run(load.date, load.dataVersion, load.rows.length, loadedAt, load.runId);
          db.exec("COMMIT");
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      } catch (error) {
        return Promise.reject(
          new WarehouseError(
            `loading ${load.date} into ${uri} failed: ${(error as Error).message}`,
            { cause: error },
          ),
        );
      }
      return Promise.resolve({
        date: load.date,
        dataVersion: load.dataVersion,
        rows: load.rows.length,
        loadedAt,
        runId: load.runId,
      });
    },
    currentLoad(date: string): Promise<CurrentLoad | null> {
      const row = latestLoad.get(date) as Row | undefined;
      if (!row) return Promise.resolve(null);
      return Promise.resolve({
        date,
        dataVersion: String(row.data_version),
        rows: int(row.row_count),
        loadedAt: String(row.loaded_at),
        runId: String(row.run_id),
        rowsPresent: int(row.present),
      });
    },
    summarize({ from, to, limit }: SummaryRequest): Promise<WarehouseSummary> {
      const campaigns = statement(
        `SELECT campaign_id, sum(impression_count) AS impressions
         FROM hourly_campaign_counts WHERE impression_date BETWEEN ? AND ?
         GROUP BY campaign_id ORDER BY impressions DESC, campaign_id ASC NULLS LAST LIMIT ?`,
      ).all(from, to, limit) as Row[];
      const hours = statement(
        `SELECT impression_hour, sum(impression_count) AS impressions
         FROM hourly_campaign_counts WHERE impression_date BETWEEN ? AND ?
         GROUP BY impression_hour ORDER BY impression_hour`,
      ).all(from, to) as Row[];
      const days = statement(
        `SELECT l.impression_date AS date,
           (SELECT ifnull(sum(impression_count), 0) FROM hourly_campaign_counts c
             WHERE c.impression_date = l.impression_date) AS impressions,
           (SELECT count(*) FROM hourly_campaign_counts c
             WHERE c.impression_date = l.impression_date) AS row_count
         FROM (SELECT DISTINCT impression_date FROM loads
               WHERE impression_date BETWEEN ? AND ?) l
         ORDER BY l.impression_date`,
      ).all(from, to) as Row[];
      return Promise.resolve({
        topCampaigns: campaigns.map((r) => ({
          campaign: r.campaign_id === null ? "" : String(r.campaign_id),
          impressions: int(r.impressions),
        })),
        hours: hours.map((r) => ({
          hour: int(r.impression_hour),
          impressions: int(r.impressions),
        })),
        days: days.map((r) => ({
          date: String(r.date),
          impressions: int(r.impressions),
          rows: int(r.row_count),
        })),
      });
    },
    close() {
      if (!closed) db.close();
      closed = true;
      return Promise.resolve();
    },
  };
}
