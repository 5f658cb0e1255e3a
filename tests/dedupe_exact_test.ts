/**
 * Deduplication is exact: two rows are merged only when their keys (the
 * `IMPRESSION_ID` value and the instant) are equal, never because their
 * hashes are. Crafted ids whose hashes collide stay apart on every engine
 * path (single-threaded, parallel workers, byte-range splits, spilling), and
 * the identity of every required field is its value after unquoting and
 * trimming, as `csv-parse` reads it.
 */

import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { hashWords } from "../engine/hash128.ts";
import { packUuid } from "../engine/id_key.ts";
import { dedupeDay } from "../engine/impression_day.ts";
import { scanImpressions } from "../engine/scan_impressions.ts";
import { countCampaignHours, formatCountsCsv } from "../engine/hourly_counts.ts";
import { scanDay } from "../engine/day_scan.ts";
import { createEntryWriter } from "../materializer/cache.ts";
import { collidingIds, referenceHash } from "./_collisions.ts";
import { runEnginePath, withTempDir, writeObjects } from "./_helpers.ts";
import { Rng } from "./_rng.ts";
import { recordSummary } from "./_summary.ts";

const DATE = "2021-01-30";
const HEADER = "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID,FILLER";
const encoder = new TextEncoder();

/** The example from the hardening issue: two impressions, one hash. */
const ISSUE_PAIR = [
  "UTgIGP-untmaK7HaNx2UIs7qWXsEWZTqK-IT5JqBkidQgdPI",
  "UTgIjizqntmaK7HaFUxjIs7qWXsEWZTqKmWSDuZFkidQgdPI",
];

/** Crafted sets: each set's ids all hash alike at any instant. */
const SETS = [
  ISSUE_PAIR,
  collidingIds(6, 1), // 64 ids of 192 bytes
  collidingIds(5, 2, "-tail"), // 32 ids, a common suffix after the colliding blocks
  collidingIds(3, 3, "x"), // 8 ids, the last block zero-padded
];
const CRAFTED = SETS.flat();

function hashOf(id: string, seconds: number, nanos = 0): string {
  const out = new Uint32Array(4);
  const words = new Uint32Array(Math.ceil(id.length / 4) + 1);
  encoder.encodeInto(id, new Uint8Array(words.buffer));
  hashWords(words, 0, encoder.encode(id).length, seconds, nanos, out, 0);
  return out.join(",");
}

Deno.test("the crafted ids are distinct and collide under engine/hash128.ts at any instant", () => {
  assert.equal(new Set(CRAFTED).size, CRAFTED.length);
  for (const set of SETS) {
    for (const [seconds, nanos] of [[1611957600, 0], [1612000800, 123_000_000], [-5, 7]]) {
      const hashes = new Set(set.map((id) => hashOf(id, seconds, nanos)));
      assert.equal(hashes.size, 1, `a set of ${set.length} at ${seconds}`);
    }
    assert.ok(set.every((id) => /^[A-Za-z0-9_-]+$/.test(id)));
  }
});

Deno.test("hashWords() gives the reference hash's lanes for the same bytes", () => {
  const rng = new Rng(4);
  for (let n = 0; n < 2000; n++) {
    const length = rng.int(80);
    const words = new Uint32Array(((length + 3) >>> 2) + 1);
    const bytes = new Uint8Array(words.buffer, 0, length);
    for (let i = 0; i < length; i++) bytes[i] = rng.int(256);
    const seconds = rng.int(4e9) - 2e9, nanos = rng.int(1e9);
    const a = referenceHash(bytes, seconds, nanos), b = new Uint32Array(4);
    hashWords(words, 0, length, seconds, nanos, b, 0);
    assert.deepEqual(b, a, `length ${length}`);
  }
});

