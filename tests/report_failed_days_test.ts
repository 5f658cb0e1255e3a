/**
 * A report over dates that all failed says none of them has data.
 */

import assert from "node:assert/strict";
import { runCli, withTempDir } from "./_helpers.ts";
import { recordSummary } from "./_summary.ts";

Deno.test("a report over a range where every date failed counts 0 dates with data", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/empty-bucket`;
    await Deno.mkdir(bucket, { recursive: true });
    const cache = `${dir}/c`;
    const run = await runCli([
      "materialize",
      "--from",
      "2021-01-01",
      "--to",
      "2021-01-03",
      "--bucket",
      bucket,
      "--cache-dir",
      cache,
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.match(/^\[2021-01-0\d\] error: raw_partition: failed/gm)?.length, 3);
    const out = `${dir}/report.html`;
    const report = await runCli([
      "report",
      "--from",
      "2021-01-01",
      "--to",
      "2021-01-03",
      "--cache-dir",
      cache,
      "--out",
      out,
    ]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stderr, /: 0 of 3 dates with data \(3 failed\), 1 run;/);
    const html = await Deno.readTextFile(out);
    assert.match(html, /<dd data-total="dates">0 <small>of 3<\/small><\/dd>/);
    assert.match(html, /<dd data-total="failed">3/);
  });
  recordSummary({ badInputs: 1 });
});
