import assert from "node:assert/strict";
import { CsvKernel } from "../engine/csv_kernel.ts";
import { KeyPartitions } from "../engine/key_partitions.ts";
import {
  createImpressionScan,
  type InvalidRow,
  scanImpressions,
} from "../engine/scan_impressions.ts";
import { Rng } from "./_rng.ts";

const encoder = new TextEncoder();

function hex(rng: Rng, n: number, digits = "0123456789abcdef"): string {
  let s = "";
  for (let i = 0; i < n; i++) s += digits[rng.int(digits.length)];
  return s;
}

function uuid(rng: Rng): string {
  return `${hex(rng, 8)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 4)}-${hex(rng, 12)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** An id: mostly lowercase UUIDs, and every near miss of one. */
function randomId(rng: Rng): string {
  const id = uuid(rng);
  switch (rng.int(10)) {
    case 0:
      return id.toUpperCase();
    case 1:
      return ` ${id}`;
    case 2:
      return id.slice(1);
    case 3:
      return `${id}0`;
    case 4:
      return id.slice(0, 10) + "g" + id.slice(11);
    case 5:
      return id.replace("-", "x");
    case 6:
      return hex(rng, 1 + rng.int(40), "abcXYZ019-_ ");
    default:
      return id;
  }
}

/** A datetime: mostly valid, with every form and range the contract names. */
function randomDatetime(rng: Rng): string {
  const year = rng.int(5) === 0 ? rng.int(10000) : [2020, 2021, 1900, 2000, 2100][rng.int(5)];
  const month = rng.int(8) === 0 ? rng.int(14) : rng.int(3) === 0 ? 2 : 1 + rng.int(12);
  // Month ends most of all (28 to 32), and day 0.
  const day = rng.int(2) === 0 ? 27 + rng.int(6) : rng.int(12) === 0 ? 0 : 1 + rng.int(28);
  const hour = rng.int(10) === 0 ? 20 + rng.int(6) : rng.int(24);
  const minute = rng.int(10) === 0 ? 55 + rng.int(6) : rng.int(60);
  const second = rng.int(10) === 0 ? 55 + rng.int(6) : rng.int(60);
  const sep = rng.int(4) === 0 ? "T" : " ";
  let text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${sep}${pad(hour, 2)}:${
    pad(minute, 2)
  }:${pad(second, 2)}`;
  const fraction = rng.int(12);
  if (fraction < 10) text += "." + hex(rng, fraction, "0123456789");
  const tail = rng.int(10);
  if (tail === 0) text += "Z";
  else if (tail === 1) text += "+01:30";
  else if (tail === 2) text += " ";
  else if (tail === 3) text += "Zx";
  return text;
}

/** A campaign: mostly plain numbers, and leading zeros, signs, fractions, empties. */
function randomCampaign(rng: Rng): string {
  switch (rng.int(10)) {
    case 0:
      return "";
    case 1:
      return "0" + hex(rng, 1 + rng.int(4), "0123456789");
    case 2:
      return "-" + hex(rng, 1 + rng.int(4), "123456789");
    case 3:
      return hex(rng, 1 + rng.int(3), "123456789") + ".0";
    case 4:
      return hex(rng, 14 + rng.int(6), "123456789");
    case 5:
      return "0";
    default:
      return hex(rng, 1 + rng.int(9), "123456789");
  }
}

interface Scanned {
  hashes: number[];
  keys: number[][];
  hours: number[];
  campaigns: string[];
  invalid: InvalidRow[];
}

async function scan(text: string): Promise<Scanned> {
  const invalid: InvalidRow[] = [];
  // The header alone first: the kernel comes in once the columns are known.
  const lf = text.indexOf("\n") + 1;
  const chunks = [text.slice(0, lf), text.slice(lf)].map((part) => encoder.encode(part));
  const result = await scanImpressions(chunks, {
    key: "k.csv",
    date: "2021-01-30",
    onInvalid: (row) => invalid.push(row),
  });
  const keys: number[][] = [];
  for (let r = 0; r < result.rows; r++) {
    keys.push([
      result.keyLengths[r],
      ...result.keys.subarray(result.keyStarts[r], result.keyStarts[r + 1]),
    ]);
  }
  return {
    hashes: [...result.hashes],
    keys,
    hours: [...result.hours],
    campaigns: [...result.campaigns].map((c) => result.campaignIds[c]),
    invalid,
  };
}

Deno.test("rows the kernel parses give what the JS path gives", async (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    await t.step(`seed ${seed}`, async () => {
      const rng = new Rng(seed);
      const crlf = seed % 2 === 0;
      // Campaign last in odd seeds: its end is the line end (and a CR before it).
      const names = seed % 3 === 0
        ? ["IMPRESSION_ID", "IMPRESSION_DATETIME", "NOTE", "CAMPAIGN_ID"]
        : ["NOTE", "CAMPAIGN_ID", "IMPRESSION_ID", "IMPRESSION_DATETIME"];
      const rows = Array.from({ length: 3000 }, () => ({
        IMPRESSION_ID: randomId(rng),
        IMPRESSION_DATETIME: randomDatetime(rng),
        CAMPAIGN_ID: randomCampaign(rng),
      }));
      const eol = crlf ? "\r\n" : "\n";
      const document = (note: string) =>
        names.join(",") + eol +
        rows.map((row) =>
          names.map((n) => n === "NOTE" ? note : row[n as keyof typeof row]).join(",")
        ).join(eol) + eol;
      // A line holding a quote is parsed in JS; one without may take the kernel's path.
      const fast = await scan(document("x"));
      const slow = await scan(document('"x"'));
      assert.deepEqual(fast, slow);
      assert.ok(fast.invalid.length > 100 && fast.invalid.length < 2900);
    });
  }
});

