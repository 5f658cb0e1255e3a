/**
 * One cache shared by two buckets: a bucket's identity is part of
 * `raw_partition`'s data version and of the cached object names, so two
 * buckets whose objects agree on key, ETag and size (folders with the same
 * sizes and mtimes, stores whose ETags are not content hashes) each publish
 * their own counts, and an entry cached before identities were recorded is
 * recomputed, never read as this bucket's.
 */

import { localState } from "../materializer/state.ts";
import assert from "node:assert/strict";
import { diffListings, listingVersion, objectFileName } from "../assets/raw_partition.ts";
import { ASSETS } from "../assets/mod.ts";
import { sha256Hex } from "../materializer/cache.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { createLogger } from "../materializer/log.ts";
import { materializePartition } from "../materializer/materialize.ts";
import { dataVersion } from "../materializer/versions.ts";
import { openLocalBucket } from "../resources/local_bucket.ts";
import { openS3Bucket, s3Identity } from "../resources/s3_bucket.ts";
import type { Bucket } from "../resources/storage.ts";
import { csv, materializeArgs, row, runCli, testParams, withTempDir } from "./_helpers.ts";
import { startTestS3 } from "./_s3_server.ts";

const DATE = "2021-01-30";
const KEY = "2021/01/30/a.csv";
const COUNTS = "results/2021/01/30/daily_agg_20210130_T.csv";
const DEVICES = "results/2021/01/30/device_agg_20210130_T.csv";
/** Same length, different campaign, hour and device. */
const BX = csv(row("x1", "2021-01-30 01:00:00", "1", "Mobile"));
const BY = csv(row("y1", "2021-01-30 02:00:00", "2", "Tablet"));
const MTIME = new Date("2021-01-31T00:00:00Z");

/** Two folder buckets whose one object has the same key, size and mtime. */
async function twinFolders(dir: string): Promise<{ bx: string; by: string }> {
  assert.equal(BX.length, BY.length);
  for (const [name, body] of [["bx", BX], ["by", BY]]) {
    await Deno.mkdir(`${dir}/${name}/2021/01/30`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${name}/${KEY}`, body);
    await Deno.utime(`${dir}/${name}/${KEY}`, MTIME, MTIME);
  }
  return { bx: `${dir}/bx`, by: `${dir}/by` };
}

/** Requires the folder's published counts and device counts to be these one rows. */
async function assertPublished(folder: string, counts: string, devices: string): Promise<void> {
  assert.equal(
    await Deno.readTextFile(`${folder}/${COUNTS}`),
    `CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n${counts}\n`,
  );
  assert.equal(
    await Deno.readTextFile(`${folder}/${DEVICES}`),
    `DEVICE_TYPE,IMPRESSION_HOUR,IMPRESSION_COUNT\n${devices}\n`,
  );
}

async function etagOf(root: string): Promise<string> {
  for await (const o of (await openLocalBucket({ root })).list("2021/")) return o.etag;
  throw new Error("no object");
}

for (const copy of [false, true]) {
  Deno.test(
    `two folder buckets with the same key, size and mtime each publish their own counts (${
      copy ? "copied into the cache" : "read in place"
    })`,
    async () => {
      await withTempDir(async (dir) => {
        const { bx, by } = await twinFolders(dir);
        assert.equal(await etagOf(bx), await etagOf(by)); // the collision the version must survive
        const cache = `${dir}/cache`;
        const run = (bucket: string) =>
          runCli([
            ...materializeArgs(bucket, cache),
            "--select",
            "published_csv,hourly_device_counts",
            ...(copy ? ["--copy-objects"] : []),
          ]);
        const first = await run(bx);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(
          await Deno.readTextFile(`${bx}/${COUNTS}`),
          "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n1,1,1\n",
        );

        const second = await run(by);
        assert.equal(second.code, 0, second.stderr);
        assert.match(
          second.stderr,
          copy
            ? /raw_partition: materialized .*objectsDownloaded=1 objectsReused=0 objectsReadInPlace=0/
            : /raw_partition: materialized .*objectsDownloaded=0 objectsReused=0 objectsReadInPlace=1/,
        );
        await assertPublished(by, "2,2,1", "Tablet,2,1");
        const manifest = JSON.parse(
          await Deno.readTextFile(`${cache}/${DATE}/raw_partition/manifest.json`),
        );
        assert.equal(manifest.value.bucket, `file://${await Deno.realPath(by)}`);
        assert.equal(manifest.observation.bucket, `file://${await Deno.realPath(by)}`);
        const published = JSON.parse(
          await Deno.readTextFile(`${cache}/${DATE}/published_csv/manifest.json`),
        );
        assert.equal(published.inputs.params.bucket, `file://${await Deno.realPath(by)}`);

        // Back to bx: its own counts again, never by's.
        const plan = await runCli(["plan", ...materializeArgs(bx, cache).slice(1)]);
        assert.match(
          plan.stdout.join("\n"),
          /raw_partition: stale\n\s+bucket changed \(file:\/\/.*\/by -> file:\/\/.*\/bx\)/,
        );
        await Deno.remove(`${bx}/${COUNTS}`);
        const third = await run(bx);
        assert.equal(third.code, 0, third.stderr);
        await assertPublished(bx, "1,1,1", "Mobile,1,1");

        // Another name of the same folder is the same bucket: nothing to redo.
        await Deno.symlink(bx, `${dir}/bx-link`);
        const linked = await run(`${dir}/bx-link`);
        assert.equal(linked.code, 0, linked.stderr);
        assert.match(linked.stderr, /raw_partition: up to date/);
      });
    },
  );
}

