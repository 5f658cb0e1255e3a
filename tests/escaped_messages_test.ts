/**
 * Untrusted text (object keys, field values, header names) is escaped the
 * same way in every message: one line, no control byte reaching the
 * terminal, printable characters as they are.
 */

import assert from "node:assert/strict";
import { escapeText } from "../engine/escape_text.ts";
import { formatInvalidRow } from "../engine/scan_impressions.ts";
import { resolveColumns } from "../engine/columns.ts";
import { ObjectChangedError, StorageError } from "../resources/errors.ts";
import { createLogger } from "../materializer/log.ts";
import { formatTable } from "../cli/table.ts";
import { diffListings } from "../assets/raw_partition.ts";
import {
  HEADER,
  materializeArgs,
  row,
  runCli,
  runProcess,
  s3Env,
  withTempDir,
} from "./_helpers.ts";
import { startTestS3, type TestS3 } from "./_s3_server.ts";
import { MOTO_MISSING, startMotoS3 } from "./_moto_server.ts";
import { recordSummary } from "./_summary.ts";
import { openS3Bucket } from "../resources/s3_bucket.ts";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

Deno.test("escapeText: control characters as JSON-style escapes, the rest verbatim", () => {
  assert.equal(escapeText("a\nb\rc\td\be\ff"), "a\\nb\\rc\\td\\be\\ff");
  assert.equal(escapeText("\u0000\u0007\u001b[31m\u007f"), "\\u0000\\u0007\\u001b[31m\\u007f");
  assert.equal(escapeText("\u009b2J \u0085"), "\\u009b2J \\u0085");
  assert.equal(escapeText("a\u2028b\u2029c"), "a\\u2028b\\u2029c");
  assert.equal(escapeText("lone \ud800 and \udc00"), "lone \\ud800 and \\udc00");
  const printable = "2021/01/30/./../café-日本-😀 \\ \"quoted\" 'x' ~!@#$%^&*()_+.csv";
  assert.equal(escapeText(printable), printable);
  for (const text of ["a\nb", "\u001b[2J\\n", "x\ud800y", printable]) {
    assert.equal(escapeText(escapeText(text)), escapeText(text));
    assert.ok(!CONTROL.test(escapeText(text)));
  }
});

const KEY = "2021/01/30/new\nline\u001b[31m\u0007.csv";
const ESCAPED_KEY = "2021/01/30/new\\nline\\u001b[31m\\u0007.csv";

Deno.test("every message that quotes a key or a value escapes it the same way", () => {
  assert.equal(
    formatInvalidRow({
      key: KEY,
      line: 3,
      column: "IMPRESSION_DATETIME",
      value: "2021-01-30\n\u001b[2J",
      reason: "bad",
    }),
    `${ESCAPED_KEY} line 3, column IMPRESSION_DATETIME: bad (value "2021-01-30\\n\\u001b[2J")`,
  );
  assert.throws(
    () => resolveColumns(KEY, ["IMPRESSION_ID", "CAMPAIGN_ID\u001b]0;x\u0007"]),
    {
      message: `${ESCAPED_KEY}: missing column IMPRESSION_DATETIME ` +
        `(header: "IMPRESSION_ID,CAMPAIGN_ID\\u001b]0;x\\u0007")`,
    },
  );
  assert.equal(
    new ObjectChangedError(`s3://b/${KEY}`).message,
    `object changed or disappeared while reading: s3://b/${ESCAPED_KEY}`,
  );
  assert.equal(new StorageError(`x ${KEY}`).message, `x ${ESCAPED_KEY}`);
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l) }).log("warn", `retry of ${KEY}`);
  createLogger({ format: "json", write: (l) => lines.push(l) }).log("warn", `of ${KEY}\u0085`);
  assert.equal(lines[0], `warn: retry of ${ESCAPED_KEY}`);
  assert.equal(JSON.parse(lines[1]).message, `of ${KEY}\u0085`);
  assert.ok(lines.every((l) => !CONTROL.test(l)));
  assert.equal(formatTable(["device"], [["Mobile\u001b[2J"]]), "device\nMobile\\u001b[2J");
  assert.deepEqual(
    diffListings(undefined, {
      prefix: "",
      ignored: [],
      objects: [{ key: KEY, etag: "e", size: 1 }],
    }),
    [`added: ${ESCAPED_KEY}`],
  );
});

