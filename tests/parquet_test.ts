/**
 * `published_parquet` end to end from the in-process S3 endpoint: the file
 * read back with an independent reader (`hyparquet`) equals the published
 * CSV, has exactly the three typed columns, is byte-identical on reruns,
 * and with `--with-rows` the deduplicated rows carry every column.
 */

import assert from "node:assert/strict";
import { DeleteObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { countsParquet } from "../assets/published_parquet.ts";
import { csv, gzip, HEADER, materializeArgs, row, runCli, withTempDir } from "./_helpers.ts";
import { startTestS3, type TestS3 } from "./_s3_server.ts";

const BUCKET = "parquet-e2e";
const DIR = "results/2021/01/30";
const CSV_KEY = `${DIR}/daily_agg_20210130_T.csv`;
const PARQUET_KEY = `${DIR}/daily_agg_20210130_T.parquet`;
const ROWS_KEY = `${DIR}/impressions_20210130_T.parquet`;

async function bytes(s3: TestS3, key: string): Promise<Uint8Array> {
  const r = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return await r.Body!.transformToByteArray();
}

function arrayBuffer(data: Uint8Array): ArrayBuffer {
  return data.slice().buffer;
}

/** The schema as (name, physical type, repetition) triples, root left out. */
function columnsOf(data: Uint8Array): [string, string | undefined, string | undefined][] {
  return parquetMetadata(arrayBuffer(data)).schema.slice(1)
    .map((e) => [e.name, e.type, e.repetition_type]);
}

/** Parquet counts rendered the way the CSV is written. */
async function parquetAsCsv(data: Uint8Array): Promise<string> {
  const rows = await parquetReadObjects({ file: arrayBuffer(data) });
  const lines = ["CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT"];
  for (const r of rows) {
    lines.push(
      `${r.CAMPAIGN_ID === null ? "" : r.CAMPAIGN_ID},${r.IMPRESSION_HOUR},${r.IMPRESSION_COUNT}`,
    );
  }
  return lines.join("\n") + "\n";
}

Deno.test({
  name: "published_parquet: reads back equal to the CSV, byte-identical reruns, --with-rows",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startTestS3();
    try {
      s3.createBucket(BUCKET);
      const shortHeader = "IMPRESSION_ID,CAMPAIGN_ID,IMPRESSION_DATETIME,PROMO";
      await s3.put(BUCKET, {
        "2021/01/30/a.csv": csv(
          row("a1", "2021-01-30 00:10:00", "9223372036854775807"),
          row("a2", "2021-01-30 00:20:00", "12", '"Smart, TV"'),
          row("a3", "2021-01-30 13:00:00", ""),
          row("a4", "2021-01-29 23:59:59", "12"), // another date: not counted
        ),
        "2021/01/30/b.csv.gz": await gzip(
          [
            shortHeader,
            "a2,12,2021-01-30 00:20:00,dup", // duplicate of a2
            'b1,12,2021-01-30 00:40:00,"say ""hi"""',
            "b2,-5,2021-01-30 23:00:00,",
          ].join("\n") + "\n",
        ),
      });
      await withTempDir(async (dir) => {
        const args = [
          ...materializeArgs(`s3://${BUCKET}`, `${dir}/cache`),
          "--endpoint-url",
          s3.endpoint,
          "--select",
          "published_csv,published_parquet",
        ];
        const manifest = async () =>
          JSON.parse(
            await Deno.readTextFile(`${dir}/cache/2021-01-30/published_parquet/manifest.json`),
          );

        await t.step("the counts file equals the CSV, with exactly its typed columns", async () => {
          const r = await runCli(args);
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(r.stdout, [
            `s3://${BUCKET}/${CSV_KEY}`,
            `s3://${BUCKET}/${PARQUET_KEY}`,
          ]);
          const csvText = (await s3.text(BUCKET, CSV_KEY))!;
          assert.equal(
            csvText,
            "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n-5,23,1\n12,0,2\n9223372036854775807,0,1\n,13,1\n",
          );
          const parquet = await bytes(s3, PARQUET_KEY);
          assert.deepEqual(columnsOf(parquet), [
            ["CAMPAIGN_ID", "INT64", "OPTIONAL"],
            ["IMPRESSION_HOUR", "INT32", "REQUIRED"],
            ["IMPRESSION_COUNT", "INT64", "REQUIRED"],
          ]);
          assert.equal(await parquetAsCsv(parquet), csvText);
          assert.equal(await s3.text(BUCKET, ROWS_KEY), null);
        });

        await t.step("a forced rerun writes the same bytes and uploads nothing", async () => {
          const before = await bytes(s3, PARQUET_KEY);
          const modified = await s3.lastModified(BUCKET, PARQUET_KEY);
          const r = await runCli([...args, "--force"]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal((await manifest()).metadata.uploaded, false);
          assert.deepEqual(await bytes(s3, PARQUET_KEY), before);
          assert.equal(await s3.lastModified(BUCKET, PARQUET_KEY), modified);
          const again = await runCli(args);
          assert.match(again.stderr, /published_parquet: up to date/);
        });

        await t.step("--with-rows adds the deduplicated rows with every column", async () => {
          const r = await runCli([...args, "--with-rows"]);
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(r.stdout, [
            `s3://${BUCKET}/${CSV_KEY}`,
            `s3://${BUCKET}/${PARQUET_KEY}`,
            `s3://${BUCKET}/${ROWS_KEY}`,
          ]);
          const data = await bytes(s3, ROWS_KEY);
          const names = [...HEADER.split(","), "PROMO"];
          assert.deepEqual(columnsOf(data), names.map((n) => [n, "BYTE_ARRAY", "OPTIONAL"]));
          const rows = await parquetReadObjects({ file: arrayBuffer(data) });
          const full = (line: string) => ({
            ...record(HEADER.split(","), line.split(",")),
            PROMO: null,
          });
          const short = (values: string[]) => ({
            ...record(names, names.map(() => null)),
            ...record(shortHeader.split(","), values),
          });
          assert.deepEqual(rows, [
            full(row("a1", "2021-01-30 00:10:00", "9223372036854775807")),
            { ...full(row("a2", "2021-01-30 00:20:00", "12")), DEVICE_TYPE: "Smart, TV" },
            full(row("a3", "2021-01-30 13:00:00", "")),
            short(["b1", "12", "2021-01-30 00:40:00", 'say "hi"']),
            short(["b2", "-5", "2021-01-30 23:00:00", ""]),
          ]);
          assert.equal((await manifest()).metadata.rows, 5);
        });

        await t.step("a deleted file is published again", async () => {
          const before = await bytes(s3, PARQUET_KEY);
          await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: PARQUET_KEY }));
          const r = await runCli([...args, "--with-rows"]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /published_parquet: materialized/);
          assert.deepEqual(await bytes(s3, PARQUET_KEY), before);
        });
      });
    } finally {
      await s3.stop();
    }
  },
});

Deno.test("countsParquet is deterministic and keeps 64-bit ids and the empty campaign", async () => {
  const counts = [
    { campaign: "-9223372036854775808", hour: 0, count: 1 },
    { campaign: "9223372036854775807", hour: 23, count: 2 },
    { campaign: "", hour: 5, count: 3 },
  ];
  const a = await countsParquet(counts);
  const b = await countsParquet(counts);
  assert.deepEqual(a, b);
  assert.equal(
    await parquetAsCsv(a),
    "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n-9223372036854775808,0,1\n9223372036854775807,23,2\n,5,3\n",
  );
  assert.equal(
    await parquetAsCsv(await countsParquet([])),
    "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n",
  );
});

function record(names: string[], values: (string | null)[]): Record<string, string | null> {
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}
