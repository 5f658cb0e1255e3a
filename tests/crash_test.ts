/**
 * Crashes: the pipeline is killed with SIGKILL at deterministic points of a
 * run, then rerun. The rerun must succeed with output identical to an
 * uninterrupted run, nothing partial may ever be published, and the cache
 * must never serve a truncated or corrupt entry.
 */

import assert from "node:assert/strict";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import { openEntry } from "../materializer/cache.ts";
import { materializeArgs, REPO, runProcess, taskPermissions, withTempDir } from "./_helpers.ts";
import { recordSummary } from "./_summary.ts";

const DATE = "2021-01-30";
const RESULT = "results/2021/01/30/daily_agg_20210130_CR.csv";
const REJECTED = "results/2021/01/30/rejected_20210130_CR.csv";
const ASSETS = ["raw_partition", "deduped_impressions", "hourly_campaign_counts", "published_csv"];

const POINTS = [
  `locked:${DATE}`,
  "cache-write:raw_partition/objects/",
  `raw_partition:downloaded:2021/01/30/part-0000.csv`,
  `raw_partition:downloaded:2021/01/30/part-0001.csv`,
  `raw_partition:downloaded:2021/01/30/part-0002.csv`,
  `raw_partition:downloaded:2021/01/30/zz-bad.csv`,
  "before-commit:raw_partition",
  "after-asset:raw_partition",
  "deduped_impressions:scanned",
  "cache-write:deduped_impressions/hours.bin",
  "cache-write:deduped_impressions/campaigns.bin",
  "before-commit:deduped_impressions",
  "after-asset:deduped_impressions",
  "before-commit:hourly_campaign_counts",
  "after-asset:hourly_campaign_counts",
  `published_csv:upload:${REJECTED}`,
  `published_csv:uploaded:${REJECTED}`,
  `published_csv:upload:${RESULT}`,
  `published_csv:uploaded:${RESULT}`,
  "before-commit:published_csv",
  "after-asset:published_csv",
  "run-record",
];

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/**
 * Points inside the copy of a folder's objects into the cache: reached with
 * `--copy-objects` (by default a folder's objects are read in place).
 */
function copying(point: string): boolean {
  return point.startsWith("cache-write:raw_partition/") ||
    point.startsWith("raw_partition:downloaded:");
}

function args(bucket: string, cache: string, copy = false): string[] {
  return [
    ...materializeArgs(bucket, cache, "CR"),
    "--max-invalid-rows",
    "1",
    ...(copy ? ["--copy-objects"] : []),
  ];
}

/**
 * The crash tests' day in `dir/source` (three synthetic files large enough to
 * stream in several chunks, and one with a bad row) and what one
 * uninterrupted run of it publishes.
 */
async function crashDay(dir: string, seed: number) {
  const source = `${dir}/source`;
  await writeSyntheticDay({ root: source, date: DATE, rows: 12_000, files: 3, seed });
  await Deno.writeTextFile(
    `${source}/2021/01/30/zz-bad.csv`,
    "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\nok-1,2021-01-30 10:00:00,5\nbad-1,2021-01-30 10:61:00,5\n",
  );
  await copyTree(source, `${dir}/ref-bucket`);
  const reference = await runProcess(args(`${dir}/ref-bucket`, `${dir}/ref-cache`));
  assert.equal(reference.code, 0, reference.stderr);
  return {
    source,
    expected: await Deno.readTextFile(`${dir}/ref-bucket/${RESULT}`),
    expectedRejected: await Deno.readTextFile(`${dir}/ref-bucket/${REJECTED}`),
  };
}

/** Every cache entry of the date that claims to be valid verifies. */
async function assertEntriesVerify(cache: string): Promise<void> {
  for (const asset of ASSETS) {
    const opened = await openEntry(`${cache}/${DATE}/${asset}`);
    if (opened.entry === null) {
      assert.match(opened.problem, /never materialized|missing|wrong size|checksum/);
    }
  }
}

