/**
 * The materializer: up-to-date detection, --force, input changes, code
 * versions, failures keeping upstream entries, damaged cache entries.
 */

import { localState } from "../materializer/state.ts";
import assert from "node:assert/strict";
import { ASSETS, hourlyCampaignCounts } from "../assets/mod.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { createLogger } from "../materializer/log.ts";
import { materializePartition } from "../materializer/materialize.ts";
import { openLocalBucket } from "../resources/local_bucket.ts";
import {
  csv,
  materializeArgs,
  row,
  runCli,
  testParams,
  withTempDir,
  writeObjects,
} from "./_helpers.ts";

const DATE = "2021-01-30";

function statuses(stderr: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (
    const match of stderr.matchAll(
      /\] (?:error: )?(\w+): (materialized|up to date|failed|skipped)/g,
    )
  ) {
    out[match[1]] = match[2];
  }
  return out;
}

async function setup(dir: string) {
  const bucket = `${dir}/b`;
  await writeObjects(bucket, {
    "2021/01/30/a.csv": csv(
      row("a", "2021-01-30 01:00:00", "1"),
      row("b", "2021-01-30 02:00:00", "1"),
    ),
    "2021/01/30/b.csv": csv(row("c", "2021-01-30 03:00:00", "2")),
  });
  const run = (...extra: string[]) =>
    runCli([
      ...materializeArgs(bucket, `${dir}/c`),
      ...extra,
    ]);
  return { bucket, run };
}

const ALL_MATERIALIZED = {
  raw_partition: "materialized",
  deduped_impressions: "materialized",
  hourly_campaign_counts: "materialized",
  published_csv: "materialized",
};
const ALL_UP_TO_DATE = {
  raw_partition: "up to date",
  deduped_impressions: "up to date",
  hourly_campaign_counts: "up to date",
  published_csv: "up to date",
};

Deno.test("a second run finds everything up to date and changes nothing", async () => {
  await withTempDir(async (dir) => {
    const { bucket, run } = await setup(dir);
    const first = await run();
    assert.deepEqual(statuses(first.stderr), ALL_MATERIALIZED);
    const path = `${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`;
    const before = await Deno.stat(path);
    const bytes = await Deno.readFile(path);
    const second = await run();
    assert.equal(second.code, 0);
    assert.deepEqual(statuses(second.stderr), ALL_UP_TO_DATE);
    assert.deepEqual(second.stdout, first.stdout);
    assert.equal((await Deno.stat(path)).mtime?.getTime(), before.mtime?.getTime());
    assert.deepEqual(await Deno.readFile(path), bytes);
  });
});

Deno.test("--force recomputes and republishes identical bytes without uploading", async () => {
  await withTempDir(async (dir) => {
    const { bucket, run } = await setup(dir);
    await run();
    const path = `${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`;
    const mtime = (await Deno.stat(path)).mtime?.getTime();
    const forced = await run("--force");
    assert.deepEqual(statuses(forced.stderr), ALL_MATERIALIZED);
    assert.match(forced.stderr, /published_csv: materialized .*bytes=\d+/);
    const receipt = JSON.parse(
      await Deno.readTextFile(`${dir}/c/${DATE}/published_csv/manifest.json`),
    );
    assert.equal(receipt.value.uploaded, false);
    assert.equal((await Deno.stat(path)).mtime?.getTime(), mtime);
  });
});

