import assert from "node:assert/strict";
import { CsvKernel, KernelStop } from "../engine/csv_kernel.ts";
import { createCsvScanner, CsvSyntaxError, fieldLine, fieldText } from "../engine/csv_reader.ts";
import { Rng } from "./_rng.ts";
import { recordSummary } from "./_summary.ts";

const encoder = new TextEncoder();

Deno.test("CsvKernel indexes quote-free lines and stops where it must", async (t) => {
  const kernel = new CsvKernel();
  const rowsOf = (rows: number, fields: number) =>
    Array.from({ length: rows }, (_, row) => ({
      end: kernel.rowEnd(row),
      fields: kernel.rowFields(row),
      starts: Array.from(
        { length: Math.min(kernel.rowFields(row) - 1, fields) + 1 },
        (_, f) => kernel.fieldStart(row, f),
      ),
    }));

  await t.step("line ends, field counts and the first field starts", () => {
    // Offsets:   0123 4567890 1 2 3456789
    const text = "a,bc\n,,x,\r\n\n\r\nlast,";
    const data = kernel.load(encoder.encode(text));
    const rows = kernel.scan(0, data.length, 2);
    assert.equal(rows, 4);
    assert.deepEqual(rowsOf(rows, 2), [
      { end: 4, fields: 2, starts: [0, 2] },
      { end: 10, fields: 4, starts: [5, 6, 7] },
      { end: 11, fields: 1, starts: [11] },
      { end: 13, fields: 1, starts: [12] },
    ]);
    // "last," has no line feed yet: left to the caller.
    assert.equal(kernel.next, 14);
    assert.equal(kernel.stop, KernelStop.END);
  });

  await t.step("a quote anywhere in a line stops before that line", () => {
    const text = 'a,b\n55" TV,c\nd,e\n';
    const data = kernel.load(encoder.encode(text));
    assert.equal(kernel.scan(0, data.length, 1), 1);
    assert.equal(kernel.next, 4);
    assert.equal(kernel.stop, KernelStop.QUOTE);
    // From the line after it, on.
    assert.equal(kernel.scan(13, data.length, 1), 1);
    assert.equal(kernel.rowEnd(0), 16);
    assert.equal(kernel.stop, KernelStop.END);
  });

  await t.step("bytes past the end are not read as data", () => {
    const data = kernel.load(encoder.encode("a,b\nc,d\n"));
    // Only "a,b\nc," is in range: one row, stopping at "c,".
    assert.equal(kernel.scan(0, 6, 4), 1);
    assert.equal(kernel.next, 4);
    assert.equal(data.length, 8);
  });

  await t.step("a full row buffer stops at a line boundary and goes on from there", () => {
    const lines = 5000;
    const data = kernel.load(encoder.encode("1,2,3\n".repeat(lines)));
    let pos = 0;
    let total = 0;
    let calls = 0;
    while (true) {
      const rows = kernel.scan(pos, data.length, 3);
      for (let row = 0; row < rows; row++) {
        assert.equal(kernel.rowEnd(row), (total + row) * 6 + 5);
        assert.equal(kernel.rowFields(row), 3);
      }
      total += rows;
      calls++;
      pos = kernel.next;
      if (kernel.stop !== KernelStop.FULL) break;
    }
    assert.equal(total, lines);
    assert.equal(pos, data.length);
    assert.ok(calls > 1, "one call indexed every line: the FULL stop was not exercised");
  });

  await t.step("memory grows for a large chunk", () => {
    const text = "x,y\n".repeat(1 << 20); // 4 MiB
    const data = kernel.load(encoder.encode(text));
    assert.equal(data.length, text.length);
    assert.equal(kernel.scan(data.length - 8, data.length, 2), 2);
    assert.equal(kernel.rowEnd(1), data.length - 1);
  });
});

interface Scanned {
  rows: { fields: string[]; count: number; line: number; fieldLines: number[] }[];
  error?: string;
}

/**
 * Scans `chunks`, keeping the first `limit` fields of each record (all when
 * `limit` is undefined, which never uses the kernel), the count and lines.
 */
function scanLimited(chunks: Uint8Array[], keep: number, limit?: number): Scanned {
  const out: Scanned = { rows: [] };
  const scanner = createCsvScanner({
    onRecord(record) {
      const n = Math.min(keep, record.count);
      const fields: string[] = [];
      const fieldLines: number[] = [];
      for (let i = 0; i < n; i++) {
        fields.push(fieldText(record, i));
        fieldLines.push(fieldLine(record, i));
      }
      out.rows.push({ fields, count: record.count, line: record.line, fieldLines });
    },
  });
  if (limit !== undefined) scanner.limitFields(limit);
  try {
    for (const chunk of chunks) scanner.push(chunk);
    scanner.end();
  } catch (error) {
    if (!(error instanceof CsvSyntaxError)) throw error;
    out.error = error.message;
  }
  return out;
}

