/**
 * The report's data model: figures copied exactly from the run records,
 * "no data" for dates never materialized, states from statuses and checks;
 * and the page built from it (self-contained, 24 hour columns).
 */

import assert from "node:assert/strict";
import {
  buildReport,
  collectReport,
  datesBetween,
  type DayReport,
  ReportError,
} from "../report/mod.ts";
import { heatmapRows } from "../report/collect.ts";
import { heatmapSpec } from "../report/charts.ts";
import { listRunRecords, type RunRecord } from "../materializer/runs.ts";
import { csv, row, runCli, withTempDir, writeObjects } from "./_helpers.ts";

const D1 = "2021-01-29";
const D2 = "2021-01-30";
const D3 = "2021-01-31";

/** D1: 6 rows, one duplicate; D2: 6 rows over 3 campaigns, 3 of them duplicates (a warn). */
async function fillBucket(bucket: string): Promise<void> {
  await writeObjects(bucket, {
    "2021/01/29/part-0000.csv": csv(
      row("a", "2021-01-29 05:10:00", "7"),
      row("b", "2021-01-29 05:20:00", "7"),
      row("c", "2021-01-29 23:59:59", "12"),
      row("a", "2021-01-29 05:10:00", "7"),
      row("g", "2021-01-29 07:00:00", "12"),
      row("h", "2021-01-29 07:30:00", "12"),
    ),
    "2021/01/30/part-0000.csv": csv(
      row("d", "2021-01-30 00:00:01", "7"),
      row("e", "2021-01-30 13:00:00", "12"),
      row("f", "2021-01-30 13:30:00", ""),
    ),
    "2021/01/30/part-0001.csv": csv(
      row("d", "2021-01-30 00:00:01", "7"),
      row("e", "2021-01-30 13:00:00", "12"),
      row("f", "2021-01-30 13:30:00", ""),
    ),
  });
}

async function materialize(bucket: string, cache: string, ...dates: string[]) {
  const args = dates.length === 1
    ? ["--date", dates[0]]
    : ["--from", dates[0], "--to", dates[dates.length - 1]];
  return await runCli(["materialize", ...args, "--bucket", bucket, "--cache-dir", cache]);
}

function outcomeOf(record: RunRecord, date: string, asset: string) {
  const partition = record.partitions.find((p) => p.partition === date)!;
  return partition.assets.find((a) => a.asset === asset)!;
}

function assertFiguresMatch(day: DayReport, record: RunRecord): void {
  const deduped = outcomeOf(record, day.date, "deduped_impressions").metadata;
  const counts = outcomeOf(record, day.date, "hourly_campaign_counts").metadata;
  const raw = outcomeOf(record, day.date, "raw_partition").metadata;
  assert.deepEqual(
    {
      rowsRead: day.figures.rowsRead,
      rowsOut: day.figures.rowsOut,
      duplicates: day.figures.duplicates,
      lateRows: day.figures.lateRows,
      invalidRows: day.figures.invalidRows,
      impressions: day.figures.impressions,
      campaigns: day.figures.campaigns,
      groups: day.figures.groups,
      objects: day.figures.objects,
      bytes: day.figures.bytes,
    },
    {
      rowsRead: deduped.rowsIn,
      rowsOut: deduped.rowsOut,
      duplicates: deduped.duplicates,
      lateRows: deduped.lateRows,
      invalidRows: deduped.invalidRows,
      impressions: counts.impressions,
      campaigns: counts.campaigns,
      groups: counts.groups,
      objects: raw.objects,
      bytes: raw.bytes,
    },
  );
}