/** Runs until the pause point is reached, then kills the process. */
async function crashAt(point: string, bucket: string, cache: string, dir: string) {
  const pauseFile = `${dir}/paused`;
  const child = new Deno.Command("deno", {
    args: [
      "run",
      ...taskPermissions(),
      `${REPO}/tests/_pausing_main.ts`,
      point,
      pauseFile,
      ...args(bucket, cache, copying(point)),
    ],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const deadline = Date.now() + 60_000;
  let reached = false;
  while (Date.now() < deadline) {
    try {
      await Deno.stat(pauseFile);
      reached = true;
      break;
    } catch {
      // not yet
    }
    const finished = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 20)),
    ]);
    if (finished) break;
  }
  try {
    child.kill(reached ? "SIGKILL" : "SIGTERM");
  } catch {
    // it ended by itself
  }
  const output = await child.output();
  return { reached, code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

Deno.test({
  name: `SIGKILL at ${POINTS.length} points, then a rerun gives the uninterrupted output`,
  async fn(t) {
    await withTempDir(async (dir) => {
      const { source, expected, expectedRejected } = await crashDay(dir, 7);
      assert.match(
        expectedRejected,
        /zz-bad\.csv,3,IMPRESSION_DATETIME,2021-01-30 10:61:00,minute 61 is out of range/,
      );

      let tried = 0;
      for (const [i, point] of POINTS.entries()) {
        await t.step(point, async () => {
          const bucket = `${dir}/bucket-${i}`;
          const cache = `${dir}/cache-${i}`;
          await copyTree(source, bucket);
          const crash = await crashAt(point, bucket, cache, `${dir}`);
          await Deno.remove(`${dir}/paused`).catch(() => {});
          assert.ok(crash.reached, `never reached ${point}: ${crash.stderr}`);
          tried++;
          // Whatever was published before the kill is complete and correct.
          for (const [key, bytes] of [[RESULT, expected], [REJECTED, expectedRejected]]) {
            const published = await readOrNull(`${bucket}/${key}`);
            assert.ok(
              published === null || published === bytes,
              `${key} is partial after ${point}`,
            );
          }
          await assertEntriesVerify(cache);
          const rerun = await runProcess(args(bucket, cache, copying(point)));
          assert.equal(rerun.code, 0, rerun.stderr);
          assert.equal(await Deno.readTextFile(`${bucket}/${RESULT}`), expected);
          assert.equal(await Deno.readTextFile(`${bucket}/${REJECTED}`), expectedRejected);
          await Deno.remove(bucket, { recursive: true });
          await Deno.remove(cache, { recursive: true });
        });
      }
      recordSummary({ crashPoints: tried, publishedChecks: tried * 2 });
    });
  },
});

/** Points of an incremental run (a new object after a cached day). */
const INCREMENTAL_POINTS = [
  "deduped_impressions:scanned",
  "cache-write:deduped_impressions/dedupe/keys-1.bin",
  "cache-write:deduped_impressions/rows/campaigns-1.bin",
  "before-commit:deduped_impressions",
  "after-asset:deduped_impressions",
  "before-commit:hourly_campaign_counts",
];

Deno.test({
  name: `SIGKILL at ${INCREMENTAL_POINTS.length} points of an incremental run, then a rerun`,
  async fn(t) {
    await withTempDir(async (dir) => {
      const { source, expected } = await crashDay(dir, 8);

      const late = ["part-0002.csv", "zz-bad.csv"];

      for (const [i, point] of INCREMENTAL_POINTS.entries()) {
        await t.step(point, async () => {
          const bucket = `${dir}/bucket-${i}`;
          const cache = `${dir}/cache-${i}`;
          // The day so far (the first two parts) cached, then the rest arrives.
          await copyTree(source, bucket);
          for (const name of late) await Deno.remove(`${bucket}/2021/01/30/${name}`);
          const first = await runProcess(args(bucket, cache));
          assert.equal(first.code, 0, first.stderr);
          for (const name of late) {
            await Deno.copyFile(`${source}/2021/01/30/${name}`, `${bucket}/2021/01/30/${name}`);
          }
          const crash = await crashAt(point, bucket, cache, dir);
          await Deno.remove(`${dir}/paused`).catch(() => {});
          assert.ok(crash.reached, `never reached ${point}: ${crash.stderr}`);
          assert.match(crash.stderr, /raw_partition: materialized .*objectsReadInPlace=4/);
          await assertEntriesVerify(cache);
          const rerun = await runProcess(args(bucket, cache));
          assert.equal(rerun.code, 0, rerun.stderr);
          assert.equal(await Deno.readTextFile(`${bucket}/${RESULT}`), expected);
          await Deno.remove(bucket, { recursive: true });
          await Deno.remove(cache, { recursive: true });
        });
      }
    });
  },
});
