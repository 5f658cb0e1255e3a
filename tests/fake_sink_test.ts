/**
 * A third destination needs no change to the materializer: a fake
 * BigQuery-like warehouse back end defined here is registered with
 * `openWarehouse` and loaded by `warehouse_hourly_counts`, and a whole new
 * sink asset defined here runs in the graph next to the registered ones;
 * both get receipts, reruns that change nothing, and repair when the
 * destination loses what they wrote.
 */

import { localState } from "../materializer/state.ts";
import assert from "node:assert/strict";
import { publishObject, type Receipt, receiptIsCurrent, resultKey } from "../assets/_publish.ts";
import { hourlyCampaignCounts } from "../assets/hourly_campaign_counts.ts";
import { ASSETS } from "../assets/mod.ts";
import { collectInsights } from "../cli/insights_command.ts";
import { defineAsset } from "../assets/_define.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { jsonIO } from "../materializer/io.ts";
import { createLogger } from "../materializer/log.ts";
import { materializePartition } from "../materializer/materialize.ts";
import { openLocalBucket } from "../resources/local_bucket.ts";
import {
  type CountRow,
  type CurrentLoad,
  type LoadRecord,
  openWarehouse,
  type Warehouse,
  WAREHOUSE_BACKENDS,
  type WarehouseBackend,
} from "../resources/warehouse.ts";
import { csv, row, testParams, withTempDir, writeObjects } from "./_helpers.ts";

const DATE = "2021-01-30";

/** An in-memory stand-in for a cloud warehouse, e.g. `fakebq://project.dataset`. */
interface FakeDataset {
  tables: Map<string, CountRow[]>;
  loads: LoadRecord[];
}

function fakeWarehouse(location: string, dataset: FakeDataset): Warehouse {
  return {
    kind: "fakebq",
    uri: location,
    loadDay(load) {
      // A cloud warehouse would write to a staging table and swap it in.
      dataset.tables.set(load.date, load.rows.map((r) => ({ ...r })));
      const record = {
        date: load.date,
        dataVersion: load.dataVersion,
        rows: load.rows.length,
        loadedAt: (load.loadedAt ?? new Date()).toISOString(),
        runId: load.runId,
      };
      dataset.loads.push(record);
      return Promise.resolve(record);
    },
    currentLoad(date): Promise<CurrentLoad | null> {
      const last = dataset.loads.findLast((l) => l.date === date);
      return Promise.resolve(
        last ? { ...last, rowsPresent: dataset.tables.get(date)?.length ?? 0 } : null,
      );
    },
    summarize({ from, to, limit }) {
      const dates = [...dataset.tables.keys()].filter((d) => d >= from && d <= to).sort();
      const byCampaign = new Map<string, number>();
      const byHour = new Map<number, number>();
      for (const date of dates) {
        for (const r of dataset.tables.get(date)!) {
          byCampaign.set(r.campaign, (byCampaign.get(r.campaign) ?? 0) + r.count);
          byHour.set(r.hour, (byHour.get(r.hour) ?? 0) + r.count);
        }
      }
      return Promise.resolve({
        topCampaigns: [...byCampaign].map(([campaign, impressions]) => ({ campaign, impressions }))
          .sort((a, b) => b.impressions - a.impressions).slice(0, limit),
        hours: [...byHour].map(([hour, impressions]) => ({ hour, impressions }))
          .sort((a, b) => a.hour - b.hour),
        days: dates.map((date) => ({
          date,
          impressions: dataset.tables.get(date)!.reduce((n, r) => n + r.count, 0),
          rows: dataset.tables.get(date)!.length,
        })),
      });
    },
    close: () => Promise.resolve(),
  };
}

async function day(dir: string) {
  await writeObjects(`${dir}/b`, {
    "2021/01/30/a.csv": csv(
      row("a", "2021-01-30 01:00:00", "1"),
      row("b", "2021-01-30 01:30:00", "1"),
      row("c", "2021-01-30 02:00:00", ""),
    ),
  });
  return await openLocalBucket({ root: `${dir}/b` });
}

