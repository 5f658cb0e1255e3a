/**
 * Pipelining: a downstream's prefetch runs while its upstream computes,
 * fed by what the upstream announces; parsing starts on the first raw
 * object while the others still download, with the same bytes published.
 */

import { localState } from "../materializer/state.ts";
import assert from "node:assert/strict";
import { ASSETS } from "../assets/mod.ts";
import { type Asset, defineAsset } from "../materializer/asset.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { jsonIO } from "../materializer/io.ts";
import { createLogger } from "../materializer/log.ts";
import { materializePartition } from "../materializer/materialize.ts";
import { openLocalBucket } from "../resources/local_bucket.ts";
import type { Bucket } from "../resources/storage.ts";
import { csv, row, testParams, withTempDir, writeObjects } from "./_helpers.ts";

const DATE = "2021-01-30";

/** Rejects after `ms` with `message`, unless `promise` settles first. */
function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A source announcing "a" and "b", and a downstream that prefetches them. */
function toyAssets(options: { failAfterAnnouncing?: boolean; expectPrefetch?: boolean } = {}) {
  const log = { started: 0, discarded: 0, aborted: 0, seen: [] as unknown[] };
  let sawFirst: () => void = () => {};
  const firstSeen = new Promise<void>((resolve) => (sawFirst = resolve));
  const source = defineAsset({
    name: "source",
    deps: {},
    codeVersion: "1",
    io: jsonIO<string[]>(),
    async compute(_deps, ctx) {
      ctx.announce("a");
      if (options.expectPrefetch ?? true) {
        // The prefetch must see "a" while this compute is still running.
        await within(firstSeen, 5000, "the prefetch did not run while its upstream computed");
      }
      if (options.failAfterAnnouncing) throw new Error("source broke");
      ctx.announce("b");
      return ["a", "b"];
    },
  });
  const down = defineAsset({
    name: "down",
    deps: { src: source },
    codeVersion: "1",
    io: jsonIO<string>(),
    prefetch: {
      from: "src",
      async start(announcements, _ctx, signal) {
        log.started++;
        const items: unknown[] = [];
        signal.addEventListener("abort", () => log.aborted++);
        for await (const item of announcements) {
          items.push(item);
          sawFirst();
        }
        return items;
      },
      discard: () => {
        log.discarded++;
        return Promise.resolve();
      },
    },
    async compute({ src }, ctx) {
      const items = (await ctx.prefetched) as unknown[] | undefined;
      log.seen.push(items);
      return `${src.join(",")} prefetched ${items ? items.join(",") : "nothing"}`;
    },
  });
  return { source, down, log };
}

function runToy(
  dir: string,
  selection: Asset<unknown>[],
  extra: { plan?: boolean; force?: boolean } = {},
) {
  return materializePartition({
    selection,
    partition: DATE,
    state: localState(dir),
    resources: { bucket: {} as Bucket },
    params: testParams(),
    log: createLogger({ write: () => {} }),
    ...extra,
  });
}

Deno.test("a prefetch runs while its upstream computes, and only when needed", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("it receives every announcement and compute gets its result", async () => {
      const { source, down, log } = toyAssets();
      const outcome = await runToy(dir, [source, down]);
      assert.equal(outcome.status, "materialized", outcome.error);
      assert.deepEqual(log.seen, [["a", "b"]]);
      assert.equal(log.started, 1);
      assert.equal(log.discarded, 1, "released once compute ended");
    });
    await t.step("plan starts nothing", async () => {
      const { source, down, log } = toyAssets();
      await Deno.remove(`${dir}/${DATE}/down`, { recursive: true });
      const outcome = await runToy(dir, [source, down], { plan: true });
      assert.equal(outcome.status, "planned");
      assert.equal(log.started, 0);
    });
    await t.step("not started unless both it and its upstream compute", async () => {
      const { source, down, log } = toyAssets({ expectPrefetch: false });
      // `down` was removed above; `source` is cached, so nothing to overlap with.
      const cached = await runToy(dir, [source, down]);
      assert.deepEqual(cached.assets.map((a) => a.status), ["up to date", "materialized"]);
      assert.deepEqual(log.seen, [undefined]);
      // `source` recomputes, but `down`'s entry already holds the same version.
      await Deno.remove(`${dir}/${DATE}/source/manifest.json`);
      const current = await runToy(dir, [source, down]);
      assert.deepEqual(current.assets.map((a) => a.status), ["materialized", "up to date"]);
      assert.equal(log.started, 0);
    });
    await t.step("an upstream failure aborts it and releases what it made", async () => {
      const { source, down, log } = toyAssets({ failAfterAnnouncing: true });
      const outcome = await runToy(dir, [source, down], { force: true });
      assert.deepEqual(outcome.assets.map((a) => a.status), ["failed", "skipped"]);
      assert.equal(outcome.error, "source broke");
      assert.deepEqual([log.started, log.aborted, log.discarded], [1, 1, 1]);
      assert.deepEqual(log.seen, [], "compute never ran");
    });
  });
});

Deno.test("parsing starts before the last raw object has downloaded; same bytes", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/b`;
    await writeObjects(root, {
      "2021/01/30/a.csv": csv(
        row("x", "2021-01-30 01:00:00", "7"),
        row("y", "2021-01-30 02:10:00", "7"),
      ),
      // "x" again: a duplicate across objects, so processing order matters.
      "2021/01/30/b.csv": csv(
        row("x", "2021-01-30 01:00:00", "8"),
        row("z", "2021-01-30 02:30:00", "8"),
      ),
    });
    const local = await openLocalBucket({ root });
    let parsing: () => void = () => {};
    const parseStarted = new Promise<void>((resolve) => (parsing = resolve));
    // Streams objects (no kernel copy); b.csv only once a.csv is being parsed.
    const slow: Bucket = {
      ...local,
      localPath: undefined,
      async get(key, options) {
        if (key.endsWith("b.csv")) {
          await within(parseStarted, 5000, "parsing waited for every download");
        }
        return local.get(key, options);
      },
    };
    const graph = createGraph(ASSETS);
    const run = (bucket: Bucket, onParse?: () => void) =>
      materializePartition({
        selection: selectAssets(graph, undefined),
        partition: DATE,
        state: localState(`${dir}/c`),
        resources: { bucket },
        params: testParams({ initials: "T", downloadConcurrency: 1 }),
        log: createLogger({ write: () => {} }),
        onProgress: (asset, update) => {
          if (asset === "deduped_impressions" && update.phase === "parse") onParse?.();
        },
      });
    const published = `${root}/results/2021/01/30/daily_agg_20210130_T.csv`;

    const first = await run(slow, parsing);
    assert.equal(first.status, "materialized", first.error);
    const deduped = first.assets.find((a) => a.asset === "deduped_impressions")!;
    assert.equal(deduped.metadata.prefetched, true);
    assert.equal(deduped.metadata.duplicates, 1);
    const bytes = await Deno.readTextFile(published);
    // The first x (in a.csv, campaign 7) is kept, the one in b.csv dropped.
    assert.equal(bytes, "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n7,1,1\n7,2,1\n8,2,1\n");

    // The same day without a prefetch (raw_partition is cached) gives the same bytes.
    await Deno.remove(`${dir}/c/${DATE}/deduped_impressions`, { recursive: true });
    await Deno.remove(published);
    const second = await run({ ...local, localPath: undefined });
    assert.equal(second.status, "materialized", second.error);
    const again = second.assets.find((a) => a.asset === "deduped_impressions")!;
    assert.equal(again.metadata.prefetched, false);
    assert.equal(await Deno.readTextFile(published), bytes);
  });
});