Deno.test("collect: figures equal the run records exactly; a date never materialized is no data", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const cache = `${dir}/cache`;
    await fillBucket(bucket);
    assert.equal((await materialize(bucket, cache, D1)).code, 0);
    assert.equal((await materialize(bucket, cache, D2)).code, 0);
    const records = await listRunRecords(cache);
    assert.equal(records.length, 2);

    const data = await collectReport({ cacheDir: cache, from: D1, to: D3 });
    assert.deepEqual(data.days.map((d) => d.date), [D1, D2, D3]);
    const [day1, day2, day3] = data.days;

    assertFiguresMatch(day1, records.find((r) => r.partitions[0].partition === D1)!);
    assertFiguresMatch(day2, records.find((r) => r.partitions[0].partition === D2)!);
    assert.equal(day1.figures.rowsRead, 6);
    assert.equal(day1.figures.duplicates, 1);
    assert.equal(day1.figures.impressions, 5);
    assert.equal(day1.figures.duplicateShare, 1 / 6);
    assert.equal(day2.figures.duplicates, 3);

    assert.equal(day1.state, "materialized");
    assert.equal(day1.run?.runId, records.find((r) => r.partitions[0].partition === D1)!.runId);
    assert.equal(day1.published.length, 1);
    assert.match(day1.published[0], /daily_agg_20210129_Guy_Fawkes\.csv$/);
    // Half of D2's rows are duplicates: the duplicate_share check (warn) fails.
    assert.equal(day2.state, "warn");
    assert.equal(
      day2.assets.find((a) => a.asset === "deduped_impressions")!.state,
      "warn",
    );
    assert.ok(day2.checks.some((c) => c.name === "duplicate_share" && !c.passed));

    assert.equal(day3.state, "no data");
    assert.equal(day3.source, "none");
    assert.equal(day3.run, undefined);
    assert.deepEqual(day3.figures, {});
    assert.ok(day3.assets.every((a) => a.state === "not run"));

    // Runs newest first, only those touching the range.
    assert.deepEqual(data.runs.map((r) => r.runId), records.map((r) => r.runId));
    assert.equal(data.runs[0].dates[0], D2);

    // Heatmap: the last date with counts, its 24 hours summing to the recorded impressions.
    assert.equal(data.heatmap.date, D2);
    assert.equal(data.heatmap.hasData, true);
    assert.equal(data.heatmap.total, day2.figures.impressions);
    assert.ok(data.heatmap.rows.every((r) => r.hours.length === 24));
    assert.deepEqual(data.heatmap.rows.map((r) => r.label), ["7", "12", "(empty)"]);
    assert.equal(data.heatmap.rows.find((r) => r.label === "12")!.hours[13], 1);
    assert.equal(data.heatmap.note, undefined);

    // A rerun is up to date and becomes the newest run of its date.
    assert.equal((await materialize(bucket, cache, D1)).code, 0);
    const again = await collectReport({ cacheDir: cache, from: D1, to: D1 });
    assert.equal(again.days[0].state, "up to date");
    assert.equal(again.runs.length, 2);
    assert.equal(again.days[0].run?.runId, again.runs[0].runId);
    assertFiguresMatch(again.days[0], (await listRunRecords(cache))[0]);
  });
});

Deno.test("collect: a date that failed is failed with its error, not no data", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const cache = `${dir}/cache`;
    await writeObjects(bucket, { "2021/01/31/_SUCCESS": "" });
    const result = await materialize(bucket, cache, D3);
    assert.equal(result.code, 1);
    const data = await collectReport({ cacheDir: cache, from: D3, to: D3 });
    const day = data.days[0];
    assert.equal(day.state, "failed");
    assert.equal(day.source, "runs");
    assert.match(day.run!.error!, /no CSV objects/);
    assert.equal(day.assets[0].state, "failed");
    assert.equal(data.heatmap.hasData, false);
    assert.match(data.heatmap.reason!, /no cached hourly counts/);
    assert.equal(data.runs[0].status, "failed");
  });
});

Deno.test("collect: an empty cache gives no data for every date", async () => {
  await withTempDir(async (dir) => {
    const data = await collectReport({ cacheDir: `${dir}/none`, from: D1, to: D2 });
    assert.deepEqual(data.days.map((d) => d.state), ["no data", "no data"]);
    assert.deepEqual(data.runs, []);
    assert.equal(data.heatmap.date, D2);
    assert.equal(data.heatmap.hasData, false);
    assert.equal(data.heatmap.reason, `${D2} was never materialized`);
  });
});

Deno.test("collect: bad ranges and a heatmap date outside the range are ReportErrors", async () => {
  assert.deepEqual(datesBetween("2021-02-27", "2021-03-01"), [
    "2021-02-27",
    "2021-02-28",
    "2021-03-01",
  ]);
  assert.throws(() => datesBetween(D2, D1), ReportError);
  assert.throws(() => datesBetween("2021-1-1", D1), ReportError);
  await assert.rejects(
    collectReport({ cacheDir: "/nonexistent", from: D1, to: D2, heatmapDate: D3 }),
    ReportError,
  );
});

