/**
 * Bad rows without losing the day (--max-invalid-rows), hostile object
 * keys, and secrets that must never be printed.
 */

import assert from "node:assert/strict";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { rawPartition } from "../assets/raw_partition.ts";
import { openS3Bucket } from "../resources/s3_bucket.ts";
import {
  csv,
  materializeArgs,
  row,
  runCli,
  runProcess,
  testContext,
  withTempDir,
  writeObjects,
} from "./_helpers.ts";
import { recordSummary } from "./_summary.ts";

const DATE = "2021-01-30";

Deno.test("--max-invalid-rows leaves bad rows out and lists them in rejected_*.csv", async (t) => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/b`;
    await writeObjects(bucket, {
      "2021/01/30/a.csv": csv(
        row("a", "2021-01-30 01:00:00", "1"),
        row("b", "2021-01-30 25:00:00", "1"),
        row("c", "2021-01-30 02:00:00", "x,y".replace(",", "")),
      ),
      "2021/01/30/b.csv": csv(
        row("d", "2021-01-30 03:00:00", "2"),
        row("", "2021-01-30 03:00:00", "2"),
      ),
    });
    const args = (n: string) => [
      ...materializeArgs(bucket, `${dir}/c`),
      "--max-invalid-rows",
      n,
    ];
    await t.step("above the limit the run fails and nothing is published", async () => {
      const r = await runCli(args("2"));
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.split("\n").at(-1),
        "error: 2021/01/30/b.csv line 3, column IMPRESSION_ID: more than 2 invalid rows; this one: missing IMPRESSION_ID",
      );
      await assert.rejects(Deno.stat(`${bucket}/results`), Deno.errors.NotFound);
    });
    await t.step("within the limit the day is published with its rejects", async () => {
      const r = await runCli(args("3"));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout, [
        `file://${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`,
        `file://${bucket}/results/2021/01/30/rejected_20210130_T.csv`,
      ]);
      assert.equal(
        await Deno.readTextFile(`${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`),
        "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n1,1,1\n2,3,1\n",
      );
      assert.equal(
        await Deno.readTextFile(`${bucket}/results/2021/01/30/rejected_20210130_T.csv`),
        [
          "OBJECT_KEY,LINE,COLUMN,VALUE,REASON",
          "2021/01/30/a.csv,3,IMPRESSION_DATETIME,2021-01-30 25:00:00,hour 25 is out of range",
          "2021/01/30/a.csv,4,CAMPAIGN_ID,xy,not an integer",
          "2021/01/30/b.csv,3,IMPRESSION_ID,,missing IMPRESSION_ID",
          "",
        ].join("\n"),
      );
      assert.match(r.stderr, /invalidRows=3/);
      const record = JSON.parse(
        await Deno.readTextFile(`${dir}/c/${DATE}/published_csv/manifest.json`),
      );
      assert.equal(record.metadata.rejectedRows, 3);
    });
    await t.step("once the rows are fixed, the stale rejects file goes", async () => {
      await writeObjects(bucket, {
        "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")),
        "2021/01/30/b.csv": csv(row("d", "2021-01-30 03:00:00", "2")),
      });
      const r = await runCli(args("3"));
      assert.equal(r.code, 0, r.stderr);
      await assert.rejects(
        Deno.stat(`${bucket}/results/2021/01/30/rejected_20210130_T.csv`),
        Deno.errors.NotFound,
      );
    });
  });
  recordSummary({ badInputs: 5 });
});

Deno.test("hostile object keys cannot write outside the cache entry", async () => {
  const hostile = [
    "2021/01/30/../../../../tmp/escape.csv",
    "2021/01/30//etc/passwd.csv",
    "2021/01/30/back\\slash\\..\\..\\x.csv",
    "2021/01/30/ctrl\u0001\u001b[31m.csv",
    "2021/01/30/" + "a".repeat(900) + ".csv",
  ];
  const client = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  const mock = mockClient(client);
  mock.on(ListObjectsV2Command).resolves({
    IsTruncated: false,
    Contents: hostile.map((Key, i) => ({ Key, ETag: `"e${i}"`, Size: 46 })),
  });
  mock.on(GetObjectCommand).callsFake(() => ({
    Body: {
      transformToWebStream: () =>
        new Blob(["IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\n"]).stream(),
    },
  }));
  await withTempDir(async (dir) => {
    const bucket = await openS3Bucket({ bucket: "imps", client });
    const ctx = testContext(DATE, { bucket, dir: `${dir}/entry` });
    const listing = await rawPartition.observe!(ctx);
    ctx.observation = listing.detail;
    const value = await rawPartition.compute({}, ctx);
    assert.equal(value.objects.length, hostile.length);
    for (const object of value.objects) {
      assert.match(object.file, /^objects\/[0-9a-f]{32}-[0-9a-f]{12}\.csv$/);
    }
    const written: string[] = [];
    const walk = (path: string) => {
      for (const e of Deno.readDirSync(path)) {
        if (e.isDirectory) walk(`${path}/${e.name}`);
        else written.push(`${path}/${e.name}`);
      }
    };
    walk(dir);
    assert.equal(written.length, hostile.length);
    assert.ok(written.every((p) => p.startsWith(`${dir}/entry/objects/`)));
    await assert.rejects(Deno.stat("/tmp/escape.csv"), Deno.errors.NotFound);
  });
  recordSummary({ badInputs: hostile.length });
});

Deno.test("a planted secret never appears in output, run records or the cache", async () => {
  const secret = "PLANTED-s3cr3t-VALUE-9f8e7d";
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1"), row("b", "bad", "1")),
    });
    const local = await runProcess(
      ["materialize", "--date", DATE, "--bucket", `${dir}/b`, "--cache-dir", `${dir}/c`],
      {
        env: {
          AWS_SECRET_ACCESS_KEY: secret,
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          PGPASSWORD: secret,
        },
      },
    );
    assert.equal(local.code, 1);
    const s3 = await runProcess(
      [
        "materialize",
        "--date",
        DATE,
        "--bucket",
        "s3://some-bucket",
        "--endpoint-url",
        `http://user:${secret}@127.0.0.1:9`,
        "--retries",
        "0",
        "--cache-dir",
        `${dir}/c`,
      ],
      { env: { AWS_SECRET_ACCESS_KEY: secret, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE" } },
    );
    assert.equal(s3.code, 1);
    const everything = [local.stdout, local.stderr, s3.stdout, s3.stderr];
    const walk = async (path: string) => {
      for await (const e of Deno.readDir(path)) {
        if (e.isDirectory) await walk(`${path}/${e.name}`);
        else everything.push(new TextDecoder().decode(await Deno.readFile(`${path}/${e.name}`)));
      }
    };
    await walk(`${dir}/c`);
    for (const text of everything) assert.ok(!text.includes(secret), text);
  });
});
