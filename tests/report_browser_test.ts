/**
 * The report in a real browser: three dates (the sample bucket's
 * 2021-01-30, a synthetic 2021-01-29, and 2021-01-31 never materialized)
 * are materialized and reported with the CLI, then the file is opened in
 * headless Chromium with JavaScript off (`tests/_browser.ts`, in a child
 * process). It must make no request besides the file itself, log nothing
 * to the console, draw every asset, 24 hour columns in the heatmap, and show
 * the totals the run records hold.
 *
 * Chromium: `CHROMIUM_BIN` or `/usr/bin/chromium` (`.ci/run` installs
 * Debian's `chromium`). Without it the test is ignored, except under
 * `CI=true`, where it fails. With `UPDATE_SCREENSHOT=1` the screenshot goes
 * to `docs/report.png` (the README's); otherwise to the temporary folder.
 */

import assert from "node:assert/strict";
import { ASSETS } from "../assets/mod.ts";
import { listRunRecords, type RunRecord } from "../materializer/runs.ts";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import type { PageFacts } from "./_browser.ts";
import { REPO, runCli, SAMPLE_BUCKET, withTempDir, writeObjects } from "./_helpers.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_BIN") || "/usr/bin/chromium";
const IN_CI = Deno.env.get("CI") === "true";
const DATES = ["2021-01-29", "2021-01-30", "2021-01-31"];

function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const available = hasChromium();