Deno.test("an entry cached before bucket identities were recorded is recomputed, not reused", async () => {
  await withTempDir(async (dir) => {
    const { bx, by } = await twinFolders(dir);
    const cache = `${dir}/cache`;
    const copy = "--copy-objects"; // the old entries held copies
    assert.equal((await runCli([...materializeArgs(bx, cache), copy])).code, 0);
    // Rewrite bx's raw_partition entry the way the previous release wrote it:
    // version from the (key, ETag, size) set alone, files named by (key, ETag).
    const entry = `${cache}/${DATE}/raw_partition`;
    const manifest = JSON.parse(await Deno.readTextFile(`${entry}/manifest.json`));
    const objects = manifest.observation.objects as { key: string; etag: string; size: number }[];
    manifest.dataVersion = dataVersion({
      asset: "raw_partition",
      codeVersion: "1",
      params: {},
      upstream: {},
      observed: JSON.stringify(objects.map((o) => [o.key, o.etag, o.size])),
    });
    delete manifest.observation.bucket;
    manifest.value.bucket = `file://${bx}`;
    for (const [i, o] of objects.entries()) {
      const old = `objects/${sha256Hex(o.key).slice(0, 32)}-${sha256Hex(o.etag).slice(0, 12)}.csv`;
      await Deno.rename(`${entry}/${manifest.files[i].name}`, `${entry}/${old}`);
      manifest.files[i].name = old;
      manifest.value.objects[i].file = old;
    }
    await Deno.writeTextFile(`${entry}/manifest.json`, JSON.stringify(manifest));

    const r = await runCli([...materializeArgs(by, cache), copy]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /raw_partition: materialized .*objectsDownloaded=1 objectsReused=0/);
    assert.equal(
      await Deno.readTextFile(`${by}/${COUNTS}`),
      "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n2,2,1\n",
    );
  });
});

/** An S3 bucket whose listing reports one fixed ETag, as stores whose ETags are not content hashes can. */
function fixedEtags(bucket: Bucket): Bucket {
  return {
    ...bucket,
    async *list(prefix) {
      for await (const o of bucket.list(prefix)) {
        yield o.key.startsWith("results/") ? o : { ...o, etag: "not-a-content-hash" };
      }
    },
    get: (key, options) => bucket.get(key, { ...options, ifMatch: undefined }),
  };
}

Deno.test({
  name: "two S3 endpoints with one bucket name and colliding ETags each publish their own counts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const one = await startTestS3();
    const two = await startTestS3();
    try {
      for (const [s3, body] of [[one, BX], [two, BY]] as const) {
        await s3.createBucket("shared-name");
        await s3.put("shared-name", { [KEY]: body });
      }
      await withTempDir(async (dir) => {
        const selection = selectAssets(createGraph(ASSETS), ["published_csv"]);
        const run = async (endpoint: string) => {
          const bucket = fixedEtags(await openS3Bucket({ bucket: "shared-name", endpoint }));
          try {
            return await materializePartition({
              selection,
              partition: DATE,
              state: localState(`${dir}/cache`),
              resources: { bucket },
              params: testParams({ initials: "T" }),
              log: createLogger({ write: () => {} }),
            });
          } finally {
            bucket.close();
          }
        };
        for (const [s3, counts] of [[one, "1,1,1"], [two, "2,2,1"], [one, "1,1,1"]] as const) {
          const outcome = await run(s3.endpoint);
          assert.equal(outcome.status, "materialized", JSON.stringify(outcome));
          assert.equal(outcome.assets[0].metadata.objectsDownloaded, 1);
          assert.equal(
            await s3.text("shared-name", COUNTS),
            `CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n${counts}\n`,
          );
        }
      });
    } finally {
      await one.stop();
      await two.stop();
    }
  },
});

Deno.test("the listing version and cached object names depend on the bucket's identity", () => {
  const objects = [{ key: KEY, etag: "e", size: 3 }];
  const at = (endpoint: string) => ({
    bucket: s3Identity("b", endpoint),
    prefix: "2021/01/30/",
    objects,
    ignored: [],
  });
  const one = at("http://alice:pw@minio-1:9000/?token=t");
  const two = at("http://minio-2:9000");
  assert.equal(one.bucket, "s3://b@http://minio-1:9000/");
  assert.equal(s3Identity("b"), "s3://b");
  assert.notEqual(listingVersion(one), listingVersion(two));
  assert.equal(listingVersion(one), listingVersion(at("http://bob:other@MINIO-1:9000/?x=y")));
  assert.notEqual(objectFileName(one.bucket, objects[0]), objectFileName(two.bucket, objects[0]));
  assert.deepEqual(diffListings(one, two), [
    "bucket changed (s3://b@http://minio-1:9000/ -> s3://b@http://minio-2:9000/)",
  ]);
});
