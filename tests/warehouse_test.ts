/**
 * `warehouse_hourly_counts` end to end from the in-process S3 endpoint into
 * SQLite and PostgreSQL: exact rows (NULL for the empty campaign, 64-bit
 * ids), idempotent reruns, a changed day replacing its rows, and a load
 * that fails midway leaving the previous rows.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { rowsVersion } from "../assets/warehouse_hourly_counts.ts";
import { listRunRecords } from "../materializer/runs.ts";
import { csv, gzip, row, runCli, withTempDir, writeObjects } from "./_helpers.ts";
import { pgQuery, postgresTest } from "./_postgres.ts";
import { startTestS3, type TestS3 } from "./_s3_server.ts";

const BIG = "9223372036854775807";

/** One row of `hourly_campaign_counts` as the tests compare it. */
interface TableRow {
  date: string;
  campaign: string | null;
  hour: number;
  count: number;
  loadedAt: string;
  runId: string;
}

/** One row of `loads`. */
interface LoadRow {
  date: string;
  dataVersion: string;
  rows: number;
  runId: string;
}

/** How a test reads and sabotages one back end. */
interface Backend {
  /** `--warehouse` flag and value, or none for the default SQLite file. */
  flags: string[];
  rows(): Promise<TableRow[]>;
  loads(): Promise<LoadRow[]>;
  /** Runs SQL that both back ends understand. */
  exec(text: string): Promise<void>;
  /** Makes inserting campaign 666 fail. */
  addFault(): Promise<void>;
  removeFault(): Promise<void>;
}