Deno.test("heatmap rows: top campaigns by impressions, the rest summed in one row", () => {
  const counts = [
    { campaign: "1", hour: 0, count: 5 },
    { campaign: "2", hour: 1, count: 9 },
    { campaign: "3", hour: 1, count: 2 },
    { campaign: "4", hour: 23, count: 3 },
    { campaign: "", hour: 23, count: 5 },
  ];
  const rows = heatmapRows(counts, 2);
  assert.deepEqual(rows.map((r) => [r.label, r.campaigns, r.total]), [
    ["2", 1, 9],
    ["1", 1, 5],
    ["other 3 campaigns", 3, 10],
  ]);
  assert.equal(rows[2].hours[1], 2);
  assert.equal(rows[2].hours[23], 3 + 5);
  assert.equal(rows.reduce((n, r) => n + r.total, 0), 24);
  // Ties by campaign id as a number; the empty campaign is labelled.
  assert.deepEqual(heatmapRows(counts, 20).map((r) => r.label), ["2", "1", "(empty)", "4", "3"]);
  assert.deepEqual(
    heatmapRows([{ campaign: "10", hour: 0, count: 1 }, {
      campaign: "9",
      hour: 0,
      count: 1,
    }], 20).map((r) => r.label),
    ["9", "10"],
  );
});

Deno.test("heatmap spec: 24 hour columns whatever hours have impressions", () => {
  const spec = heatmapSpec({
    date: D2,
    hasData: true,
    total: 2,
    campaigns: 1,
    rows: [{ label: "7", campaigns: 1, total: 2, hours: Array(24).fill(0).with(5, 2) }],
  }) as { data: { values: { hour: number; count: number }[] } };
  assert.equal(spec.data.values.length, 24);
  assert.deepEqual(spec.data.values.map((v) => v.hour), [...Array(24).keys()]);
});

Deno.test("the page is self-contained: no script, nothing to load, every chart titled", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const cache = `${dir}/cache`;
    await fillBucket(bucket);
    assert.equal((await materialize(bucket, cache, D1, D2)).code, 0);
    const { html, data } = await buildReport({ cacheDir: cache, from: D1, to: D3 });
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<(link|img|iframe|object|embed)\b/i);
    assert.doesNotMatch(html, /@import|url\((?!#)/i);
    // The only URLs are XML namespaces and the published file:// URIs shown as text.
    const urls = [...html.matchAll(/(?:src|href)="([^"#][^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(urls, []);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /When impressions happen on 2021-01-30/);
    assert.match(html, /Daily totals and duplicate share/);
    assert.match(html, /Hour of day \(UTC/);
    assert.match(html, /Rows per day \(count\)/);
    assert.match(html, /Impressions in the hour \(count\)/);
    assert.match(html, new RegExp(`data-no-data="${D3}"`));
    for (const asset of data.assets) assert.match(html, new RegExp(`data-asset="${asset.name}"`));
    // Every heatmap cell has a tooltip with its count.
    const cellTitles = [...html.matchAll(/<title>campaign [^<]*, (\d\d):00–\d\d:59 UTC: /g)];
    assert.equal(cellTitles.length, 3 * 24);
    assert.equal(new Set(cellTitles.map((m) => m[1])).size, 24);
  });
});

Deno.test("report command: writes the file, prints its path; usage errors exit 2", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const cache = `${dir}/cache`;
    await fillBucket(bucket);
    const run = await runCli([
      "materialize",
      "--date",
      D1,
      "--bucket",
      bucket,
      "--cache-dir",
      cache,
      "--report",
      `${dir}/after-run.html`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.length, 1, "stdout keeps listing only the published URIs");
    assert.match(await Deno.readTextFile(`${dir}/after-run.html`), /<!DOCTYPE html>/);

    const out = `${dir}/sub/report.html`;
    const result = await runCli([
      "report",
      "--from",
      D1,
      "--to",
      D3,
      "--cache-dir",
      cache,
      "--out",
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout, [out]);
    assert.match(result.stderr, /1 of 3 dates with data/);
    assert.match(await Deno.readTextFile(out), /Impressions pipeline report/);

    const usage = await runCli(["report", "--cache-dir", cache]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^usage error: report needs --from D1 --to D2/);
    const outside = await runCli(["report", "--from", D1, "--to", D2, "--date", D3]);
    assert.equal(outside.code, 2);
    const help = await runCli(["report", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stderr, /^Usage: deno task report/);
  });
});