Deno.test("a packed UUID and a raw id with the same key bytes are two impressions", async () => {
  // 41424344-… packs to the words 0x41424344, 0x45464748, …: on a
  // little-endian machine the bytes "DCBA", "HGFE", …, so the two ids hash
  // alike; only their length words tell them apart.
  const uuid = "41424344-4546-4748-494a-4b4c4d4e4f50";
  const raw = "DCBAHGFELKJIPONM";
  const words = new Uint32Array(4);
  assert.ok(packUuid(encoder.encode(uuid), 0, 36, words, 0));
  const packed = new Uint32Array(4);
  hashWords(words, 0, 16, 1612000800, 0, packed, 0);
  const plain = referenceHash(encoder.encode(raw), 1612000800, 0);
  assert.deepEqual(packed, plain);
  const { kept } = await engineDay([
    [uuid, `${DATE} 10:00:00`, "1"],
    [raw, `${DATE} 10:00:00`, "1"],
    [uuid, `"${DATE} 10:00:00.000"`, "1"],
    [`"${raw}"`, `${DATE} 10:00:00`, "1"],
    [uuid.toUpperCase(), `${DATE} 10:00:00`, "1"],
  ]);
  assert.deepEqual(kept, [1, 1, 0, 0, 1]);
  recordSummary({ badInputs: 2 });
});

/** A 2021-01-30 datetime at `hour`, in one of the accepted spellings. */
function at(hour: number, style = 0): string {
  const hh = String(hour).padStart(2, "0");
  return [`${DATE} ${hh}:00:00`, `${DATE} ${hh}:00:00.000`, `${DATE}T${hh}:00:00Z`][style % 3];
}

/**
 * Rows of the crafted ids: each at 10:00 (then again at 10:00:00.000 in a
 * later file, a true duplicate) and at 11:00 (another key), some written in
 * quotes; `files` objects, each padded with filler rows so the day is big
 * enough for the parser workers.
 */
function craftedDay(files: number, seed: number): Record<string, string> {
  const rng = new Rng(seed);
  const bodies: string[][] = Array.from({ length: files }, () => []);
  const filler = "f".repeat(1500);
  const put = (file: number, id: string, datetime: string, campaign: number) =>
    bodies[file].push(`${id},${datetime},${campaign},${filler}`);
  CRAFTED.forEach((id, i) => {
    const quoted = i % 5 === 0 ? `"${id}"` : i % 7 === 0 ? ` ${id}\t` : id;
    put(rng.int(files), quoted, at(10, i), 42);
    put(files - 1, id, at(10, i + 1), 42);
    put(rng.int(files), id, at(11, i), 7 + (i % 3));
  });
  for (let i = 0; i < 3200; i++) {
    put(rng.int(files), `plain-${i % 3000}`, at(i % 24), i % 5);
  }
  const objects: Record<string, string> = {};
  bodies.forEach((rows, f) => {
    objects[`2021/01/30/part-${f}.csv`] = [HEADER, ...rows].join("\n") + "\n";
  });
  return objects;
}

/** What the day must publish, from csv-parse and an exact map of keys. */
function expectedCsv(objects: Record<string, string>): string {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (const key of Object.keys(objects).sort()) {
    const rows = parse(objects[key], { columns: true, relax_quotes: true }) as Record<
      string,
      string
    >[];
    for (const row of rows) {
      const id = row.IMPRESSION_ID.replace(/^[ \t]+|[ \t]+$/g, "");
      const datetime = row.IMPRESSION_DATETIME.trim().replace(" ", "T");
      const instant = Date.parse(datetime.endsWith("Z") ? datetime : `${datetime}Z`);
      const identity = JSON.stringify([id, instant]);
      if (seen.has(identity)) continue;
      seen.add(identity);
      const group = `${Number(row.CAMPAIGN_ID)},${new Date(instant).getUTCHours()}`;
      counts.set(group, (counts.get(group) ?? 0) + 1);
    }
  }
  const lines = [...counts].sort(([a], [b]) => {
    const [ca, ha] = a.split(",").map(Number), [cb, hb] = b.split(",").map(Number);
    return ca - cb || ha - hb;
  }).map(([group, n]) => `${group},${n}`);
  return ["CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT", ...lines].join("\n") + "\n";
}

