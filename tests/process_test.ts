/**
 * The real process: exit codes, stdout holding only URIs, credentials
 * errors from a clean environment.
 */

import assert from "node:assert/strict";
import { csv, REPO, row, runProcess, withTempDir, writeObjects } from "./_helpers.ts";

Deno.test("stdout has only the published URIs; stderr has one line per asset", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "7")),
    });
    const r = await runProcess(
      ["materialize", "--date", "2021-01-30", "--bucket", `${dir}/b`, "--initials", "ZZ"],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `file://${dir}/b/results/2021/01/30/daily_agg_20210130_ZZ.csv\n`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => l.replace(/ in \d+\.\d\d s.*/, "")),
      [
        "[2021-01-30] raw_partition: materialized",
        "[2021-01-30] deduped_impressions: materialized",
        "[2021-01-30] hourly_campaign_counts: materialized",
        "[2021-01-30] published_csv: materialized",
      ],
    );
    // The default cache dir is .cache in the working folder.
    assert.ok((await Deno.stat(`${dir}/.cache/2021-01-30/raw_partition/manifest.json`)).isFile);
  });
});

Deno.test("missing credentials say how to set them, exit 1, no stack trace", async () => {
  await withTempDir(async (dir) => {
    const r = await runProcess(
      [
        "materialize",
        "--date",
        "2021-01-30",
        "--bucket",
        "s3://some-bucket",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--cache-dir",
        dir,
      ],
      { clearEnv: true, env: { HOME: dir, PATH: Deno.env.get("PATH") ?? "" } },
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr.trimEnd().split("\n").at(-1),
      "error: no AWS credentials found (Could not load credentials from any providers); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials",
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

Deno.test("a usage error exits 2", async () => {
  const r = await runProcess(["materialize", "--date", "2021-13-01"], { cwd: REPO });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^usage error: invalid date "2021-13-01"/);
});
