import assert from "node:assert/strict";
import { recordSummary } from "./_summary.ts";
import { HeaderError } from "../engine/columns.ts";
import {
  ImpressionDataError,
  INVALID_ROW,
  type InvalidRow,
  type ObjectScan,
  OTHER_DATE,
  scanImpressions,
} from "../engine/scan_impressions.ts";
import { Rng } from "./_rng.ts";

const encoder = new TextEncoder();
const KEY = "2021/01/30/part-0007.csv";
const DATE = "2021-01-30";
const HEADER = "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID,NOTE";

/** Bytes that are not valid UTF-8 on their own. */
const INVALID_UTF8 = [[0xff], [0xc3], [0x80], [0xe6, 0x97], [0xed, 0xa0, 0x80], [0xf8, 0x88]];
/** Bytes a mutation inserts or writes over. */
const MUTATION_BYTES = [0x22, 0x22, 0x2c, 0x2c, 0x0a, 0x0d, 0x20, 0x30, 0x3a, 0x2d, 0x2e, 0xff];

function bytes(text: string): number[] {
  return [...encoder.encode(text)];
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function randomId(rng: Rng): number[] {
  switch (rng.int(8)) {
    case 0:
      return bytes(`"id,${rng.int(1000)}"`);
    case 1:
      return bytes(` x${rng.int(100)} `);
    case 2:
      return bytes(rng.chance(0.5) ? "" : "  "); // missing
    case 3:
      return [...bytes("id"), ...rng.pick(INVALID_UTF8)]; // invalid UTF-8 is allowed in an id
    default: {
      let hex = "";
      for (let i = 0; i < 8; i++) hex += (rng.next() & 0xf).toString(16);
      return bytes(`${hex}-${rng.int(10_000)}`);
    }
  }
}

function randomDatetime(rng: Rng): number[] {
  const day = rng.chance(0.9) ? 30 : rng.pick([29, 31, 0, 32]);
  // January 29 and 31 are valid on another date; day 0 and 32 are invalid.
  let text = `2021-01-${pad(day)}${rng.pick([" ", "T"])}` +
    `${pad(rng.int(rng.chance(0.95) ? 24 : 26))}:${pad(rng.int(60))}:${pad(rng.int(60))}`;
  if (rng.chance(0.3)) text += `.${String(rng.int(1000)).padStart(3, "0")}`;
  if (rng.chance(0.2)) text += rng.pick(["Z", "+01:00", "-05:30", "+0100", "x"]);
  if (rng.chance(0.1)) text = ` ${text} `;
  if (rng.chance(0.05)) {
    // Invalid UTF-8 in a required column.
    const at = rng.int(text.length);
    return [...bytes(text.slice(0, at)), ...rng.pick(INVALID_UTF8), ...bytes(text.slice(at))];
  }
  if (rng.chance(0.05)) return bytes(`"${text}"`);
  return bytes(text);
}

function randomCampaign(rng: Rng): number[] {
  if (rng.chance(0.02)) return [...bytes("96"), ...rng.pick(INVALID_UTF8)];
  if (rng.chance(0.6)) return bytes(rng.pick(["9624", "17", "", "-5"]));
  return bytes(
    rng.pick([
      "9624",
      "9624",
      "17",
      "09624",
      "9624.0",
      "",
      " 12 ",
      "-5",
      "+7",
      "9223372036854775807",
      "9223372036854775808",
      "123456789012345678",
      "9624.5",
      "abc",
      '"42"',
    ]),
  );
}

function randomNote(rng: Rng): number[] {
  const pieces = ["a", " ", ",", '"', "\n", "\r\n", "é", "日本", "😀", '55" TV'];
  let text = "";
  const length = rng.int(6);
  for (let i = 0; i < length; i++) text += rng.pick(pieces);
  if (text.includes(",") || text.includes("\n") || text.startsWith('"') || rng.chance(0.3)) {
    return bytes(`"${text.replaceAll('"', '""')}"`);
  }
  return bytes(text);
}

/** A small document: header, rows, then 0 to 3 byte-level mutations. */
function generate(rng: Rng): Uint8Array {
  const out: number[] = [];
  if (rng.chance(0.1)) out.push(0xef, 0xbb, 0xbf);
  const crlf = rng.chance(0.3);
  const newline = () => (crlf || rng.chance(0.05) ? bytes("\r\n") : bytes("\n"));
  out.push(...bytes(
    rng.chance(0.97) ? HEADER : rng.pick([
      "IMPRESSION_ID,IMPRESSION_DATETIME,NOTE",
      "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID,CAMPAIGN_ID",
      " CAMPAIGN_ID , IMPRESSION_ID,IMPRESSION_DATETIME,NOTE",
      '"IMPRESSION_ID","IMPRESSION_DATETIME","CAMPAIGN_ID","NOTE"',
    ]),
  ));
  const rows = rng.int(7);
  for (let r = 0; r < rows; r++) {
    out.push(...newline());
    if (rng.chance(0.05)) out.push(...newline()); // an empty line
    const fields = [randomId(rng), randomDatetime(rng), randomCampaign(rng), randomNote(rng)];
    if (rng.chance(0.05)) fields.splice(rng.int(fields.length), 1); // too few fields
    if (rng.chance(0.05)) fields.push(bytes("extra")); // too many fields
    fields.forEach((field, i) => {
      if (i > 0) out.push(0x2c);
      out.push(...field);
    });
  }
  if (rng.chance(0.7)) out.push(...newline());
  // Most edits land after the header, so that rows get exercised.
  const headerEnd = out.indexOf(0x0a) < 0 ? 0 : out.indexOf(0x0a);
  const edits = rng.chance(0.4) ? 0 : 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const from = rng.chance(0.9) ? headerEnd : 0;
    const at = from + rng.int(out.length - from + 1);
    switch (rng.int(5)) {
      case 0:
        out.splice(at, 0, rng.pick(MUTATION_BYTES));
        break;
      case 1:
        out.splice(at, 1);
        break;
      case 2:
        if (at < out.length) out[at] = rng.chance(0.5) ? rng.pick(MUTATION_BYTES) : rng.int(256);
        break;
      case 3:
        out.splice(at, 0, 0x22); // a lone quote
        break;
      default:
        out.splice(at, 0, ...rng.pick(INVALID_UTF8));
    }
  }
  return new Uint8Array(out);
}