Deno.test("crafted colliding ids are never merged, on every engine path", async (t) => {
  for (const files of [1, 3]) {
    await withTempDir(async (dir) => {
      const root = `${dir}/bucket`;
      const objects = craftedDay(files, files);
      await writeObjects(root, objects);
      const expected = expectedCsv(objects);
      // Each crafted id is two impressions (10:00 and 11:00), whatever its hash.
      const at10 = expected.split("\n").find((l) => l.startsWith("42,10,"));
      assert.equal(at10, `42,10,${CRAFTED.length}`);
      const run = async (name: string, ...flags: string[]) => {
        const { stderr, csv } = await runEnginePath(root, dir, name, ...flags);
        assert.equal(csv, expected, `${files} file(s), ${name}`);
        return stderr;
      };
      await t.step(`${files} file(s), single-threaded`, async () => {
        assert.match(await run("single", "--workers", "0"), /spilled=false/);
      });
      await t.step(`${files} file(s), parallel workers`, async () => {
        assert.match(await run("parallel", "--workers", "2"), /spilled=false/);
      });
      await t.step(`${files} file(s), spilling`, async () => {
        assert.match(
          await run("spill", "--workers", "2", "--memory-budget", "256KiB"),
          /spilled=true/,
        );
      });
      await t.step(`${files} file(s), spilling single-threaded`, async () => {
        assert.match(
          await run("spill0", "--workers", "0", "--memory-budget", "256KiB"),
          /spilled=true/,
        );
      });
    });
  }
  recordSummary({ badInputs: CRAFTED.length * 2 });
});

Deno.test("crafted colliding ids stay apart in byte ranges parsed by workers", async () => {
  await withTempDir(async (dir) => {
    // No quotes, so the objects are split into 256 KiB ranges.
    const objects = Object.fromEntries(
      Object.entries(craftedDay(2, 9)).map(([k, v]) => [k, v.replaceAll('"', "")]),
    );
    await writeObjects(dir, objects);
    const expected = expectedCsv(objects);
    const listed = Object.keys(objects).sort().map((key) => {
      const path = `${dir}/${key}`;
      return {
        key,
        etag: "e",
        size: Deno.statSync(path).size,
        file: key,
        path,
        gzip: false,
        header: HEADER.split(","),
      };
    });
    for (const [workers, budget] of [[2, 1 << 30], [2, 1 << 20], [0, 1 << 30]]) {
      const out = createEntryWriter(`${dir}/entry-${workers}-${budget}`);
      const scan = await scanDay({
        objects: listed,
        date: DATE,
        maxInvalidRows: 0,
        workers,
        memoryBudget: budget,
        scratchDir: `${dir}/scratch`,
        output: out,
        splitBytes: 256 * 1024,
      });
      assert.ok(scan.tasks > listed.length, `only ${scan.tasks} tasks`);
      const bytes = await Deno.readFile(`${dir}/entry-${workers}-${budget}/campaigns.bin`);
      const counts = countCampaignHours({
        rows: scan.rows,
        hours: scan.hours,
        campaigns: new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4),
        campaignIds: scan.campaignIds,
        kept: scan.kept,
        objects: scan.objects,
      });
      assert.equal(formatCountsCsv(counts), expected, `${workers} workers, budget ${budget}`);
    }
  });
});

/** Rows (id, datetime, campaign fields as written) deduplicated by the engine. */
async function engineDay(
  rows: readonly [string, string, string][],
): Promise<{ kept: number[]; campaigns: string[] }> {
  const text = ["IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID", ...rows.map((r) => r.join(","))]
    .join("\n") + "\n";
  const scan = await scanImpressions([encoder.encode(text)], { key: "a.csv", date: DATE });
  const { day } = dedupeDay([scan]);
  return {
    kept: [...day.kept],
    campaigns: [...day.campaigns].map((c) => day.campaignIds[c]),
  };
}

