/**
 * The engine's paths give the same bytes: single-threaded in memory,
 * parallel workers with byte-range splits, and spilling to disk under a
 * tiny memory budget; all equal to the simple in-memory reference.
 */

import assert from "node:assert/strict";
import { dedupeDay } from "../engine/impression_day.ts";
import { countCampaignHours, formatCountsCsv } from "../engine/hourly_counts.ts";
import { scanImpressions } from "../engine/scan_impressions.ts";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import { runCli, withTempDir } from "./_helpers.ts";

const DATE = "2021-01-30";

async function reference(root: string): Promise<string> {
  const dir = `${root}/2021/01/30`;
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".csv"))
    .sort();
  const scans = [];
  for (const name of names) {
    scans.push(
      await scanImpressions([await Deno.readFile(`${dir}/${name}`)], { key: name, date: DATE }),
    );
  }
  return formatCountsCsv(countCampaignHours(dedupeDay(scans).day));
}

Deno.test("single-threaded, parallel and spilling paths publish identical bytes", async (t) => {
  await withTempDir(async (dir) => {
    const root = `${dir}/bucket`;
    await writeSyntheticDay({ root, date: DATE, rows: 60_000, files: 3, seed: 11 });
    const expected = await reference(root);
    const run = async (name: string, ...flags: string[]) => {
      const r = await runCli([
        "materialize",
        "--date",
        DATE,
        "--bucket",
        root,
        "--initials",
        name,
        "--cache-dir",
        `${dir}/cache-${name}`,
        ...flags,
      ]);
      assert.equal(r.code, 0, r.stderr);
      return {
        stderr: r.stderr,
        csv: await Deno.readTextFile(`${root}/results/2021/01/30/daily_agg_20210130_${name}.csv`),
      };
    };
    await t.step("single-threaded", async () => {
      const r = await run("single", "--workers", "0");
      assert.equal(r.csv, expected);
      assert.match(r.stderr, /spilled=false/);
    });
    await t.step("parallel", async () => {
      const r = await run("parallel", "--workers", "2");
      assert.equal(r.csv, expected);
    });
    await t.step("spilling under a tiny budget", async () => {
      const r = await run("spill", "--workers", "2", "--memory-budget", "1MiB");
      assert.equal(r.csv, expected);
      assert.match(r.stderr, /partitions=\d+ spilled=true/);
    });
    await t.step("spilling single-threaded", async () => {
      const r = await run("spill0", "--workers", "0", "--memory-budget", "1MiB");
      assert.equal(r.csv, expected);
      assert.match(r.stderr, /spilled=true/);
    });
  });
});
