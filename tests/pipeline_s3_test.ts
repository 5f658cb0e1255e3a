/**
 * End-to-end runs of the CLI against a real S3 HTTP endpoint (in-process
 * `fauxqs` on 127.0.0.1).
 */

import assert from "node:assert/strict";
import { csv, materializeArgs, row, runCli, withTempDir } from "./_helpers.ts";
import { startTestS3 } from "./_s3_server.ts";

const RESULT = "results/2021/01/30/daily_agg_20210130_T.csv";

Deno.test({
  name: "S3 end to end: more than 1,000 objects, idempotent rerun, bad input publishes nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startTestS3();
    try {
      s3.createBucket("impressions-e2e");
      const objects: Record<string, string> = {};
      for (let i = 0; i < 1050; i++) {
        const hour = String(i % 24).padStart(2, "0");
        // Every object repeats the previous object's row: 1,049 duplicates.
        objects[`2021/01/30/part-${String(i).padStart(5, "0")}.csv`] = csv(
          row(`id-${i}`, `2021-01-30 ${hour}:00:00`, String(i % 3)),
          ...(i > 0
            ? [
              row(
                `id-${i - 1}`,
                `2021-01-30 ${String((i - 1) % 24).padStart(2, "0")}:00:00`,
                String((i - 1) % 3),
              ),
            ]
            : []),
        );
      }
      objects["2021/01/30/_SUCCESS"] = "";
      await s3.put("impressions-e2e", objects);
      await withTempDir(async (dir) => {
        const args = [
          ...materializeArgs("s3://impressions-e2e", `${dir}/cache`),
          "--endpoint-url",
          s3.endpoint,
        ];
        await t.step("first run reads every page and publishes", async () => {
          const r = await runCli(args);
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(r.stdout, [`s3://impressions-e2e/${RESULT}`]);
          assert.match(
            r.stderr,
            /raw_partition: materialized .*objects=1050 objectsDownloaded=1050/,
          );
          assert.match(r.stderr, /rowsIn=2099 rowsOut=1050 duplicates=1049 lateRows=0/);
          const body = await s3.text("impressions-e2e", RESULT);
          const lines = body!.trimEnd().split("\n");
          assert.equal(lines[0], "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT");
          assert.equal(lines.slice(1).reduce((n, l) => n + Number(l.split(",")[2]), 0), 1050);
          assert.equal(lines.length, 1 + 24); // i % 24 fixes i % 3
        });
        await t.step("a rerun changes nothing", async () => {
          const before = await s3.lastModified("impressions-e2e", RESULT);
          const r = await runCli([...args, "--force"]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /published_csv: materialized .*bytes=\d+/);
          const receipt = JSON.parse(
            await Deno.readTextFile(`${dir}/cache/2021-01-30/published_csv/manifest.json`),
          );
          assert.equal(receipt.value.uploaded, false);
          assert.equal(await s3.lastModified("impressions-e2e", RESULT), before);
          const again = await runCli(args);
          assert.match(again.stderr, /published_csv: up to date/);
        });
      });
      await t.step("a bad row leaves nothing published", async () => {
        await s3.put("impressions-e2e", {
          "2021/01/31/a.csv": csv(row("x", "2021-01-31 01:00:00", "1")),
          "2021/01/31/b.csv": csv(row("y", "2021-01-31 01:00:60", "1")),
        });
        await withTempDir(async (dir) => {
          const r = await runCli([
            "materialize",
            "--date",
            "2021-01-31",
            "--bucket",
            "impressions-e2e",
            "--endpoint-url",
            s3.endpoint,
            "--initials",
            "T",
            "--cache-dir",
            dir,
          ]);
          assert.equal(r.code, 1);
          assert.deepEqual(r.stdout, []);
          assert.equal(
            r.stderr.split("\n").at(-1),
            'error: 2021/01/31/b.csv line 2, column IMPRESSION_DATETIME: second 60 is out of range (value "2021-01-31 01:00:60")',
          );
          assert.equal(
            await s3.text("impressions-e2e", "results/2021/01/31/daily_agg_20210131_T.csv"),
            null,
          );
        });
      });
      await t.step("a missing bucket is named", async () => {
        await withTempDir(async (dir) => {
          const r = await runCli([
            "materialize",
            "--date",
            "2021-01-30",
            "--bucket",
            "no-such-bucket",
            "--endpoint-url",
            s3.endpoint,
            "--cache-dir",
            dir,
          ]);
          assert.equal(r.code, 1);
          assert.equal(r.stderr.split("\n").at(-1), "error: bucket not found: s3://no-such-bucket");
        });
      });
    } finally {
      await s3.stop();
    }
  },
});