/** Opens the report in Chromium through `tests/_browser.ts`, in a child process. */
async function openInChromium(url: string, dir: string, screenshot: string): Promise<PageFacts> {
  const writable = [dir, screenshot.slice(0, screenshot.lastIndexOf("/"))];
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${writable.join(",")}`,
      "--allow-env",
      `--allow-run=${CHROMIUM}`,
      `${REPO}/tests/_browser.ts`,
      "--url",
      url,
      "--chromium",
      CHROMIUM,
      "--profile",
      `${dir}/chromium-profile`,
      "--screenshot",
      screenshot,
    ],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, `tests/_browser.ts failed:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

/** The newest run record's outcome of each date. */
function newestFigures(records: RunRecord[], date: string): Record<string, number> {
  const record = records.find((r) => r.partitions.some((p) => p.partition === date))!;
  const partition = record.partitions.find((p) => p.partition === date)!;
  const meta = (asset: string) => partition.assets.find((a) => a.asset === asset)!.metadata;
  const deduped = meta("deduped_impressions");
  const counts = meta("hourly_campaign_counts");
  return {
    rowsRead: deduped.rowsIn as number,
    duplicates: deduped.duplicates as number,
    lateRows: deduped.lateRows as number,
    invalidRows: deduped.invalidRows as number,
    impressions: counts.impressions as number,
    campaigns: counts.campaigns as number,
  };
}

/** A number as the page shows it, back to a number ("3,000" → 3000). */
function shown(text: string): number {
  assert.match(text, /^\d{1,3}(,\d{3})*$/, `not a whole number: ${JSON.stringify(text)}`);
  return Number(text.replaceAll(",", ""));
}

Deno.test({
  name: available || IN_CI
    ? "report in headless Chromium: no requests, no console errors, every asset, 24 hours, exact totals"
    : `report in headless Chromium (ignored: no Chromium at ${CHROMIUM}; .ci/run installs Debian's chromium)`,
  ignore: !available && !IN_CI,
  async fn() {
    assert.ok(available, `no Chromium at ${CHROMIUM}: install Debian's chromium (see .ci/run)`);
    await withTempDir(async (dir) => {
      const bucket = `${dir}/bucket`;
      for await (const entry of Deno.readDir(`${SAMPLE_BUCKET}/2021/01/30`)) {
        await writeObjects(bucket, {
          [`2021/01/30/${entry.name}`]: await Deno.readFile(
            `${SAMPLE_BUCKET}/2021/01/30/${entry.name}`,
          ),
        });
      }
      await writeSyntheticDay({ root: bucket, date: DATES[0], rows: 3000, files: 2, seed: 7 });
      const cache = `${dir}/cache`;
      const run = await runCli([
        "materialize",
        "--from",
        DATES[0],
        "--to",
        DATES[1],
        "--bucket",
        bucket,
        "--cache-dir",
        cache,
        "--parallel",
        "1",
      ]);
      assert.equal(run.code, 0, run.stderr);
      const out = `${dir}/report.html`;
      const report = await runCli([
        "report",
        "--from",
        DATES[0],
        "--to",
        DATES[2],
        "--cache-dir",
        cache,
        "--out",
        out,
      ]);
      assert.equal(report.code, 0, report.stderr);

      const update = Deno.env.get("UPDATE_SCREENSHOT") === "1";
      const screenshot = update ? `${REPO}/docs/report.png` : `${dir}/report.png`;
      const url = `file://${out}`;
      const page = await openInChromium(url, dir, screenshot);

      // Self-contained: the document is the only request, nothing failed or complained.
      assert.deepEqual(page.requests, [url]);
      assert.deepEqual(page.failedRequests, []);
      assert.deepEqual(page.console.filter((m) => /^(error|warn)/.test(m)), []);
      assert.deepEqual(page.pageErrors, []);
      assert.equal(page.scripts, 0);
      assert.equal(page.title, `Impressions pipeline report, ${DATES[0]} to ${DATES[2]}`);

      // Every asset is in the graph, with its name drawn.
      const names = ASSETS.map((a) => a.name).sort();
      assert.deepEqual([...page.graphAssets].sort(), names);
      assert.deepEqual([...page.graphLabels].sort(), names);

      // The heatmap: the last date with data, 24 hour columns, a tooltip per cell, a legend.
      assert.ok(page.heatmap, "no heatmap drawn");
      assert.equal(page.heatmap.date, DATES[1]);
      assert.equal(page.heatmap.columns, 24);
      assert.deepEqual(
        page.heatmap.hourLabels,
        Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0")),
      );
      assert.equal(page.heatmap.cells % 24, 0);
      assert.equal(page.heatmap.titles.length, page.heatmap.cells);
      assert.ok(page.heatmap.titles.every((t) => /UTC: \d[\d,]* impressions?$/.test(t)));
      assert.ok(page.heatmap.legend);

      // The totals shown are the run records' figures, exactly.
      const records = await listRunRecords(cache);
      const expected = DATES.slice(0, 2).map((date) => newestFigures(records, date));
      assert.deepEqual(page.days.map((d) => d.date), DATES);
      for (const [i, figures] of expected.entries()) {
        const fields = page.days[i].fields;
        for (const [key, value] of Object.entries(figures)) {
          assert.equal(shown(fields[key]), value, `${DATES[i]} ${key}`);
        }
      }
      const sum = (key: string) => expected.reduce((n, f) => n + f[key], 0);
      assert.equal(shown(page.totals.impressions), sum("impressions"));
      assert.equal(shown(page.totals.rowsRead), sum("rowsRead"));
      assert.equal(shown(page.totals.duplicates), sum("duplicates"));
      assert.equal(page.totals.dates, "2");
      // The heatmap's cells add up to the impressions recorded for its date.
      const cellSum = page.heatmap.titles
        .map((t) => shown(/UTC: ([\d,]+) impression/.exec(t)![1]))
        .reduce((a, b) => a + b, 0);
      assert.equal(cellSum, expected[1].impressions);

      // The date never materialized says so.
      assert.equal(page.days[2].state, "no data");
      assert.ok(Object.values(page.days[2].fields).every((t) => t === "–"));
      assert.deepEqual(page.noData, [DATES[2]]);

      const png = await Deno.readFile(screenshot);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "the screenshot is a PNG");
    });
  },
});
