/**
 * `hourly_device_counts`, the second transformation, end to end from the
 * in-process S3 endpoint: the published CSV, the warn check for a file
 * without `DEVICE_TYPE`, idempotent reruns, and that a plain `materialize`
 * still runs only `published_csv` and its upstreams.
 */

import assert from "node:assert/strict";
import { formatDeviceCountsCsv } from "../assets/hourly_device_counts.ts";
import { csv, gzip, row, runCli, withTempDir } from "./_helpers.ts";
import { startTestS3 } from "./_s3_server.ts";

const BUCKET = "devices-e2e";
const KEY = "results/2021/01/30/device_agg_20210130_T.csv";

Deno.test({
  name: "hourly_device_counts: published CSV, warn check for a file without DEVICE_TYPE",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startTestS3();
    try {
      s3.createBucket(BUCKET);
      await s3.put(BUCKET, {
        "2021/01/30/a.csv": csv(
          row("a1", "2021-01-30 00:10:00", "1", "Mobile"),
          row("a2", "2021-01-30 00:20:00", "2", " TV "),
          row("a3", "2021-01-30 00:30:00", "1", '"Smart, TV"'),
          row("a4", "2021-01-30 05:00:00", "1", "Mobile"),
          row("a5", "2021-01-30 05:30:00", "3", ""),
          row("a6", "2021-01-31 00:00:00", "3", "Mobile"), // another date
        ),
        // No DEVICE_TYPE column: its rows count as the empty device; a1 is a duplicate.
        "2021/01/30/b.csv.gz": await gzip(
          "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\n" +
            "a1,2021-01-30 00:10:00,1\nb1,2021-01-30 05:10:00,9\nb2,2021-01-30 23:00:00,9\n",
        ),
      });
      await withTempDir(async (dir) => {
        const args = [
          "--date",
          "2021-01-30",
          "--bucket",
          `s3://${BUCKET}`,
          "--endpoint-url",
          s3.endpoint,
          "--initials",
          "T",
          "--cache-dir",
          `${dir}/cache`,
        ];

        await t.step("a plain materialize does not run it", async () => {
          const r = await runCli(["materialize", ...args]);
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(r.stdout, [
            `s3://${BUCKET}/results/2021/01/30/daily_agg_20210130_T.csv`,
          ]);
          assert.doesNotMatch(r.stderr, /hourly_device_counts|warehouse|parquet/);
          assert.equal(await s3.text(BUCKET, KEY), null);
        });

        await t.step("selected, it publishes device_agg and warns about the file", async () => {
          const r = await runCli(["materialize", ...args, "--select", "hourly_device_counts"]);
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(r.stdout, [`s3://${BUCKET}/${KEY}`]);
          assert.equal(
            await s3.text(BUCKET, KEY),
            [
              "DEVICE_TYPE,IMPRESSION_HOUR,IMPRESSION_COUNT",
              "Mobile,0,1",
              "Mobile,5,1",
              '"Smart, TV",0,1',
              "TV,0,1",
              ",5,2",
              ",23,1",
              "",
            ].join("\n"),
          );
          assert.match(
            r.stderr,
            /hourly_device_counts: materialized .*\[warn device_type_column: 1 file\(s\) without a DEVICE_TYPE column; their 2 rows count as the empty device: 2021\/01\/30\/b\.csv\.gz\]/,
          );
        });

        await t.step("a rerun is up to date; an altered result is published again", async () => {
          const again = await runCli(["materialize", ...args, "--select", "hourly_device_counts"]);
          assert.equal(again.code, 0, again.stderr);
          assert.match(again.stderr, /hourly_device_counts: up to date/);
          const before = await s3.text(BUCKET, KEY);
          await s3.put(BUCKET, { [KEY]: "tampered\n" });
          const fixed = await runCli(["materialize", ...args, "--select", "hourly_device_counts"]);
          assert.match(fixed.stderr, /hourly_device_counts: materialized/);
          assert.equal(await s3.text(BUCKET, KEY), before);
        });

        await t.step("the graph lists it downstream of deduped_impressions", async () => {
          const r = await runCli(["graph"]);
          assert.equal(r.code, 0);
          assert.ok(
            r.stdout.join("\n").includes("hourly_device_counts (v1) <- deduped_impressions"),
          );
        });
      });
    } finally {
      await s3.stop();
    }
  },
});

Deno.test("formatDeviceCountsCsv quotes only what needs quoting", () => {
  assert.equal(
    formatDeviceCountsCsv([
      { device: 'say "hi"', hour: 1, count: 2 },
      { device: "a\nb", hour: 2, count: 1 },
      { device: "", hour: 3, count: 4 },
    ]),
    'DEVICE_TYPE,IMPRESSION_HOUR,IMPRESSION_COUNT\n"say ""hi""",1,2\n"a\nb",2,1\n,3,4\n',
  );
});
