/**
 * A file cut off inside a quoted field (the usual partial upload) is one
 * rejected row under --max-invalid-rows, from the quote's line to the end
 * of that object, on every engine path: single-threaded, parallel with
 * byte-range splits, and spilling.
 */

import assert from "node:assert/strict";
import { scanDay } from "../engine/day_scan.ts";
import { countCampaignHours, formatCountsCsv } from "../engine/hourly_counts.ts";
import { createEntryWriter } from "../materializer/cache.ts";
import {
  csv,
  HEADER,
  materializeArgs,
  row,
  runCli,
  withTempDir,
  writeObjects,
} from "./_helpers.ts";
import { recordSummary } from "./_summary.ts";

const DATE = "2021-01-30";

/** Rows of `row()`, then one whose BANNER-ish field opens a quote and never closes. */
function truncated(...rows: string[]): string {
  const cut = row("z", "2021-01-30 05:00:00", "9").split(",");
  cut[9] = `"Banner ad, cut\noff mid-field`; // a quoted field spanning a line, never closed
  return csv(...rows) + cut.join(",");
}

Deno.test("an unterminated quote is one rejected row on every engine path", async (t) => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/b`;
    await writeObjects(bucket, {
      "2021/01/30/a.csv": truncated(
        row("a", "2021-01-30 01:00:00", "1"),
        row("b", "2021-01-30 02:00:00", "1"),
      ),
      "2021/01/30/b.csv": csv(row("c", "2021-01-30 03:00:00", "2")),
    });
    const column = HEADER.split(",")[9].trim();
    await t.step("strict: the run fails naming the quote's line", async () => {
      const r = await runCli(materializeArgs(bucket, `${dir}/strict`));
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.split("\n").at(-1),
        `error: 2021/01/30/a.csv line 4, column ${column}: unterminated quoted field`,
      );
    });
    const paths: [string, string[]][] = [
      ["single-threaded", ["--workers", "0"]],
      ["parallel", ["--workers", "2"]],
      ["spilling", ["--workers", "0", "--memory-budget", "1MiB"]],
      ["spilling in parallel", ["--workers", "2", "--memory-budget", "1MiB"]],
    ];
    for (const [name, flags] of paths) {
      await t.step(`${name}: quarantined, the rest counts`, async () => {
        const cache = `${dir}/c-${name.replaceAll(" ", "-")}`;
        const r = await runCli([
          ...materializeArgs(bucket, cache),
          "--max-invalid-rows",
          "1",
          "--select",
          "published_csv,hourly_device_counts", // the second reads the kept rows again
          "--force",
          ...flags,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /rowsIn=4 rowsOut=3 duplicates=0 lateRows=0 invalidRows=1/);
        assert.equal(
          await Deno.readTextFile(`${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`),
          "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n1,1,1\n1,2,1\n2,3,1\n",
        );
        assert.equal(
          await Deno.readTextFile(`${bucket}/results/2021/01/30/rejected_20210130_T.csv`),
          "OBJECT_KEY,LINE,COLUMN,VALUE,REASON\n" +
            `2021/01/30/a.csv,4,${column},,unterminated quoted field (runs to the end of the object)\n`,
        );
      });
    }
    await t.step("it counts against the limit like any invalid row", async () => {
      await writeObjects(bucket, {
        "2021/01/30/b.csv": csv(row("", "2021-01-30 03:00:00", "2")),
      });
      const r = await runCli([
        ...materializeArgs(bucket, `${dir}/limit`),
        "--max-invalid-rows",
        "1",
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr.split("\n").at(-1)!,
        /^error: 2021\/01\/30\/b\.csv line 2, column IMPRESSION_ID: more than 1 invalid rows/,
      );
    });
  });
  recordSummary({ badInputs: 4 });
});

Deno.test("a split object whose quote never closes is reparsed whole and quarantined the same", async (t) => {
  await withTempDir(async (dir) => {
    const folder = `${dir}/2021/01/30`;
    await Deno.mkdir(folder, { recursive: true });
    const rows = Array.from(
      { length: 50_000 },
      (_, i) => row(`r${i}`, `2021-01-30 ${String(i % 24).padStart(2, "0")}:00:00`, `${i % 7}`),
    );
    // Opens early (the cut falls inside the quote for every later range), or
    // in the last range.
    const cases = {
      early: truncated(...rows.slice(0, 40)) + "\n" + rows.slice(40).join("\n") + "\n",
      late: truncated(...rows),
    };
    for (const [name, text] of Object.entries(cases)) {
      const path = `${folder}/${name}.csv`;
      await Deno.writeTextFile(path, text);
      const object = {
        key: `${name}.csv`,
        etag: "e",
        size: Deno.statSync(path).size,
        file: `${name}.csv`,
        path,
        gzip: false,
        header: HEADER.split(",").map((h) => h.trim()),
      };
      const results: string[] = [];
      // Over 4 MiB, so workers are used; a 1 MiB budget spills.
      const paths: [number, number | undefined, number][] = [
        [0, undefined, 1 << 30],
        [2, 1 << 20, 1 << 30],
        [0, 1 << 20, 1 << 30],
        [2, 1 << 20, 1 << 20],
      ];
      for (const [workers, splitBytes, memoryBudget] of paths) {
        const tag = `${name}-${workers}-${splitBytes}-${memoryBudget}`;
        await t.step(tag, async () => {
          const scan = await scanDay({
            objects: [object],
            date: DATE,
            maxInvalidRows: 1,
            workers,
            memoryBudget,
            scratchDir: `${dir}/scratch-${tag}`,
            output: createEntryWriter(`${dir}/entry-${tag}`),
            splitBytes,
          });
          // Split into ranges, then parsed again whole (a range saw a quote).
          assert.equal(scan.reparsed, splitBytes === undefined ? 0 : 1);
          assert.equal(scan.spilled, memoryBudget < 1 << 30);
          const bytes = await Deno.readFile(`${dir}/entry-${tag}/campaigns.bin`);
          const counts = formatCountsCsv(countCampaignHours({
            rows: scan.rows,
            hours: scan.hours,
            campaigns: new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4),
            campaignIds: scan.campaignIds,
            kept: scan.kept,
            objects: scan.objects,
          }));
          const kept = name === "early" ? 40 : 50_000;
          assert.equal(scan.rows, kept + 1);
          assert.equal(scan.stats.invalidRows, 1);
          assert.deepEqual(scan.invalid.map((r) => [r.key, r.line]), [[`${name}.csv`, kept + 2]]);
          results.push(counts);
        });
      }
      assert.equal(new Set(results).size, 1);
    }
  });
  recordSummary({ badInputs: 2 });
});
