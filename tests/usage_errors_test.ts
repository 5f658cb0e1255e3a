/**
 * Negative numbers and repeated flags are clear usage errors (exit 2) that
 * name the flag and the value; repeatable flags stay repeatable.
 */

import assert from "node:assert/strict";
import { runCli, SAMPLE_BUCKET, withTempDir } from "./_helpers.ts";
import { recordSummary } from "./_summary.ts";

const RUN = ["materialize", "--date", "2021-01-30", "--bucket", SAMPLE_BUCKET];

Deno.test("a negative number is rejected by the flag's own check", async (t) => {
  const cases: [string[], string][] = [
    [[...RUN, "--parallel", "-1"], '--parallel must be a whole number from 1 to 64, not "-1"'],
    [[...RUN, "--retries", "-3"], '--retries must be a whole number from 0 to 20, not "-3"'],
    [[...RUN, "--workers", "-2"], '--workers must be a whole number from 0 to 64, not "-2"'],
    [
      [...RUN, "--max-invalid-rows", "-5"],
      '--max-invalid-rows must be a whole number from 0 to 1000000000000, not "-5"',
    ],
    [
      ["plan", "--date", "2021-01-30", "--bucket", SAMPLE_BUCKET, "--parallel", "-1"],
      "--parallel must be a whole number",
    ],
    [["clean", "--older-than", "-3d"], '--older-than must look like 30d or 12h, not "-3d"'],
    [["runs", "--limit", "-1"], '--limit must be a number, not "-1"'],
  ];
  for (const [args, message] of cases) {
    await t.step(args.slice(-2).join(" "), async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      const first = r.stderr.split("\n")[0];
      assert.ok(first.startsWith(`usage error: ${message}`), first);
      assert.doesNotMatch(r.stderr, /ambiguous/);
    });
  }
  recordSummary({ badInputs: cases.length });
});

Deno.test("a single-valued flag given twice is a usage error", async (t) => {
  const cases: [string[], string][] = [
    [
      ["materialize", "--date", "2021-01-30", "--date", "2021-01-31"],
      '--date is given more than once ("2021-01-30", then "2021-01-31"); give it once',
    ],
    [
      ["plan", "--date=2021-01-30", "--bucket", "a", "--bucket=b"],
      '--bucket is given more than once ("a", then "b"); give it once',
    ],
    [[...RUN, "--force", "--force"], "--force is given more than once; give it once"],
    [
      ["clean", "--date", "2021-01-30", "--date", "2021-01-31"],
      '--date is given more than once ("2021-01-30", then "2021-01-31")',
    ],
    [
      ["report", "--from", "2021-01-01", "--from", "2021-01-02"],
      '--from is given more than once ("2021-01-01", then "2021-01-02")',
    ],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      const first = r.stderr.split("\n")[0];
      assert.ok(first.startsWith(`usage error: ${message}`), first);
    });
  }
  recordSummary({ badInputs: cases.length });
});

Deno.test("--select stays repeatable", async () => {
  await withTempDir(async (dir) => {
    const r = await runCli([
      "plan",
      "--date",
      "2021-01-30",
      "--bucket",
      SAMPLE_BUCKET,
      "--cache-dir",
      `${dir}/c`,
      "--select",
      "raw_partition",
      "--select",
      "deduped_impressions",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.join("\n") + r.stderr, /deduped_impressions: stale/);
    assert.doesNotMatch(r.stdout.join("\n") + r.stderr, /published_csv/);
  });
});
