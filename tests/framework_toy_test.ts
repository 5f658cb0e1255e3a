/**
 * The framework on its own: a toy pipeline of three assets over an
 * in-memory resource materializes, skips, plans and fails cleanly, with no
 * S3, no CLI and no impressions code.
 */

import assert from "node:assert/strict";
import { assetsOf } from "../materializer/asset.ts";
import { jsonIO } from "../materializer/io.ts";
import { materialize } from "../materializer/run.ts";
import { localState } from "../materializer/state.ts";
import { LockedError } from "../materializer/lock.ts";

/** An in-memory key-value store: the toy pipeline's only resource. */
interface Shelf {
  words: Map<string, string[]>;
  written: Map<string, string>;
  computed: string[];
}

interface ToyParams {
  separator: string;
}

const { defineAsset } = assetsOf<{ shelf: Shelf }, ToyParams>();

const words = defineAsset({
  name: "words",
  deps: {},
  codeVersion: "1",
  io: jsonIO<string[]>(),
  observe(ctx) {
    const found = ctx.resources.shelf.words.get(ctx.partition) ?? [];
    return Promise.resolve({ version: JSON.stringify(found), detail: found });
  },
  explain: (previous, current) => previous?.length === current.length ? [] : ["words changed"],
  compute(_deps, ctx) {
    ctx.resources.shelf.computed.push(`words ${ctx.partition}`);
    if (ctx.observation.includes("boom")) throw new Error(`bad word "boom" on ${ctx.partition}`);
    return Promise.resolve([...ctx.observation]);
  },
});

const sentence = defineAsset({
  name: "sentence",
  deps: { words },
  codeVersion: "1",
  io: jsonIO<string>(),
  params: (ctx) => ({ separator: ctx.params.separator }),
  compute({ words }, ctx) {
    ctx.resources.shelf.computed.push(`sentence ${ctx.partition}`);
    ctx.record({ words: words.length });
    return Promise.resolve(words.join(ctx.params.separator));
  },
  checks: [{
    name: "not_empty",
    severity: "error",
    evaluate: (value) => ({ passed: value.length > 0, detail: `${value.length} characters` }),
  }],
});

const shelved = defineAsset({
  name: "shelved",
  deps: { sentence },
  codeVersion: "1",
  defaultSelected: true,
  io: jsonIO<string>(),
  compute({ sentence }, ctx) {
    ctx.resources.shelf.computed.push(`shelved ${ctx.partition}`);
    ctx.resources.shelf.written.set(ctx.partition, sentence);
    return Promise.resolve(`shelf://${ctx.partition}`);
  },
  isCurrent: (uri, ctx) => Promise.resolve(ctx.resources.shelf.written.has(uri.slice(8))),
  published: (uri) => [uri],
});

const ASSETS = [shelved, words, sentence];

function shelf(entries: Record<string, string[]>): Shelf {
  return { words: new Map(Object.entries(entries)), written: new Map(), computed: [] };
}