/** A day whose one object has a hostile key and a bad row with a hostile value. */
const BODY = [
  HEADER,
  row("a", "2021-01-30 01:00:00", "1"),
  row("b", "2021-01-30 01:00:00", "1")
    .replace(",2021-01-30 01:00:00,", ',"2021-01-30\n\u001b[2J25:00:00",'),
].join("\n") + "\n";
/** moto cannot store a key with a line break (404): there, a carriage return and a C1 control. */
const MOTO_KEY = "2021/01/30/cr\rtab\tesc\u001b[31mcsi\u009b2J.csv";
const ESCAPED_MOTO_KEY = "2021/01/30/cr\\rtab\\tesc\\u001b[31mcsi\\u009b2J.csv";

function checkStderr(stderr: string, escapedKey = ESCAPED_KEY): void {
  const lines = stderr.trimEnd().split("\n");
  for (const line of lines) assert.ok(!CONTROL.test(line), JSON.stringify(line));
  const last = lines.at(-1)!;
  assert.ok(last.startsWith(`error: ${escapedKey} line 3, column IMPRESSION_DATETIME: `), last);
  assert.ok(last.endsWith('(value "2021-01-30\\n\\u001b[2J25:00:00")'), last);
}

Deno.test({
  name: "a key with a line break and escape bytes, end to end on a local folder: one line, escaped",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir(async (dir) => {
      await Deno.mkdir(`${dir}/b/2021/01/30`, { recursive: true });
      await Deno.writeTextFile(`${dir}/b/${KEY}`, BODY);
      const r = await runProcess(materializeArgs(`${dir}/b`, `${dir}/c`));
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, "");
      checkStderr(r.stderr);
      await assert.rejects(Deno.stat(`${dir}/b/results`), Deno.errors.NotFound);
    });
    recordSummary({ badInputs: 1 });
  },
});

async function onS3(s3: TestS3, key: string, escapedKey: string): Promise<void> {
  await s3.createBucket("imps");
  await s3.put("imps", { [key]: BODY });
  await withTempDir(async (dir) => {
    const r = await runProcess(
      [...materializeArgs("s3://imps", `${dir}/c`), "--endpoint-url", s3.endpoint],
      { env: s3Env(s3.endpoint, s3.credentials) },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    checkStderr(r.stderr, escapedKey);
  });
  // In process too, listing page by page.
  await withTempDir(async (dir) => {
    const r = await runCli([
      ...materializeArgs("s3://imps", `${dir}/c`),
      "--endpoint-url",
      s3.endpoint,
    ]);
    assert.equal(r.code, 1, r.stderr);
    checkStderr(r.stderr, escapedKey);
  });
  assert.equal(await s3.text("imps", "results/2021/01/30/daily_agg_20210130_T.csv"), null);
}

Deno.test({
  name: "a key with a line break and escape bytes, end to end on S3 (in-process endpoint)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startTestS3();
    try {
      await onS3(s3, KEY, ESCAPED_KEY);
    } finally {
      await s3.stop();
    }
    recordSummary({ badInputs: 1 });
  },
});

Deno.test({
  name: "a key with control characters, end to end on S3 (moto, URL-encoded listing)",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startMotoS3();
    try {
      await onS3(s3, MOTO_KEY, ESCAPED_MOTO_KEY);
    } finally {
      await s3.stop();
    }
    recordSummary({ badInputs: 1 });
  },
});

Deno.test({
  name: "listing asks for URL-encoded keys: a carriage return or a C1 control survives (moto)",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startMotoS3();
    const keys = [MOTO_KEY, "2021/01/30/plus+ space%25.csv", "2021/01/30/caf\u00e9.csv"];
    try {
      await s3.createBucket("imps");
      await s3.put("imps", Object.fromEntries(keys.map((k) => [k, "x"])));
      const bucket = await openS3Bucket({ bucket: "imps", endpoint: s3.endpoint });
      try {
        const listed = (await Array.fromAsync(bucket.list("2021/"))).map((o) => o.key);
        assert.deepEqual(listed, [...keys].sort());
        for (const key of keys) assert.equal(await new Response(await bucket.get(key)).text(), "x");
      } finally {
        bucket.close();
      }
    } finally {
      await s3.stop();
    }
  },
});
