/**
 * A parse task reads its file into the CSV kernel's own memory (its read
 * regions) and scans it there, without a copy: lines, quoted fields with
 * line breaks and invalid rows that straddle the 1 MiB regions must come
 * out as a scan of the same bytes in one piece gives them, and a kernel
 * reused by the next task must not show it the last task's bytes.
 */

import assert from "node:assert/strict";
import { runScanTask, type ScanTask, type ScanTaskResult } from "../engine/scan_task.ts";
import { CsvKernel, REGION_BYTES, REGIONS } from "../engine/csv_kernel.ts";
import { scanImpressions } from "../engine/scan_impressions.ts";
import { KeyPartitions } from "../engine/key_partitions.ts";
import { csv, row, withTempDir } from "./_helpers.ts";
import { Rng } from "./_rng.ts";

const DATE = "2021-01-30";

/** A plain row of a random UUID. */
function plainRow(rng: Rng, i: number): string {
  const hex = (n: number) =>
    Array.from({ length: n }, () => "0123456789abcdef"[rng.int(16)]).join("");
  const id = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  const second = String(i % 60).padStart(2, "0");
  return row(id, `2021-01-30 ${String(i % 24).padStart(2, "0")}:00:${second}`, String(i % 37));
}

/**
 * About 3.3 MB of rows, with rows of other kinds (a quoted id holding a line
 * break, an escaped quote, a bad datetime, a raw id, a repeat) around each
 * region boundary, and one line ending exactly on a boundary.
 */
function dayText(rng: Rng): string {
  const special = [
    row('"multi\nline, id"', "2021-01-30 05:00:00", "3"),
    row('"say ""hi"""', "2021-01-30 06:00:00", "4"),
    row("bad-datetime", "2021-01-30 25:00:00", "5"),
    row("raw-id-7", "2021-01-30 07:00:00.123456789", "6"),
    row("raw-id-7", "2021-01-30 07:00:00.123456789", "6"),
  ];
  let text = csv();
  let i = 0;
  for (let boundary = REGION_BYTES; boundary < 3.3e6; boundary += REGION_BYTES) {
    // Plain rows up to just before the boundary, then the special ones across it.
    while (text.length < boundary - 200) text += plainRow(rng, i++) + "\n";
    for (const line of special) text += line + "\n";
  }
  while (text.length < 3.3e6) text += plainRow(rng, i++) + "\n";
  // A line that ends exactly at the last region boundary of the text's length.
  const end = Math.ceil(text.length / REGION_BYTES) * REGION_BYTES;
  const filler = end - text.length - 1;
  if (filler > 200) text += "x".repeat(filler) + "\n";
  return text;
}

function task(path: string, dir: string, id: number): ScanTask {
  return {
    id,
    key: `k${id}.csv`,
    path,
    gzip: false,
    start: 0,
    end: -1,
    date: DATE,
    partitions: 16,
    spill: false,
    scratch: `${dir}/t${id}`,
    maxInvalidRows: 1000,
  };
}

/** What the task found, in a form to compare: its records, hours, campaign ids per row, invalid lines. */
function summary(result: ScanTaskResult) {
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  const hours = (result.hours as Uint8Array[]).flatMap((
    p,
  ) => [...new Int8Array(p.buffer, p.byteOffset, p.length)]);
  const campaigns = (result.campaigns as Uint8Array[]).flatMap((p) => [
    ...new Uint32Array(p.buffer, p.byteOffset, p.length / 4),
  ]);
  return {
    rows: result.rows,
    records: result.records.map((r) => [...r]),
    hours,
    campaigns: campaigns.map((c) => result.campaignIds[c]),
    invalid: result.invalid.map((r) => `${r.line} ${r.column} ${r.reason}`),
  };
}

/** The same, from a scan of the whole bytes in one piece (no read regions). */
async function reference(bytes: Uint8Array, key: string) {
  const invalid: string[] = [];
  const scan = await scanImpressions([bytes], {
    key,
    date: DATE,
    onInvalid: (r) => invalid.push(`${r.line} ${r.column} ${r.reason}`),
  });
  const partitions = new KeyPartitions(16);
  partitions.add({ ...scan, firstRow: 0 }, 0);
  return {
    rows: scan.rows,
    records: partitions.take().map((r) => [...r]),
    hours: [...scan.hours],
    campaigns: [...scan.campaigns].map((c) => scan.campaignIds[c]),
    invalid,
  };
}

Deno.test("a task scanned in the kernel's read regions gives what one scan of its bytes gives", async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(11);
    const first = new TextEncoder().encode(dayText(rng));
    const second = new TextEncoder().encode(
      dayText(rng).slice(0, 1_500_000).replace(/\n[^\n]*$/, "\n"),
    );
    assert.ok(first.length > (REGIONS - 1) * REGION_BYTES, "more than the regions hold at once");
    await Deno.writeFile(`${dir}/a.csv`, first);
    await Deno.writeFile(`${dir}/b.csv`, second);
    const wantA = await reference(first, "k0.csv");
    const wantB = await reference(second, "k1.csv");
    assert.ok(wantA.invalid.length >= 3 && wantA.rows > 10_000);
    // One task after another on this thread: the second reuses the first's
    // kernel and regions, with the first's bytes still in them.
    const gotA = summary(await runScanTask(task(`${dir}/a.csv`, dir, 0)));
    const gotB = summary(await runScanTask(task(`${dir}/b.csv`, dir, 1)));
    for (const [got, want] of [[gotA, wantA], [gotB, wantB]] as const) {
      assert.equal(got.rows, want.rows);
      assert.ok(
        got.hours.length === want.hours.length && got.hours.every((h, i) => h === want.hours[i]),
      );
      assert.ok(
        got.campaigns.length === want.campaigns.length &&
          got.campaigns.every((c, i) => c === want.campaigns[i]),
      );
      assert.deepEqual(got.invalid, want.invalid);
      assert.equal(got.records.length, want.records.length);
      for (let p = 0; p < want.records.length; p++) {
        const g = got.records[p], w = want.records[p];
        assert.ok(g.length === w.length && g.every((x, i) => x === w[i]), `partition ${p}`);
      }
    }
  });
});

Deno.test("a kernel loads a chunk of its read regions in place and copies any other", () => {
  const kernel = new CsvKernel();
  const region = kernel.region(1);
  region.set(new TextEncoder().encode("a,b\nc,d\n"));
  const inPlace = kernel.load(region.subarray(0, 8));
  assert.equal(inPlace.buffer, region.buffer);
  assert.equal(inPlace.byteOffset, region.byteOffset);
  assert.equal(kernel.scan(0, 8, 2), 2);
  assert.equal(kernel.rowEnd(1), 7);
  assert.equal(kernel.fieldStart(1, 1), 6);
  // A view running past a region's end, or another buffer, is copied.
  const across = new Uint8Array(region.buffer, region.byteOffset + REGION_BYTES - 4, 8);
  assert.notEqual(kernel.load(across).byteOffset, across.byteOffset);
  const other = kernel.load(new TextEncoder().encode("x,y\n"));
  assert.notEqual(other.buffer, new Uint8Array(0).buffer);
  assert.equal(kernel.scan(0, 4, 2), 1);
  assert.equal(kernel.rowEnd(0), 3);
  assert.throws(() => kernel.region(REGIONS), RangeError);
});