Deno.test("the kernel takes a plain row and leaves the rest to JS", () => {
  const kernel = new CsvKernel();
  const text = "6f1c2a9e-0d7b-4c55-9a61-3f0e8d2b7c10,2021-01-30 12:15:02.5,9624\n" +
    "6F1C2A9E-0D7B-4C55-9A61-3F0E8D2B7C10,2021-01-30 12:15:02,9624\n" +
    "6f1c2a9e-0d7b-4c55-9a61-3f0e8d2b7c10,2021-02-29 12:15:02,9624\n" +
    "6f1c2a9e-0d7b-4c55-9a61-3f0e8d2b7c10,2021-01-30 12:15:02,09624\n" +
    "6f1c2a9e-0d7b-4c55-9a61-3f0e8d2b7c10,2024-02-29T23:59:59.123456789Z,0\n";
  const data = kernel.load(encoder.encode(text));
  const rows = kernel.scan(0, data.length, 3);
  assert.equal(rows, 5);
  kernel.parse(rows, { id: 0, datetime: 1, campaign: 2, count: 3 });
  assert.deepEqual([0, 1, 2, 3, 4].map((r) => kernel.parsed(r)), [true, false, false, false, true]);
  assert.equal(kernel.parsedFloats[5], Date.UTC(2021, 0, 30, 12, 15, 2) / 1000);
  assert.equal(kernel.parsedWords[9], 500_000_000);
  assert.equal(kernel.parsedFloats[6], 9624);
  assert.equal(kernel.parsedWords[5] >>> 0, 0x6f1c2a9e);
  assert.equal(kernel.parsedFloats[4 * 8 + 5], Date.UTC(2024, 1, 29, 23, 59, 59) / 1000);
  assert.equal(kernel.parsedWords[4 * 16 + 9], 123_456_789);
});

/** A CSV of 3000 rows of near misses (see above): some take the kernel's path, some JS's. */
function mixedRows(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const lines = ["IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID"];
  for (let r = 0; r < 3000; r++) {
    lines.push([randomId(rng), randomDatetime(rng), randomCampaign(rng)].join(","));
  }
  return encoder.encode(lines.join("\n") + "\n");
}

Deno.test("blocks of a few rows hold what one block holds, whichever path each row took", async () => {
  const bytes = mixedRows(11);
  const options = { key: "k.csv", date: "2021-01-30", onInvalid: () => {} };
  const whole = await scanImpressions([bytes], options);
  for (const blockRows of [1, 7, 64]) {
    const hashes: number[] = [],
      hours: number[] = [],
      campaigns: number[] = [],
      keys: number[] = [];
    const firstRows: number[] = [];
    const scan = createImpressionScan(options, {
      blockRows,
      onBlock(block) {
        assert.ok(block.rows <= blockRows);
        firstRows.push(block.firstRow);
        hashes.push(...block.hashes);
        hours.push(...block.hours);
        campaigns.push(...block.campaigns);
        for (let r = 0; r < block.rows; r++) {
          keys.push(
            block.keyLengths[r],
            ...block.keys.subarray(block.keyStarts[r], block.keyStarts[r + 1]),
          );
        }
      },
    });
    scan.push(bytes);
    const summary = scan.finish();
    assert.equal(summary.rows, whole.rows);
    assert.deepEqual(firstRows, firstRows.map((_, i) => i * blockRows));
    assert.deepEqual(hashes, [...whole.hashes], `blocks of ${blockRows}`);
    assert.deepEqual(hours, [...whole.hours]);
    assert.deepEqual(
      campaigns.map((c) => summary.campaignIds[c]),
      [...whole.campaigns].map((c) => whole.campaignIds[c]),
    );
    const wholeKeys: number[] = [];
    for (let r = 0; r < whole.rows; r++) {
      wholeKeys.push(
        whole.keyLengths[r],
        ...whole.keys.subarray(whole.keyStarts[r], whole.keyStarts[r + 1]),
      );
    }
    assert.deepEqual(keys, wholeKeys);
  }
});

Deno.test("key records a scan appends as it goes are those of its blocks", () => {
  const bytes = mixedRows(12);
  let invalid = 0;
  const options = { key: "k.csv", date: "2021-01-30", onInvalid: () => invalid++ };
  for (const blockRows of [7, 1 << 16]) {
    const fromBlocks = new KeyPartitions(16);
    const scan = createImpressionScan(options, {
      blockRows,
      onBlock: (block) => fromBlocks.add(block, 0),
    });
    scan.push(bytes);
    scan.finish();
    const appended = new KeyPartitions(16);
    const hours: number[] = [];
    const direct = createImpressionScan(options, {
      blockRows,
      records: appended,
      onBlock: (block) => hours.push(...block.hours),
    });
    direct.push(bytes);
    direct.finish();
    assert.ok(invalid > 100, "some rows are invalid");
    assert.equal(appended.words, fromBlocks.words);
    assert.deepEqual(appended.take().map((p) => [...p]), fromBlocks.take().map((p) => [...p]));
    assert.equal(hours.length, 3000);
  }
});