function sqliteBackend(path: string, flags: string[]): Backend {
  const query = (text: string) => {
    const db = new DatabaseSync(path);
    try {
      const statement = db.prepare(text);
      statement.setReadBigInts(true);
      return statement.all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  };
  const exec = (text: string) => {
    const db = new DatabaseSync(path);
    try {
      db.exec(text);
    } finally {
      db.close();
    }
  };
  return {
    flags,
    rows: () =>
      Promise.resolve(
        query(
          `SELECT * FROM hourly_campaign_counts
           ORDER BY impression_date, campaign_id IS NULL, campaign_id, impression_hour`,
        ).map((r) => ({
          date: String(r.impression_date),
          campaign: r.campaign_id === null ? null : String(r.campaign_id),
          hour: Number(r.impression_hour),
          count: Number(r.impression_count),
          loadedAt: String(r.loaded_at),
          runId: String(r.run_id),
        })),
      ),
    loads: () =>
      Promise.resolve(
        query("SELECT * FROM loads ORDER BY load_id").map((r) => ({
          date: String(r.impression_date),
          dataVersion: String(r.data_version),
          rows: Number(r.row_count),
          runId: String(r.run_id),
        })),
      ),
    addFault: () =>
      Promise.resolve(exec(
        `CREATE TRIGGER inject_fault BEFORE INSERT ON hourly_campaign_counts
         WHEN NEW.campaign_id = 666 BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
      )),
    removeFault: () => Promise.resolve(exec("DROP TRIGGER inject_fault")),
    exec: (text) => Promise.resolve(exec(text)),
  };
}

function postgresBackend(url: string): Backend {
  return {
    flags: ["--warehouse", url],
    async rows() {
      return (await pgQuery(
        url,
        `SELECT impression_date::text AS d, campaign_id::text AS c, impression_hour AS h,
           impression_count::text AS n,
           to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t, run_id
         FROM hourly_campaign_counts
         ORDER BY impression_date, campaign_id NULLS LAST, impression_hour`,
      )).map((r) => ({
        date: String(r.d),
        campaign: r.c === null ? null : String(r.c),
        hour: Number(r.h),
        count: Number(r.n),
        loadedAt: String(r.t),
        runId: String(r.run_id),
      }));
    },
    async loads() {
      return (await pgQuery(
        url,
        `SELECT impression_date::text AS d, data_version, row_count::text AS n, run_id
         FROM loads ORDER BY load_id`,
      )).map((r) => ({
        date: String(r.d),
        dataVersion: String(r.data_version),
        rows: Number(r.n),
        runId: String(r.run_id),
      }));
    },
    async addFault() {
      await pgQuery(
        url,
        `CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.campaign_id = 666 THEN RAISE EXCEPTION 'injected failure'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER inject_fault BEFORE INSERT ON hourly_campaign_counts
           FOR EACH ROW EXECUTE FUNCTION inject_fault();`,
      );
    },
    async exec(text) {
      await pgQuery(url, text);
    },
    async removeFault() {
      await pgQuery(
        url,
        "DROP TRIGGER inject_fault ON hourly_campaign_counts; DROP FUNCTION inject_fault();",
      );
    },
  };
}

/** Expected rows of a date: [campaign or null, hour, count]. */
type Cells = [string | null, number, number][];

function versionOf(cells: Cells): string {
  return rowsVersion(cells.map(([c, hour, count]) => ({ campaign: c ?? "", hour, count })));
}

async function latestRunId(cacheDir: string): Promise<string> {
  return (await listRunRecords(cacheDir, 1))[0].runId;
}

/** The same scenario for every back end. */
async function scenario(
  t: Deno.TestContext,
  s3: TestS3,
  bucket: string,
  backend: Backend,
  dir: string,
) {
  s3.createBucket(bucket);
  await s3.put(bucket, {
    "2021/01/30/a.csv": csv(
      row("a1", "2021-01-30 00:10:00", "1"),
      row("a2", "2021-01-30 01:10:00", "1"),
      row("a3", "2021-01-30 05:00:00", BIG),
      row("a4", "2021-01-30 03:00:00", ""),
      row("a5", "2021-01-30 03:30:00", ""),
    ),
    // a1 again (a duplicate) and one more row of the empty campaign.
    "2021/01/30/b.csv.gz": await gzip(csv(
      row("a1", "2021-01-30 00:10:00", "1"),
      row("b1", "2021-01-30 03:40:00", " "),
    )),
    "2021/01/31/a.csv": csv(row("c1", "2021-01-31 07:00:00", "42")),
  });
  {
    const cache = `${dir}/cache`;
    const args = (...more: string[]) => [
      "materialize",
      "--bucket",
      `s3://${bucket}`,
      "--endpoint-url",
      s3.endpoint,
      "--initials",
      "T",
      "--cache-dir",
      cache,
      "--select",
      "warehouse_hourly_counts",
      ...backend.flags,
      ...more,
    ];
    const day30: Cells = [["1", 0, 1], ["1", 1, 1], [BIG, 5, 1], [null, 3, 3]];
    const day31: Cells = [["42", 7, 1]];
    const expect = (date: string, cells: Cells, loadedAt: string, runId: string): TableRow[] =>
      cells.map(([campaign, hour, count]) => ({ date, campaign, hour, count, loadedAt, runId }));
    let first: TableRow[] = [];

    await t.step("first run loads both dates, the empty campaign as NULL", async () => {
      const r = await runCli(args("--from", "2021-01-30", "--to", "2021-01-31"));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, 2);
      assert.match(r.stdout[0], /#hourly_campaign_counts\/2021-01-30$/);
      assert.match(r.stdout[1], /#hourly_campaign_counts\/2021-01-31$/);
      const runId = await latestRunId(cache);
      first = await backend.rows();
      const loadedAt30 = first[0].loadedAt;
      const loadedAt31 = first.at(-1)!.loadedAt;
      assert.match(loadedAt30, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(first, [
        ...expect("2021-01-30", day30, loadedAt30, runId),
        ...expect("2021-01-31", day31, loadedAt31, runId),
      ]);
      assert.deepEqual(
        (await backend.loads()).sort((a, b) => a.date < b.date ? -1 : 1),
        [
          { date: "2021-01-30", dataVersion: versionOf(day30), rows: 4, runId },
          { date: "2021-01-31", dataVersion: versionOf(day31), rows: 1, runId },
        ],
      );
    });

    await t.step("a rerun, even forced, leaves the same rows", async () => {
      const again = await runCli(args("--date", "2021-01-30"));
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /warehouse_hourly_counts: up to date/);
      const forced = await runCli(args("--date", "2021-01-30", "--force"));
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stderr, /warehouse_hourly_counts: materialized .*rows=4\b/);
      assert.deepEqual(await backend.rows(), first);
      assert.equal((await backend.loads()).length, 2);
    });

    let second: TableRow[] = [];
    await t.step("a changed day replaces its rows; rows that disappeared are removed", async () => {
      // a2 (campaign 1, hour 1) is gone; campaign 7 appears.
      await s3.put(bucket, {
        "2021/01/30/a.csv": csv(
          row("a1", "2021-01-30 00:10:00", "1"),
          row("a3", "2021-01-30 05:00:00", BIG),
          row("a4", "2021-01-30 03:00:00", ""),
          row("a5", "2021-01-30 03:30:00", ""),
          row("a6", "2021-01-30 23:59:59", "7"),
        ),
      });
      const r = await runCli(args("--date", "2021-01-30"));
      assert.equal(r.code, 0, r.stderr);
      const runId = await latestRunId(cache);
      second = await backend.rows();
      const changed: Cells = [["1", 0, 1], ["7", 23, 1], [BIG, 5, 1], [null, 3, 3]];
      assert.deepEqual(second, [
        ...expect("2021-01-30", changed, second[0].loadedAt, runId),
        ...first.filter((x) => x.date === "2021-01-31"),
      ]);
      assert.notEqual(second[0].loadedAt, first[0].loadedAt);
      const loads = await backend.loads();
      assert.equal(loads.length, 3);
      assert.deepEqual(loads.at(-1), {
        date: "2021-01-30",
        dataVersion: versionOf(changed),
        rows: 4,
        runId,
      });
    });

    await t.step("a load that fails midway leaves the previous rows", async () => {
      // Campaign 666 sorts between 1 and 7: the date's rows were deleted and
      // some inserted before the failure.
      await s3.put(bucket, {
        "2021/01/30/c.csv": csv(row("c6", "2021-01-30 12:00:00", "666")),
      });
      await backend.addFault();
      const r = await runCli(args("--date", "2021-01-30"));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /warehouse_hourly_counts: failed .*loading 2021-01-30 into .*injected failure/,
      );
      assert.deepEqual(await backend.rows(), second);
      assert.equal((await backend.loads()).length, 3);

      await backend.removeFault();
      const retry = await runCli(args("--date", "2021-01-30"));
      assert.equal(retry.code, 0, retry.stderr);
      const rows = await backend.rows();
      assert.deepEqual(
        rows.filter((x) => x.date === "2021-01-30").map((x) => [x.campaign, x.hour, x.count]),
        [["1", 0, 1], ["7", 23, 1], ["666", 12, 1], [BIG, 5, 1], [null, 3, 3]],
      );
      assert.deepEqual(
        rows.filter((x) => x.date === "2021-01-31"),
        first.filter((x) => x.date === "2021-01-31"),
      );
      assert.equal((await backend.loads()).length, 4);
    });

    await t.step("rows deleted behind its back are loaded again", async () => {
      const before = await backend.rows();
      await backend.exec("DELETE FROM hourly_campaign_counts WHERE impression_date = '2021-01-31'");
      const r = await runCli(args("--date", "2021-01-31"));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /warehouse_hourly_counts: materialized/);
      const after = await backend.rows();
      assert.deepEqual(
        after.map(({ loadedAt: _, runId: __, ...x }) => x),
        before.map(({ loadedAt: _, runId: __, ...x }) => x),
      );
    });
  }
}

