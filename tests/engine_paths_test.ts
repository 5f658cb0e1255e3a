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
import { runEnginePath, withTempDir } from "./_helpers.ts";
import { scanDay } from "../engine/day_scan.ts";
import { createEntryWriter } from "../materializer/cache.ts";
import { hashWords } from "../engine/hash128.ts";
import { packUuid, UUID_BYTES } from "../engine/id_key.ts";

/**
 * Two nanosecond values at which `id` (a lowercase UUID) at `second` has
 * the same first hash lane but for its lowest bit: the one a key record
 * keeps. Found by birthday search (some 60,000 hashes).
 */
function laneTwins(id: string, second: number): [number, number] {
  const words = new Uint32Array(4), lanes = new Uint32Array(4);
  packUuid(new TextEncoder().encode(id), 0, 36, words, 0);
  const seen = new Map<number, number>();
  for (let nanos = 1;; nanos++) {
    hashWords(words, 0, UUID_BYTES, second, nanos, lanes, 0);
    const lane = (lanes[0] & ~1) >>> 0;
    const twin = seen.get(lane);
    if (twin !== undefined) return [twin, nanos];
    seen.set(lane, nanos);
  }
}

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
    const run = (name: string, ...flags: string[]) => runEnginePath(root, dir, name, ...flags);
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

Deno.test("byte-range splits give the same rows, and quoted files are parsed whole", async (t) => {
  await withTempDir(async (dir) => {
    const root = `${dir}/bucket`;
    await writeSyntheticDay({ root, date: DATE, rows: 40_000, files: 2, seed: 5 });
    // A file with quoted fields holding line breaks: splitting it at a line
    // start could cut a field, so it must be parsed whole.
    const quoted = [
      "IMPRESSION_ID,NOTE,IMPRESSION_DATETIME,CAMPAIGN_ID",
      ...Array.from(
        { length: 12_000 },
        (_, i) =>
          `q-${i},"line one\nline ""two"", ${"x".repeat(i % 50)}",2021-01-30 ${
            String(i % 24).padStart(2, "0")
          }:00:00,${i % 7}`,
      ),
    ].join("\n") + "\n";
    await Deno.writeTextFile(`${root}/2021/01/30/quoted.csv`, quoted);
    const expected = await reference(root);
    const folder = `${root}/2021/01/30`;
    const objects = [...Deno.readDirSync(folder)].map((e) => e.name).sort().map((name) => {
      const path = `${folder}/${name}`;
      const header = Deno.readTextFileSync(path).split("\n", 1)[0].split(",");
      return {
        key: name,
        etag: "e",
        size: Deno.statSync(path).size,
        file: name,
        path,
        gzip: false,
        header,
      };
    });
    for (const workers of [0, 2]) {
      await t.step(`${workers} workers, 256 KiB ranges`, async () => {
        const out = createEntryWriter(`${dir}/entry-${workers}`);
        const scan = await scanDay({
          objects,
          date: DATE,
          maxInvalidRows: 0,
          workers,
          memoryBudget: 1 << 30,
          scratchDir: `${dir}/scratch-${workers}`,
          output: out,
          splitBytes: 256 * 1024,
        });
        const hours = new Int8Array(
          (await Deno.readFile(`${dir}/entry-${workers}/hours.bin`)).buffer,
        );
        const bytes = await Deno.readFile(`${dir}/entry-${workers}/campaigns.bin`);
        const counts = countCampaignHours({
          rows: scan.rows,
          hours,
          campaigns: new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4),
          campaignIds: scan.campaignIds,
          kept: scan.kept,
          objects: scan.objects,
        });
        assert.equal(formatCountsCsv(counts), expected);
        assert.equal(scan.rows, 52_000);
        assert.ok(scan.tasks > objects.length, `only ${scan.tasks} tasks`);
        assert.equal(scan.reparsed, 1); // quoted.csv
      });
    }
  });
});