Deno.test("framework: a toy pipeline materializes, skips, plans and fails cleanly", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const state = localState(dir);
    const resources = {
      shelf: shelf({ "2021-01-01": ["a", "b"], "2021-01-02": ["c"], "2021-01-03": [] }),
    };
    const run = (partitions: string[], extra: { command?: "plan"; force?: boolean } = {}) =>
      materialize({
        assets: ASSETS,
        partitions,
        resources,
        params: { separator: "-" },
        state,
        ...extra,
      });

    await t.step("materializes every asset in order, values flowing downstream", async () => {
      const result = await run(["2021-01-01", "2021-01-02"]);
      assert.equal(result.failed, false);
      assert.deepEqual(result.partitions.map((p) => p.status), ["materialized", "materialized"]);
      assert.equal(resources.shelf.written.get("2021-01-01"), "a-b");
      assert.equal(resources.shelf.written.get("2021-01-02"), "c");
      assert.deepEqual(result.partitions[0].assets.map((a) => a.asset), [
        "words",
        "sentence",
        "shelved",
      ]);
      assert.deepEqual(result.partitions[0].assets[2].published, ["shelf://2021-01-01"]);
      assert.equal((await state.listRunRecords()).length, 1);
    });

    await t.step("a rerun with nothing changed skips every asset", async () => {
      resources.shelf.computed.length = 0;
      const result = await run(["2021-01-01", "2021-01-02"]);
      assert.deepEqual(result.partitions.map((p) => p.status), ["up to date", "up to date"]);
      assert.deepEqual(resources.shelf.computed, []);
    });

    await t.step("plan says what would change and why, and computes nothing", async () => {
      resources.shelf.words.set("2021-01-01", ["a", "b", "x"]);
      resources.shelf.written.delete("2021-01-02");
      const result = await run(["2021-01-01", "2021-01-02"], { command: "plan" });
      assert.deepEqual(resources.shelf.computed, []);
      const [first, second] = result.partitions;
      assert.deepEqual(first.assets.map((a) => [a.asset, a.status, a.reasons]), [
        ["words", "stale", ["words changed"]],
        ["sentence", "stale", ["upstream words is stale"]],
        ["shelved", "stale", ["upstream sentence is stale"]],
      ]);
      assert.deepEqual(second.assets.map((a) => [a.asset, a.status]), [
        ["words", "up to date"],
        ["sentence", "up to date"],
        ["shelved", "stale"],
      ]);
      // A plan writes no run record.
      assert.equal((await state.listRunRecords()).length, 2);
    });

    await t.step("a failed check blocks downstream assets; other dates go on", async () => {
      const result = await run(["2021-01-01", "2021-01-03"]);
      assert.equal(result.failed, true);
      assert.equal(result.partitions[0].status, "materialized");
      const empty = result.partitions[1];
      assert.equal(empty.status, "failed");
      assert.deepEqual(empty.assets.map((a) => a.status), [
        "materialized",
        "materialized",
        "skipped",
      ]);
      assert.match(empty.error!, /^blocked by failed check sentence\.not_empty: 0 characters$/);
      assert.equal(resources.shelf.written.has("2021-01-03"), false);
      assert.equal(resources.shelf.written.get("2021-01-01"), "a-b-x");
    });

    await t.step(
      "a compute that throws fails its date with one line; nothing is cached",
      async () => {
        resources.shelf.words.set("2021-01-04", ["boom"]);
        const result = await run(["2021-01-04"]);
        assert.equal(result.partitions[0].error, 'bad word "boom" on 2021-01-04');
        assert.deepEqual(result.partitions[0].assets.map((a) => a.status), [
          "failed",
          "skipped",
          "skipped",
        ]);
        assert.equal(await state.readManifest("2021-01-04", "words"), null);
        const record = (await state.listRunRecords(1))[0];
        assert.equal(record.status, "failed");
      },
    );

    await t.step("a changed param recomputes only the assets that read it", async () => {
      resources.shelf.computed.length = 0;
      const result = await materialize({
        assets: ASSETS,
        partitions: ["2021-01-02"],
        resources,
        params: { separator: "+" },
        state,
      });
      assert.deepEqual(result.partitions[0].assets.map((a) => [a.asset, a.status, a.reasons]), [
        ["words", "up to date", []],
        ["sentence", "materialized", ["parameter separator changed"]],
        ["shelved", "materialized", ["upstream sentence changed"]],
      ]);
      assert.deepEqual(resources.shelf.computed, ["sentence 2021-01-02", "shelved 2021-01-02"]);
      assert.equal(resources.shelf.written.get("2021-01-02"), "c");
    });

    await t.step("a held partition lock fails that date, naming the holder", async () => {
      const release = await state.lock("2021-01-02", { wait: false });
      try {
        await assert.rejects(state.lock("2021-01-02", { wait: false }), LockedError);
        const result = await run(["2021-01-02"]);
        assert.match(result.partitions[0].error!, /^date 2021-01-02 is locked by process \d+/);
      } finally {
        await release();
      }
    });

    await t.step("the state works from another working directory and after a move", async () => {
      const moved = `${dir}-moved`;
      await Deno.rename(dir, moved);
      try {
        resources.shelf.computed.length = 0;
        const result = await materialize({
          assets: ASSETS,
          partitions: ["2021-01-01"],
          resources,
          params: { separator: "-" },
          state: localState(moved),
        });
        assert.equal(result.partitions[0].status, "up to date");
        assert.deepEqual(resources.shelf.computed, []);
      } finally {
        await Deno.rename(moved, dir);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