/** csv-parse's reading of the same rows: trimmed values. */
function oracleRows(rows: readonly [string, string, string][]): string[][] {
  const text = rows.map((r) => r.join(",")).join("\n") + "\n";
  return (parse(text, { relax_quotes: true }) as string[][]).map((r) =>
    r.map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ""))
  );
}

Deno.test("a field's identity is its value after unquoting and trimming, as csv-parse reads it", async (t) => {
  // The same values written unquoted, quoted, with `""` escapes and spaces.
  const ids = [
    "AB",
    '"AB"',
    ' "AB" ',
    '" AB "',
    " AB\t",
    'A"B',
    '"A""B"',
    ' "A""B"',
    'A""B',
    '"A""""B"',
    '"""AB"""',
    '"AB"""',
    '"A,B"',
    "A;B",
  ];
  // Datetime forms of one instant (`s`) or the next second, written out.
  const clock = (s: number) =>
    [s / 3600, (s / 60) % 60, s % 60].map((n) => String(Math.floor(n)).padStart(2, "0")).join(":");
  const datetimes = [
    (s: number) => `${DATE} ${clock(s)}`,
    (s: number) => `"${DATE} ${clock(s)}"`,
    (s: number) => `" ${DATE} ${clock(s)}.000 "`,
    (s: number) => `"${DATE}T${clock(s)}Z"`,
    (s: number) => `${DATE} ${clock(s + 1)}`,
    (s: number) => `"${DATE} ${clock(s + 1)}.000"`,
  ];
  let cases = 0;
  await t.step("every pairing of id forms, at every pairing of datetime forms", async () => {
    // Each pairing gets its own two seconds of the day, so pairings never meet.
    const rows: [string, string, string][] = [];
    for (const a of ids) {
      for (const b of ids) {
        for (const da of datetimes) {
          for (const db of datetimes) {
            const s = rows.length;
            rows.push([a, da(s), "1"], [b, db(s), "1"]);
          }
        }
      }
    }
    const instant = (v: string) => Date.parse(v.replace(" ", "T").replace(/Z?$/, "Z"));
    const read = oracleRows(rows);
    const expected: number[] = [];
    for (let r = 0; r < read.length; r += 2) {
      const [ra, rb] = [read[r], read[r + 1]];
      expected.push(1, ra[0] === rb[0] && instant(ra[1]) === instant(rb[1]) ? 0 : 1);
    }
    const { kept } = await engineDay(rows);
    for (let r = 0; r < rows.length; r += 2) {
      assert.deepEqual(
        kept.slice(r, r + 2),
        expected.slice(r, r + 2),
        `${rows[r].join(",")} / ${rows[r + 1].join(",")}`,
      );
    }
    assert.ok(expected.includes(0) && expected.filter((k) => k === 0).length < rows.length / 4);
    cases += rows.length / 2;
  });
  await t.step("campaigns: quoted and padded forms of one number are one campaign", async () => {
    const forms = ["42", '"42"', '" 42 "', '"042"', "42.0", '"42.0"', "", '""', '" "'];
    const rows = forms.map((c, i): [string, string, string] => [`id${i}`, datetimes[0](0), c]);
    const { kept, campaigns } = await engineDay(rows);
    assert.deepEqual(kept, forms.map(() => 1));
    const expected = oracleRows(rows).map((r) => r[2] === "" ? "" : String(Number(r[2])));
    assert.deepEqual(campaigns, expected);
    // Unquoted text holding quotes is not a number, whatever csv-parse makes of it.
    await assert.rejects(
      () => engineDay([["id", datetimes[0](0), ' "42"']]),
      /line 2, column CAMPAIGN_ID: not an integer \(value ""42""\)/,
    );
    cases += forms.length + 1;
  });
  recordSummary({ badInputs: cases });
});