Deno.test("a day whose datetimes have fractions of a second is planned with its longer key records", async () => {
  // Two days of the same bytes and rows: one at whole seconds, whose key
  // records are 28 bytes, one at fractions of a second (nanoseconds kept:
  // 40 bytes). A budget between what the two need in memory keeps the
  // first there and spills the second, and both publish the counts of a
  // reference scan.
  await withTempDir(async (dir) => {
    const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
    const rows = 50_000;
    for (
      const [name, datetime, campaign] of [["whole", "2021-01-30 01:00:00Z", "10"], [
        "fraction",
        "2021-01-30 01:00:00.5",
        "1",
      ]]
    ) {
      const root = `${dir}/${name}`;
      const lines = ["IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID,PAD"];
      for (let i = 0; i < rows; i++) {
        lines.push(`${uuid(i % 40_000)},${datetime},${campaign},${"x".repeat(90)}`);
      }
      await Deno.mkdir(`${root}/2021/01/30`, { recursive: true });
      await Deno.writeTextFile(`${root}/2021/01/30/a.csv`, lines.join("\n") + "\n");
      const expected = await reference(root);
      const r = await runEnginePath(root, dir, name, "--workers", "2", "--memory-budget", "5MiB");
      assert.equal(r.csv, expected);
      assert.match(r.stderr, name === "whole" ? /spilled=false/ : /spilled=true/);
    }
  });
});

Deno.test("instants outside 1970-2106 and fractions of a second are keys of their own on every path", async (t) => {
  // A key record keeps a whole second from 1970 to 2106 in one word, any
  // other instant in three (seconds' low and high words, nanoseconds); the
  // usual form (a UUID at a whole second) has no header. Rows whose instants
  // share a low word (0 and 2^32 seconds), or differ only in nanoseconds,
  // even with the same hash lane, must stay apart, and the same instant
  // written two ways must not.
  await withTempDir(async (dir) => {
    const root = `${dir}/bucket`;
    const a = "0a0b0c0d-0000-4000-8000-00000000000a";
    const b = "0a0b0c0d-0000-4000-8000-00000000000b";
    const second = Date.parse(`${DATE}T05:00:01Z`) / 1000;
    const nine = (n: number) => String(n).padStart(9, "0");
    const [n1, n2] = laneTwins(a, second);
    const rows: string[] = [
      // In the day, hour 5: five keys (two of one lane), four repeats.
      `${a},${DATE} 05:00:01.${nine(n1)},7`,
      `${a},${DATE} 05:00:01.${nine(n2)},7`,
      `${a},${DATE} 05:00:01.${nine(n1)},7`,
      `${a},${DATE} 05:00:00.5,7`,
      `${a},${DATE} 05:00:00.5,7`,
      `${a},${DATE} 05:00:00.500,7`,
      `${a},${DATE} 05:00:00.500000001,7`,
      `${a},${DATE} 05:00:00,7`,
      `${a},${DATE} 05:00:00.000,7`,
      // Other days: four keys, two repeats.
      `${b},1969-12-31 23:59:59,7`,
      `${b},1969-12-31 23:59:59,7`,
      `${b},1970-01-01 00:00:00,7`,
      `${b},2106-02-07 06:28:16,7`,
      `${b},2106-02-07 06:28:15,7`,
      `${b},2106-02-07T06:28:15Z,7`,
    ];
    // Three objects, the rows above split between the first and the last,
    // with enough distinct rows at hour 10 for the parallel path to use
    // workers and blocks.
    const filler = 90_000;
    await Deno.mkdir(`${root}/2021/01/30`, { recursive: true });
    for (const [k, name] of ["a", "b", "c"].entries()) {
      const lines = ["IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID"];
      if (k !== 1) lines.push(...rows.filter((_, i) => i % 2 === k / 2));
      for (let i = k * filler / 3; i < (k + 1) * filler / 3; i++) {
        lines.push(
          `${i.toString(16).padStart(8, "0")}-1111-4000-8000-${"f".repeat(12)},${DATE} 10:00:00,7`,
        );
      }
      await Deno.writeTextFile(`${root}/2021/01/30/${name}.csv`, lines.join("\n") + "\n");
    }
    const expected = "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n7,5,5\n7,10,90000\n";
    for (
      const [name, flags] of [
        ["single", ["--workers", "0"]],
        ["parallel", ["--workers", "2"]],
        ["spill", ["--workers", "2", "--memory-budget", "1MiB"]],
      ] as const
    ) {
      await t.step(name, async () => {
        const r = await runEnginePath(root, dir, name, ...flags);
        assert.equal(r.csv, expected);
        assert.match(r.stderr, /duplicates=6 lateRows=4 invalidRows=0/);
        assert.match(r.stderr, name === "spill" ? /spilled=true/ : /spilled=false/);
        assert.match(r.stderr, /objects=3 /);
      });
    }
  });
});