/** A random document: mostly plain lines, some with quotes, CRs, empty lines, a BOM. */
function document(rng: Rng, lines: number): string {
  const pieces = ["a", "bc", "0", "12", " ", "é", "日本", "\r", "x y", "2021-01-30 12:00:00"];
  let text = rng.chance(0.2) ? "\uFEFF" : "";
  const eol = rng.pick(["\n", "\r\n", "mixed"]);
  const fields = 1 + rng.int(9);
  for (let l = 0; l < lines; l++) {
    if (rng.chance(0.03)) text += rng.pick(["\n", "\r\n"]);
    const n = rng.chance(0.05) ? 1 + rng.int(12) : fields;
    const parts: string[] = [];
    for (let f = 0; f < n; f++) {
      let value = "";
      const length = rng.int(5);
      for (let i = 0; i < length; i++) value += rng.pick(pieces);
      const roll = rng.int(200);
      if (roll === 0) value = `"${value},\n""${value}"`; // quoted, with a comma and a line break
      else if (roll === 1) value = `${value}" TV`; // a quote inside an unquoted field
      else if (roll === 2 && f === n - 1 && l === lines - 1) value = '"open'; // unterminated
      parts.push(value);
    }
    text += parts.join(",");
    if (l < lines - 1 || rng.chance(0.7)) {
      text += eol === "mixed" ? rng.pick(["\n", "\r\n"]) : eol;
    }
  }
  return text;
}

function chunked(bytes: Uint8Array, rng: Rng): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const maxSize = rng.pick([1, 5, 64, 4096, 1 << 20, 3 << 20]);
  for (let at = 0; at < bytes.length;) {
    const size = 1 + rng.int(maxSize);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

Deno.test("limitFields() through the kernel reports what a full scan does", () => {
  const rng = new Rng(20_261_123);
  let cases = 0;
  let bigCases = 0;
  for (let n = 0; n < 400; n++) {
    const big = n % 40 === 0;
    const text = document(rng, big ? 20_000 + rng.int(40_000) : 1 + rng.int(60));
    const bytes = encoder.encode(text);
    const keep = 1 + rng.int(4);
    const label = big ? `case ${n} (${bytes.length} bytes)` : `case ${n}: ${JSON.stringify(text)}`;
    const expected = scanLimited([bytes], keep);
    const actual = scanLimited(chunked(bytes, rng), keep, keep + rng.int(2));
    assert.equal(actual.error, expected.error, label);
    assert.equal(actual.rows.length, expected.rows.length, label);
    for (let r = 0; r < expected.rows.length; r++) {
      assert.deepEqual(actual.rows[r], expected.rows[r], `${label}, record ${r}`);
    }
    cases++;
    if (big) bigCases++;
  }
  assert.ok(bigCases >= 10);
  recordSummary({ fuzzCases: cases });
});

Deno.test("the rows after the header of a first chunk go through the kernel, not the JS scanner", () => {
  const uuid = (i: number) => `${i.toString(16).padStart(8, "0")}-1234-4abc-8def-0123456789ab`;
  const text = "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\n" +
    Array.from({ length: 200 }, (_, i) => `${uuid(i)},2021-01-30 01:02:03,7\n`).join("");
  const bytes = new TextEncoder().encode(text);
  // Cut after everything, inside the header, and inside the first row (a
  // line split between two chunks is joined and scanned in JS, as always).
  for (const [cut, scanned] of [[bytes.length, [1]], [20, [1]], [60, [1, 2]]] as const) {
    const slow: number[] = [];
    let fast = 0;
    const scanner = createCsvScanner({
      onRecord(record) {
        slow.push(record.line);
        if (record.line !== 1) return;
        // What the impression scan does once it has read the header.
        scanner.limitFields(3);
        scanner.fastRows({
          fields: { id: 0, datetime: 1, campaign: 2, count: 3 },
          onRows(kernel, from, to) {
            let row = from;
            while (row < to && kernel.parsed(row)) row++;
            fast += row - from;
            return row;
          },
        });
      },
    });
    scanner.push(bytes.subarray(0, cut));
    scanner.push(bytes.subarray(cut));
    scanner.end();
    assert.deepEqual(slow, scanned, `cut at ${cut}: the lines scanned in JS`);
    assert.equal(fast, 201 - scanned.length, `cut at ${cut}`);
  }
});