Deno.test("changed, added and deleted input objects are picked up (copied into the cache)", async (t) => {
  await withTempDir(async (dir) => {
    const { bucket, run: runInPlace } = await setup(dir);
    const run = (...extra: string[]) => runInPlace("--copy-objects", ...extra);
    await run();
    const result = () => Deno.readTextFile(`${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`);
    await t.step("changed", async () => {
      await writeObjects(bucket, {
        "2021/01/30/b.csv": csv(
          row("c", "2021-01-30 03:00:00", "2"),
          row("d", "2021-01-30 03:30:00", "2"),
        ),
      });
      const r = await run();
      assert.deepEqual(statuses(r.stderr), ALL_MATERIALIZED);
      assert.match(r.stderr, /objectsDownloaded=1 objectsReused=1/);
      assert.equal(
        await result(),
        "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n1,1,1\n1,2,1\n2,3,2\n",
      );
    });
    await t.step("added", async () => {
      await writeObjects(bucket, { "2021/01/30/c.csv": csv(row("e", "2021-01-30 04:00:00", "3")) });
      const r = await run();
      assert.deepEqual(statuses(r.stderr), ALL_MATERIALIZED);
      assert.match(await result(), /3,4,1\n$/);
    });
    await t.step("deleted", async () => {
      await Deno.remove(`${bucket}/2021/01/30/a.csv`);
      const r = await run();
      assert.deepEqual(statuses(r.stderr), ALL_MATERIALIZED);
      assert.equal(await result(), "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n2,3,2\n3,4,1\n");
      // The deleted object's cached copy is gone too.
      const manifest = JSON.parse(
        await Deno.readTextFile(`${dir}/c/${DATE}/raw_partition/manifest.json`),
      );
      const files = [...Deno.readDirSync(`${dir}/c/${DATE}/raw_partition/objects`)].map((e) =>
        e.name
      );
      assert.equal(files.length, 2);
      assert.equal(manifest.files.length, 2);
    });
    await t.step("a deleted output object is put back", async () => {
      await Deno.remove(`${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`);
      const r = await run();
      assert.equal(statuses(r.stderr).published_csv, "materialized");
      assert.equal(statuses(r.stderr).hourly_campaign_counts, "up to date");
      assert.equal(await result(), "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n2,3,2\n3,4,1\n");
    });
    await t.step("an altered output object is put back", async () => {
      await Deno.writeTextFile(
        `${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`,
        "tampered\n",
      );
      const r = await run();
      assert.equal(statuses(r.stderr).published_csv, "materialized");
      assert.equal(await result(), "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n2,3,2\n3,4,1\n");
    });
  });
});

Deno.test("a changed code version recomputes that asset and its downstreams only", async () => {
  await withTempDir(async (dir) => {
    const { bucket, run } = await setup(dir);
    await run();
    const graph = createGraph(ASSETS);
    const selection = selectAssets(graph, ["published_csv"]).map((asset) =>
      asset === hourlyCampaignCounts ? { ...asset, codeVersion: "2" } : asset
    );
    const outcome = await materializePartition({
      selection,
      partition: DATE,
      state: localState(`${dir}/c`),
      resources: { bucket: await openLocalBucket({ root: bucket }) },
      params: testParams({ initials: "T" }),
      log: createLogger({ write: () => {} }),
    });
    assert.deepEqual(
      outcome.assets.map((a) => [a.asset, a.status, a.reasons[0] ?? ""]),
      [
        ["raw_partition", "up to date", ""],
        ["deduped_impressions", "up to date", ""],
        ["hourly_campaign_counts", "materialized", "code version changed (1 -> 2)"],
        ["published_csv", "materialized", "upstream hourly_campaign_counts changed"],
      ],
    );
  });
});

Deno.test("when a later asset fails, upstream entries stay cached", async () => {
  await withTempDir(async (dir) => {
    const { bucket, run } = await setup(dir);
    // A results "folder" that is a file makes the publish step fail.
    await writeObjects(bucket, { "results": "not a folder" });
    const failed = await run();
    assert.equal(failed.code, 1);
    assert.equal(statuses(failed.stderr).published_csv, "failed");
    await Deno.remove(`${bucket}/results`);
    const retried = await run();
    assert.equal(retried.code, 0, retried.stderr);
    assert.deepEqual(statuses(retried.stderr), {
      raw_partition: "up to date",
      deduped_impressions: "up to date",
      hourly_campaign_counts: "up to date",
      published_csv: "materialized",
    });
  });
});

