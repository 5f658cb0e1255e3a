/**
 * `.csv.gz` objects: every gzip member is read (RFC 1952 allows several one
 * after another); anything not wholly gzip fails with one line naming the
 * object, on the main thread and in parse workers.
 */

import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import {
  csv,
  gzip,
  HEADER,
  materializeArgs,
  row,
  runCli,
  withTempDir,
  writeObjects,
} from "./_helpers.ts";
import { recordSummary } from "./_summary.ts";
import { gunzip, GzipError } from "../resources/gunzip.ts";

const RESULT = "results/2021/01/30/daily_agg_20210130_T.csv";
const encoder = new TextEncoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The same file as several gzip members, split at `cuts` (byte offsets of the text). */
function members(text: string, cuts: number[]): Uint8Array {
  const bytes = encoder.encode(text);
  const edges = [0, ...cuts, bytes.length];
  return concat(...edges.slice(1).map((end, i) => gzipSync(bytes.subarray(edges[i], end))));
}

Deno.test("gunzip reads every member, in chunks of any size", async () => {
  const text = csv(
    ...Array.from({ length: 50 }, (_, i) => row(`id-${i}`, "2021-01-30 01:00:00", "1")),
  );
  const bytes = concat(members(text, [7, 100, 2000]), gzipSync(new Uint8Array(0)));
  for (const size of [1, 13, 1 << 20]) {
    const chunks = async function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    };
    let out = "";
    for await (const chunk of gunzip(chunks(), "k.csv.gz")) out += new TextDecoder().decode(chunk);
    assert.equal(out, text);
  }
});

const ONE = csv(row("a", "2021-01-30 01:00:00", "1"));
/** Damaged `.csv.gz` bodies and the reason each must give. */
const DAMAGED: [name: string, body: () => Promise<Uint8Array>, reason: string][] = [
  [
    "trailing bytes after a member",
    async () => concat(await gzip(ONE), encoder.encode("junk after the member\n")),
    "bytes after a gzip member are not gzip data, or a gzip header is damaged (incorrect header check)",
  ],
  [
    "trailing zero bytes after a member",
    async () => concat(await gzip(ONE), new Uint8Array(512)),
    "512 bytes after the last gzip member are not gzip data",
  ],
  [
    "plain text named .csv.gz",
    () => Promise.resolve(encoder.encode(ONE)),
    "not gzip data (it does not start with the bytes 1f 8b)",
  ],
  [
    "truncated member",
    async () => (await gzip(ONE)).subarray(0, 30),
    "the file ends inside a gzip member, after 30 bytes (unexpected end of file)",
  ],
  [
    "a second member cut short",
    async () => concat(await gzip(ONE), (await gzip(ONE)).subarray(0, 12)),
    "the file ends inside a gzip member",
  ],
  [
    "empty file",
    () => Promise.resolve(new Uint8Array(0)),
    "the file ends inside a gzip member, after 0 bytes (unexpected end of file)",
  ],
];

Deno.test("a multi-member .csv.gz is read whole, end to end", async (t) => {
  const text = csv(
    row("id-1", "2021-01-30 01:00:00", "1"),
    row("id-2", "2021-01-30 02:00:00", "1"),
    row("id-3", "2021-01-30 02:30:00", "2"),
    row("id-1", "2021-01-30 01:00:00", "1"), // a duplicate across members
  );
  for (const workers of ["0", "2"]) {
    await t.step(`workers ${workers}`, async () => {
      await withTempDir(async (dir) => {
        await writeObjects(`${dir}/b`, {
          // Members split mid-header and mid-row.
          "2021/01/30/a.csv.gz": members(text, [10, HEADER.length + 40, text.length - 5]),
        });
        const r = await runCli([
          ...materializeArgs(`${dir}/b`, `${dir}/c`),
          "--workers",
          workers,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /rowsIn=4 rowsOut=3 duplicates=1/);
        assert.equal(
          await Deno.readTextFile(`${dir}/b/${RESULT}`),
          "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n1,1,1\n1,2,1\n2,2,1\n",
        );
      });
    });
  }
});

Deno.test("a damaged .csv.gz fails with one line naming the object, nothing published", async (t) => {
  for (const [name, body, reason] of DAMAGED) {
    await t.step(name, async () => {
      await withTempDir(async (dir) => {
        await writeObjects(`${dir}/b`, {
          "2021/01/30/a.csv": ONE,
          "2021/01/30/z.csv.gz": await body(),
        });
        const r = await runCli(materializeArgs(`${dir}/b`, `${dir}/c`));
        assert.equal(r.code, 1, r.stderr);
        assert.deepEqual(r.stdout, []);
        const last = r.stderr.split("\n").at(-1)!;
        assert.ok(
          last.startsWith(`error: cannot decompress 2021/01/30/z.csv.gz: ${reason}`),
          last,
        );
        await assert.rejects(Deno.stat(`${dir}/b/results`), Deno.errors.NotFound);
      });
    });
  }
  recordSummary({ badInputs: DAMAGED.length });
});

Deno.test("a damaged .csv.gz met in a parse worker names the object too", async () => {
  // A valid first member past the first read (so the header reads fine), large
  // enough (as estimated from its size) to be parsed in workers; then garbage.
  let x = 7;
  const hex = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8).toString(16).padStart(6, "0");
  const rows = Array.from(
    { length: 100_000 },
    () => row(`${hex()}${hex()}${hex()}${hex()}`, "2021-01-30 01:00:00", "1"),
  );
  await withTempDir(async (dir) => {
    const body = concat(await gzip(csv(...rows)), encoder.encode("garbage"));
    assert.ok(body.length > 512 * 1024, String(body.length));
    await writeObjects(`${dir}/b`, { "2021/01/30/z.csv.gz": body });
    const r = await runCli([...materializeArgs(`${dir}/b`, `${dir}/c`), "--workers", "2"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /raw_partition: materialized/);
    const last = r.stderr.split("\n").at(-1)!;
    assert.match(
      last,
      /^error: cannot decompress 2021\/01\/30\/z\.csv\.gz: bytes after a gzip member/,
    );
  });
  recordSummary({ badInputs: 1 });
});

Deno.test("GzipError escapes the key", () => {
  const error = new GzipError("2021/01/30/a\n\u001b[2J.csv.gz", "not gzip data");
  assert.equal(error.message, "cannot decompress 2021/01/30/a\\n\\u001b[2J.csv.gz: not gzip data");
});
