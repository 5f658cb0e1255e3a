/**
 * The race an outside review found: two runs with different cache dirs,
 * the inputs changed between their listings, the older run uploading last.
 * The published object must reflect the later listing and say so in its
 * provenance metadata; the older run yields (exit 0).
 */

import assert from "node:assert/strict";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { csv, REPO, row, runCli, taskPermissions, withTempDir } from "./_helpers.ts";
import { MOTO_MISSING, startMotoS3 } from "./_moto_server.ts";
import { dayObjects, resultKey, startWorker, waitForFile } from "./_shared_state.ts";

const DATE = "2021-05-10";

function args(endpoint: string, cacheDir: string): string[] {
  return [
    "materialize",
    "--date",
    DATE,
    "--bucket",
    "s3://data",
    "--endpoint-url",
    endpoint,
    "--initials",
    "SS",
    "--cache-dir",
    cacheDir,
    "--workers",
    "0",
    "--max-invalid-rows",
    "1",
  ];
}

const REJECTED = `results/${DATE.replaceAll("-", "/")}/rejected_${DATE.replaceAll("-", "")}_SS.csv`;

Deno.test({
  name: "publish race: the run that listed later wins, whichever uploads last",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startMotoS3();
    try {
      await s3.createBucket("data");
      await s3.put("data", dayObjects(DATE));
      await withTempDir(async (dir) => {
        // Run A lists the old inputs, then waits before committing what it read.
        const pause = `${dir}/paused`;
        const older = startWorker(
          args(s3.endpoint, `${dir}/a`),
          {
            PAUSE_AT: "before-commit:raw_partition",
            PAUSE_FILE: pause,
          },
          taskPermissions(),
          `${REPO}/main.ts`,
        );
        if (!await waitForFile(pause, older)) assert.fail((await older.done).stderr);
        // The inputs change; run B lists them and publishes.
        await s3.put("data", {
          [`${DATE.replaceAll("-", "/")}/c.csv`]: csv(
            row("late-1", `${DATE} 05:00:00`, "9"),
            row("late-2", `${DATE} 06:00:00`, "9"),
            row("bad-1", `${DATE} 07:99:00`, "9"),
          ),
        });
        const newer = await runCli(args(s3.endpoint, `${dir}/b`));
        assert.equal(newer.code, 0, newer.stderr);
        const published = await s3.text("data", resultKey(DATE));
        assert.match(published!, /^9,5,1$/m);
        const rejected = await s3.text("data", REJECTED);
        assert.match(rejected!, /c\.csv,4,IMPRESSION_DATETIME/);
        const runs = await runCli(["runs", "--cache-dir", `${dir}/b`, "--format", "json"]);
        const newerRun = JSON.parse(runs.stdout.join("\n"))[0].runId;
        // A goes on with the old inputs and uploads last: it must yield.
        await Deno.remove(pause);
        const { code, stderr } = await older.done;
        assert.equal(code, 0, stderr);
        assert.match(stderr, new RegExp(`newer publication by run ${newerRun}`));
        assert.equal(await s3.text("data", resultKey(DATE)), published);
        // Nor does it remove the newer run's rejected rows (it had none itself).
        assert.equal(await s3.text("data", REJECTED), rejected);
        const head = await s3.client.send(
          new HeadObjectCommand({ Bucket: "data", Key: resultKey(DATE) }),
        );
        assert.equal(head.Metadata?.["run-id"], newerRun);
        assert.equal(head.Metadata?.mode, "full");
        assert.match(head.Metadata?.["listed-at"] ?? "", /^\d{4}-\d\d-\d\dT/);
        assert.match(head.Metadata?.["listing-version"] ?? "", /^[0-9a-f]{32}$/);
      });
    } finally {
      await s3.stop();
    }
  },
});
