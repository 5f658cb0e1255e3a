/**
 * `insights` on a small warehouse loaded by `materialize --select
 * warehouse_hourly_counts`: exact text, CSV and JSON output, the duplicate
 * share from the cache or (once the cache is cleaned) the run records, and
 * the same output from PostgreSQL.
 */

import assert from "node:assert/strict";
import { csv, row, runCli, withTempDir, writeObjects } from "./_helpers.ts";
import { postgresTest } from "./_postgres.ts";

/** Loads 2021-01-30 and 2021-01-31 into the warehouse `flags` name (default: SQLite). */
async function loadSmallWarehouse(dir: string, flags: string[] = []): Promise<void> {
  await writeObjects(`${dir}/bucket`, {
    "2021/01/30/a.csv": csv(
      row("a1", "2021-01-30 01:00:00", "7"),
      row("a2", "2021-01-30 01:30:00", "7"),
      row("a3", "2021-01-30 02:00:00", "7"),
      row("a4", "2021-01-30 01:45:00", "9"),
      row("a5", "2021-01-30 02:15:00", ""),
    ),
    "2021/01/30/b.csv": csv(row("a1", "2021-01-30 01:00:00", "7")), // a duplicate
    "2021/01/31/a.csv": csv(
      row("c1", "2021-01-31 01:00:00", "9"),
      row("c2", "2021-01-31 01:10:00", "9"),
      row("c3", "2021-01-31 01:20:00", "9"),
      row("c4", "2021-01-31 04:00:00", "7"),
    ),
  });
  const r = await runCli([
    "materialize",
    "--from",
    "2021-01-30",
    "--to",
    "2021-01-31",
    "--bucket",
    `${dir}/bucket`,
    "--cache-dir",
    `${dir}/cache`,
    "--select",
    "warehouse_hourly_counts",
    ...flags,
  ]);
  assert.equal(r.code, 0, r.stderr);
}

const TEXT = `Impressions from 2021-01-29 to 2021-01-31: 9 in 2 of 3 days loaded

Top campaigns
rank  campaign_id  impressions   share
   1  7                      4  44.44%
   2  9                      4  44.44%
   3  (empty)                1  11.11%

Busiest hours (UTC)
rank  impression_hour  impressions   share
   1                1            6  66.67%
   2                2            2  22.22%
   3                4            1  11.11%

Days
impression_date  impressions  rows_read  duplicates  duplicate_share
2021-01-29                 -          -           -                -
2021-01-30                 5          6           1           16.67%
2021-01-31                 4          4           0            0.00%`;

const CSV = `rank,campaign_id,impressions,share
1,7,4,0.444444
2,9,4,0.444444
3,,1,0.111111

rank,impression_hour,impressions,share
1,1,6,0.666667
2,2,2,0.222222
3,4,1,0.111111

impression_date,impressions,rows_read,duplicates,duplicate_share
2021-01-29,,,,
2021-01-30,5,6,1,0.166667
2021-01-31,4,4,0,0`;

Deno.test("insights on a small SQLite warehouse: text, CSV, JSON", async (t) => {
  await withTempDir(async (dir) => {
    await loadSmallWarehouse(dir);
    const insights = (...more: string[]) =>
      runCli([
        "insights",
        "--from",
        "2021-01-29",
        "--to",
        "2021-01-31",
        "--cache-dir",
        `${dir}/cache`,
        ...more,
      ]);

    await t.step("aligned tables", async () => {
      const r = await insights();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.join("\n"), TEXT);
    });

    await t.step("CSV, all tables or one", async () => {
      const r = await insights("--format", "csv");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.join("\n"), CSV);
      const days = await insights("--format", "csv", "--table", "days");
      assert.equal(days.stdout.join("\n"), CSV.split("\n\n")[2]);
    });

    await t.step("JSON, with --limit", async () => {
      const r = await insights("--format", "json", "--limit", "1");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout.join("\n")), {
        from: "2021-01-29",
        to: "2021-01-31",
        totalImpressions: 9,
        topCampaigns: [{ rank: 1, campaignId: "7", impressions: 4, share: 4 / 9 }],
        busiestHours: [{ rank: 1, hour: 1, impressions: 6, share: 6 / 9 }],
        days: [
          {
            date: "2021-01-29",
            impressions: null,
            rowsRead: null,
            duplicates: null,
            duplicateShare: null,
          },
          { date: "2021-01-30", impressions: 5, rowsRead: 6, duplicates: 1, duplicateShare: 1 / 6 },
          { date: "2021-01-31", impressions: 4, rowsRead: 4, duplicates: 0, duplicateShare: 0 },
        ],
      });
    });

    await t.step(
      "the duplicate share comes from the run records once the cache is gone",
      async () => {
        const clean = await runCli([
          "clean",
          "--date",
          "2021-01-30",
          "--cache-dir",
          `${dir}/cache`,
        ]);
        assert.equal(clean.code, 0, clean.stderr);
        const r = await insights("--format", "csv", "--table", "days");
        assert.equal(r.stdout.join("\n"), CSV.split("\n\n")[2]);
      },
    );

    await t.step("bad flags are usage errors", async () => {
      const format = await insights("--format", "xml");
      assert.equal(format.code, 2);
      assert.match(format.stderr, /^usage error: --format must be text, csv, json, not "xml"/);
      const range = await runCli(["insights", "--from", "2021-01-31", "--to", "2021-01-30"]);
      assert.equal(range.code, 2);
      assert.match(range.stderr, /^usage error: --to 2021-01-30 is before --from 2021-01-31/);
      const none = await runCli(["insights"]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /^usage error: insights needs --from D --to D/);
    });
  });
});

Deno.test(postgresTest("insights gives the same output", async (url) => {
  await withTempDir(async (dir) => {
    await loadSmallWarehouse(dir, ["--warehouse", url]);
    const r = await runCli([
      "insights",
      "--from",
      "2021-01-29",
      "--to",
      "2021-01-31",
      "--cache-dir",
      `${dir}/cache`,
      "--warehouse",
      url,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.join("\n"), TEXT);
  });
}));