Deno.test("a fake warehouse back end registered in a test runs through the materializer", async (t) => {
  await withTempDir(async (dir) => {
    const dataset: FakeDataset = { tables: new Map(), loads: [] };
    const fakeBackend: WarehouseBackend = {
      name: "fakebq",
      accepts: (location) => location.startsWith("fakebq://"),
      open: (location) => Promise.resolve(fakeWarehouse(location, dataset)),
    };
    const warehouse = await openWarehouse("fakebq://project.dataset", {
      backends: [...WAREHOUSE_BACKENDS, fakeBackend],
    });
    const bucket = await day(dir);
    const run = (force = false) =>
      materializePartition({
        selection: selectAssets(createGraph(ASSETS), ["warehouse_hourly_counts"]),
        partition: DATE,
        runId: force ? "run-2" : "run-1",
        state: localState(`${dir}/cache`),
        resources: { bucket, warehouse },
        params: testParams(),
        log: createLogger({ write: () => {} }),
        force,
      });
    const sink = (outcome: Awaited<ReturnType<typeof run>>) =>
      outcome.assets.find((a) => a.asset === "warehouse_hourly_counts")!;

    await t.step("loads the day and publishes a receipt", async () => {
      const outcome = await run();
      assert.equal(outcome.status, "materialized", outcome.error);
      assert.deepEqual(sink(outcome).published, [
        "fakebq://project.dataset#hourly_campaign_counts/2021-01-30",
      ]);
      assert.deepEqual(dataset.tables.get(DATE), [
        { campaign: "1", hour: 1, count: 2 },
        { campaign: "", hour: 2, count: 1 },
      ]);
      assert.deepEqual(dataset.loads.map((l) => [l.date, l.rows, l.runId]), [[DATE, 2, "run-1"]]);
    });

    await t.step("reruns, even forced, load nothing", async () => {
      assert.equal(sink(await run()).status, "up to date");
      const forced = await run(true);
      assert.equal(sink(forced).status, "materialized");
      assert.equal(sink(forced).metadata.loaded, false);
      assert.equal(dataset.loads.length, 1);
    });

    await t.step("a table emptied behind its back is loaded again", async () => {
      dataset.tables.set(DATE, []);
      const outcome = await run();
      assert.deepEqual(sink(outcome).reasons, ["the published object is missing or differs"]);
      assert.equal(dataset.tables.get(DATE)!.length, 2);
      assert.equal(dataset.loads.length, 2);
    });

    await t.step("insights read it through the same interface", async () => {
      const insights = await collectInsights(warehouse, {
        from: DATE,
        to: DATE,
        limit: 5,
        cacheDir: `${dir}/cache`,
      });
      assert.equal(insights.totalImpressions, 3);
      assert.deepEqual(insights.topCampaigns.map((c) => [c.campaignId, c.impressions]), [
        ["1", 2],
        [null, 1],
      ]);
      assert.deepEqual(insights.days[0].duplicates, 0);
    });
    bucket.close();
  });
});

Deno.test("a new sink asset defined in a test runs in the graph with the registered ones", async () => {
  await withTempDir(async (dir) => {
    /** Daily totals as JSON, e.g. for a dashboard bucket. */
    const publishedTotals = defineAsset({
      name: "published_totals",
      deps: { counts: hourlyCampaignCounts },
      codeVersion: "1",
      io: jsonIO<Receipt>(),
      params: (ctx) => ({ bucket: ctx.resources.bucket.uri, initials: ctx.params.initials }),
      compute({ counts }, ctx) {
        const total = counts.counts.reduce((n, c) => n + c.count, 0);
        const body = new TextEncoder().encode(JSON.stringify({ date: ctx.partition, total }));
        return publishObject(ctx, resultKey(ctx, "totals", "json"), body, "application/json");
      },
      isCurrent: (receipt, ctx) => receiptIsCurrent(receipt, ctx),
      published: (receipt) => [receipt.uri],
    });
    const bucket = await day(dir);
    const run = () =>
      materializePartition({
        selection: selectAssets(createGraph([...ASSETS, publishedTotals]), ["published_totals"]),
        partition: DATE,
        state: localState(`${dir}/cache`),
        resources: { bucket },
        params: testParams(),
        log: createLogger({ write: () => {} }),
      });
    const first = await run();
    assert.deepEqual(first.assets.map((a) => [a.asset, a.status]), [
      ["raw_partition", "materialized"],
      ["deduped_impressions", "materialized"],
      ["hourly_campaign_counts", "materialized"],
      ["published_totals", "materialized"],
    ]);
    const key = `${dir}/b/results/2021/01/30/totals_20210130_T.json`;
    assert.equal(await Deno.readTextFile(key), '{"date":"2021-01-30","total":3}');
    assert.equal((await run()).assets.at(-1)!.status, "up to date");
    await Deno.remove(key);
    assert.equal((await run()).assets.at(-1)!.status, "materialized");
    assert.equal(await Deno.readTextFile(key), '{"date":"2021-01-30","total":3}');
    bucket.close();
  });
});