Deno.test("a damaged cache entry is never served", async (t) => {
  await withTempDir(async (dir) => {
    const { run: runInPlace } = await setup(dir);
    const run = (...extra: string[]) => runInPlace("--copy-objects", ...extra);
    await run();
    await t.step("flipped byte in a data file", async () => {
      const path = `${dir}/c/${DATE}/deduped_impressions/kept.bin`;
      const bytes = await Deno.readFile(path);
      bytes[0] ^= 1;
      await Deno.writeFile(path, bytes);
      const r = await run();
      assert.equal(statuses(r.stderr).deduped_impressions, "materialized");
      assert.equal(statuses(r.stderr).hourly_campaign_counts, "up to date");
    });
    await t.step("truncated raw object", async () => {
      const objects = `${dir}/c/${DATE}/raw_partition/objects`;
      const name = [...Deno.readDirSync(objects)][0].name;
      await Deno.truncate(`${objects}/${name}`, 5);
      const r = await run();
      assert.equal(statuses(r.stderr).raw_partition, "materialized");
      assert.match(r.stderr, /objectsDownloaded=2/);
    });
    await t.step("unreadable manifest", async () => {
      await Deno.writeTextFile(`${dir}/c/${DATE}/hourly_campaign_counts/manifest.json`, "{");
      const r = await run();
      assert.equal(statuses(r.stderr).hourly_campaign_counts, "materialized");
    });
  });
});

Deno.test("an object that changes mid-run is re-listed once, then fails clearly", async (t) => {
  await withTempDir(async (dir) => {
    const { bucket } = await setup(dir);
    const local = await openLocalBucket({ root: bucket });
    const graph = createGraph(ASSETS);
    const run = (b: typeof local) =>
      materializePartition({
        selection: selectAssets(graph, undefined),
        partition: DATE,
        state: localState(`${dir}/c`),
        resources: { bucket: b },
        params: testParams({ initials: "T" }),
        log: createLogger({ write: () => {} }),
      });
    await t.step("changed once: the rerun of the listing reads the new version", async () => {
      let changes = 1;
      const flaky = {
        ...local,
        localPath: undefined,
        async get(key: string, options?: Parameters<typeof local.get>[1]) {
          if (changes > 0 && key.endsWith("b.csv")) {
            changes--;
            // Someone rewrites b.csv between our listing and our read.
            await writeObjects(bucket, {
              "2021/01/30/b.csv": csv(
                row("c", "2021-01-30 03:00:00", "2"),
                row("z", "2021-01-30 04:00:00", "2"),
              ),
            });
          }
          return local.get(key, options);
        },
      };
      const outcome = await run(flaky);
      assert.equal(outcome.status, "materialized", outcome.error);
      assert.equal(
        await Deno.readTextFile(`${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`),
        "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n1,1,1\n1,2,1\n2,3,1\n2,4,1\n",
      );
    });
    await t.step("changing again: a clear failure, nothing mixed", async () => {
      await Deno.remove(`${dir}/c`, { recursive: true });
      let version = 0;
      const busy = {
        ...local,
        localPath: undefined,
        async get(key: string, options?: Parameters<typeof local.get>[1]) {
          if (key.endsWith("a.csv")) {
            await writeObjects(bucket, {
              "2021/01/30/a.csv": csv(row(`v${++version}`, "2021-01-30 01:00:00", "1")),
            });
          }
          return local.get(key, options);
        },
      };
      const before = await Deno.readTextFile(
        `${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`,
      );
      const outcome = await run(busy);
      assert.equal(outcome.status, "failed");
      assert.match(
        outcome.error!,
        /^object changed or disappeared while reading: file:\/\/.*\/2021\/01\/30\/a\.csv \(again after listing anew; is something still writing\?\)$/,
      );
      assert.equal(
        await Deno.readTextFile(`${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`),
        before,
      );
    });
  });
});