/** Splits `data` into chunks of random sizes. */
function randomChunks(data: Uint8Array, rng: Rng): Uint8Array[] {
  if (rng.chance(0.3)) return [data];
  const chunks: Uint8Array[] = [];
  const maxSize = rng.pick([1, 3, 8, 64]);
  for (let at = 0; at < data.length;) {
    const size = 1 + rng.int(maxSize);
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function lineCount(data: Uint8Array): number {
  let lines = 1;
  for (const b of data) if (b === 0x0a) lines++;
  return lines;
}

/** How one scan ended, with the rows reported to `onInvalid` before that. */
type Outcome = { invalid: InvalidRow[] } & ({ scan: ObjectScan } | { error: unknown });

async function run(chunks: Uint8Array[], lenient: boolean): Promise<Outcome> {
  const invalid: InvalidRow[] = [];
  try {
    const scan = await scanImpressions(chunks, {
      key: KEY,
      date: DATE,
      onInvalid: lenient ? (row) => invalid.push(row) : undefined,
    });
    return { scan, invalid };
  } catch (error) {
    return { error, invalid };
  }
}

/** Asserts the error is one of the two expected kinds, located in the input. */
function assertLocatedError(error: unknown, lines: number, label: string): void {
  if (error instanceof HeaderError) {
    assert.equal(error.key, KEY, label);
    assert.ok(error.message.startsWith(`${KEY}: `), `${label}: ${error.message}`);
    return;
  }
  assert.ok(error instanceof ImpressionDataError, `${label}: unexpected ${error}`);
  assert.ok(error.message.startsWith(`${KEY} line `), `${label}: ${error.message}`);
  const line = Number(/^\S+ line (\d+)/.exec(error.message)?.[1]);
  assert.equal(line, error.detail.line, label);
  assert.equal(error.detail.key, KEY, label);
  assert.ok(line >= 1 && line <= lines, `${label}: line ${line} of ${lines}`);
}

function assertSaneScan(scan: ObjectScan, lines: number, label: string): void {
  assert.ok(scan.rows <= lines - 1, label);
  assert.equal(scan.hours.length, scan.rows, label);
  for (let i = 0; i < scan.rows; i++) {
    const hour = scan.hours[i];
    assert.ok(hour === INVALID_ROW || hour === OTHER_DATE || (hour >= 0 && hour <= 23), label);
    // An invalid row's campaign slot is a placeholder (0), not an index.
    if (hour !== INVALID_ROW) assert.ok(scan.campaigns[i] < scan.campaignIds.length, label);
  }
}

Deno.test("scanImpressions() fails only with located errors on seeded fuzz input", async () => {
  const rng = new Rng(1_612_008_902);
  const cases = 10_000;
  const tally = { ok: 0, rowError: 0, headerError: 0 };
  for (let n = 0; n < cases; n++) {
    const data = generate(rng);
    const chunks = randomChunks(data, rng);
    const lines = lineCount(data);
    const label = `case ${n}: ${JSON.stringify(new TextDecoder().decode(data))}`;
    const strict = await run(chunks, false);
    const lenient = await run(chunks, true);
    if ("scan" in strict) {
      // Valid input: both modes agree, and nothing is reported as invalid.
      assertSaneScan(strict.scan, lines, label);
      assert.ok("scan" in lenient, label);
      assert.deepEqual(lenient.invalid, [], label);
      assert.deepEqual(lenient.scan, strict.scan, label);
      tally.ok++;
      continue;
    }
    assertLocatedError(strict.error, lines, label);
    if (strict.error instanceof HeaderError) {
      assert.ok("error" in lenient && lenient.error instanceof HeaderError, label);
      assert.equal(lenient.error.message, strict.error.message, label);
      tally.headerError++;
      continue;
    }
    tally.rowError++;
    const detail = (strict.error as ImpressionDataError).detail;
    // Lenient mode reports the same first problem, either as an invalid row
    // or (for CSV syntax errors) by throwing it.
    if ("scan" in lenient) {
      assertSaneScan(lenient.scan, lines, label);
      // A quote left open is quarantined with the rest of the object.
      const first = lenient.invalid[0];
      const reason = first.reason.replace(/ \(runs to the end of the object\)$/, "");
      assert.deepEqual({ ...first, reason }, detail, label);
    } else {
      assertLocatedError(lenient.error, lines, label);
      if (lenient.error instanceof ImpressionDataError && lenient.invalid.length === 0) {
        assert.deepEqual(lenient.error.detail, detail, label);
      } else assert.deepEqual(lenient.invalid[0], detail, label);
    }
    for (const row of lenient.invalid) {
      assert.equal(row.key, KEY, label);
      assert.ok(row.line >= 2 && row.line <= lines, `${label}: line ${row.line}`);
    }
  }
  assert.ok(
    tally.ok > 1_000 && tally.rowError > 1_000 && tally.headerError > 0,
    JSON.stringify(tally),
  );
  recordSummary({ fuzzCases: cases });
  console.log(
    `scan fuzz: ${cases} cases (${tally.ok} valid, ${tally.rowError} row errors, ${tally.headerError} header errors)`,
  );
});

Deno.test("scanImpressions() handles 10 MB fields in 64 KiB chunks", async (t) => {
  const size = 10 * 1024 * 1024;
  const big = (fill: string) => {
    const unit = encoder.encode(fill);
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = unit[i % unit.length];
    return out;
  };
  const join = (...parts: (string | Uint8Array)[]) => {
    const encoded = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
    const out = new Uint8Array(encoded.reduce((sum, p) => sum + p.length, 0));
    let at = 0;
    for (const p of encoded) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const chunk = (data: Uint8Array) => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < data.length; i += 64 * 1024) chunks.push(data.subarray(i, i + 64 * 1024));
    return chunks;
  };

  await t.step("a 10 MB quoted NOTE with commas and line breaks", async () => {
    // "ab, c\n" repeated: 6 bytes, one LF each.
    const note = big("ab, c\n");
    const data = join(
      `${HEADER}\n`,
      'x1,2021-01-30 01:00:00,7,"',
      note,
      '"\nx2,2021-01-30 02:00:00,8,\n',
    );
    const started = performance.now();
    const scan = await scanImpressions(chunk(data), { key: KEY, date: DATE });
    const elapsed = performance.now() - started;
    assert.equal(scan.rows, 2);
    assert.deepEqual([...scan.hours], [1, 2]);
    assert.deepEqual(scan.campaignIds, ["7", "8"]);
    assert.ok(elapsed < 5_000, `took ${elapsed.toFixed(0)} ms`);
  });

  await t.step("a 10 MB IMPRESSION_ID", async () => {
    const data = join(`${HEADER}\r\n`, big("0123456789abcdef"), ",2021-01-30 23:59:59,1,n\r\n");
    const started = performance.now();
    const scan = await scanImpressions(chunk(data), { key: KEY, date: DATE });
    assert.equal(scan.rows, 1);
    assert.deepEqual([...scan.hours], [23]);
    assert.ok(performance.now() - started < 5_000);
  });

  await t.step("an unterminated 10 MB NOTE names the line where it starts", async () => {
    const data = join(
      `${HEADER}\nx1,2021-01-30 01:00:00,7,n\n\nx2,2021-01-30 02:00:00,8,"`,
      big("a\n"),
    );
    const started = performance.now();
    await assert.rejects(
      () => scanImpressions(chunk(data), { key: KEY, date: DATE }),
      (error: unknown) => {
        assert.ok(error instanceof ImpressionDataError);
        assert.deepEqual(error.detail, {
          key: KEY,
          line: 4,
          column: "NOTE",
          value: "",
          reason: "unterminated quoted field",
        });
        assert.ok(
          error.message.startsWith(`${KEY} line 4, column NOTE: unterminated quoted field`),
        );
        return true;
      },
    );
    assert.ok(performance.now() - started < 5_000);
  });
});

Deno.test("campaigns whose numbers share low bits keep their own ids on the kernel's path", async () => {
  // 1, 1025 and 2^32 + 1 fall in one slot of the scan's recent-campaign
  // cache; alternating them makes every look a miss that must not reuse
  // another campaign's index.
  const campaigns = ["1", "1025", "4294967297", "1", "1", "1025", "4294967297", "4294967297"];
  const lines = ["IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID"];
  for (let i = 0; i < 4000; i++) {
    const id = `${pad(i, 8)}-0000-4000-8000-000000000000`;
    lines.push(`${id},2021-01-30 12:00:00,${campaigns[i % campaigns.length]}`);
  }
  const scan = await scanImpressions([encoder.encode(lines.join("\n") + "\n")], {
    key: KEY,
    date: DATE,
  });
  assert.equal(scan.rows, 4000);
  for (let r = 0; r < scan.rows; r++) {
    assert.equal(scan.campaignIds[scan.campaigns[r]], campaigns[r % campaigns.length], `row ${r}`);
  }
});