Deno.test({
  name: "warehouse_hourly_counts end to end (SQLite, the default file in the cache dir)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startTestS3();
    try {
      // No --warehouse: the default file in the cache dir.
      await withTempDir((dir) =>
        scenario(t, s3, "wh-sqlite", sqliteBackend(`${dir}/cache/warehouse.sqlite`, []), dir)
      );
    } finally {
      await s3.stop();
    }
  },
});

Deno.test(postgresTest("warehouse_hourly_counts end to end", async (url, t) => {
  const s3 = await startTestS3();
  try {
    await withTempDir((dir) => scenario(t, s3, "wh-postgres", postgresBackend(url), dir));
  } finally {
    await s3.stop();
  }
}));

Deno.test("--warehouse sqlite:PATH; an unsupported or incomplete location is a one-line error", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")),
    });
    const base = [
      "materialize",
      "--date",
      "2021-01-30",
      "--bucket",
      `${dir}/b`,
      "--cache-dir",
      `${dir}/c`,
      "--select",
      "warehouse_hourly_counts",
    ];
    const mysql = await runCli([...base, "--warehouse", "mysql://u:secret@h/db"]);
    assert.equal(mysql.code, 1);
    assert.equal(
      mysql.stderr,
      'error: unsupported warehouse "mysql://***@h/db"; use postgres or sqlite (postgres://USER@HOST:PORT/DB, sqlite:PATH or a file path)',
    );
    const custom = await runCli([...base, "--warehouse", `sqlite:${dir}/w/custom.db`]);
    assert.equal(custom.code, 0, custom.stderr);
    assert.deepEqual(custom.stdout, [
      `sqlite://${dir}/w/custom.db#hourly_campaign_counts/2021-01-30`,
    ]);
    const db = new DatabaseSync(`${dir}/w/custom.db`, { readOnly: true });
    assert.deepEqual(
      { ...db.prepare("SELECT count(*) AS n FROM hourly_campaign_counts").get() },
      { n: 1 },
    );
    db.close();
    const noUser = await runCli([...base, "--warehouse", "postgres://127.0.0.1:9/db"]);
    assert.equal(noUser.code, 1);
    assert.equal(
      noUser.stderr,
      'error: PostgreSQL URL "postgres://127.0.0.1:9/db" has no user name; use postgres://USER@HOST:PORT/DB',
    );
  });
});
