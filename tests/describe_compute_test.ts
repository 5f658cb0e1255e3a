/**
 * The framework's hooks for incremental assets, on a toy pipeline: `plan`
 * adds what `describeCompute` says (from the previous entry and the
 * upstream sources' observations in this run) to a stale asset's reasons,
 * and a prefetch sees the previous entry as `ctx.previous`.
 */

import assert from "node:assert/strict";
import { assetsOf } from "../materializer/asset.ts";
import { jsonIO } from "../materializer/io.ts";
import { materializePartition } from "../materializer/materialize.ts";
import { localState } from "../materializer/state.ts";
import { createLogger } from "../materializer/log.ts";
import { withTempDir } from "./_helpers.ts";

interface Shelf {
  items: string[];
  /** What each prefetch saw of its previous entry's value. */
  seen: unknown[];
}

const { defineAsset } = assetsOf<{ shelf: Shelf }, Record<string, never>>();

const items = defineAsset({
  name: "items",
  deps: {},
  codeVersion: "1",
  io: jsonIO<string[]>(),
  observe: (ctx) =>
    Promise.resolve({
      version: JSON.stringify(ctx.resources.shelf.items),
      detail: [...ctx.resources.shelf.items],
    }),
  compute(_deps, ctx) {
    for (const item of ctx.observation) ctx.announce(item);
    return Promise.resolve([...ctx.observation]);
  },
});

const tally = defineAsset({
  name: "tally",
  deps: { items },
  codeVersion: "1",
  io: jsonIO<number>(),
  describeCompute(ctx, observations) {
    const before = (ctx.previous?.manifest.value as number | undefined) ?? 0;
    const now = (observations.items as string[]).length;
    return before > 0 && now > before ? `incremental: ${now - before} new` : "full";
  },
  prefetch: {
    from: "items",
    async start(announcements, ctx) {
      ctx.resources.shelf.seen.push(ctx.previous?.manifest.value ?? null);
      for await (const _ of announcements) { /* drained */ }
      return 0;
    },
    discard: () => Promise.resolve(),
  },
  compute: ({ items }) => Promise.resolve(items.length),
});

Deno.test("plan says how a stale asset would compute; a prefetch sees the previous entry", async () => {
  await withTempDir(async (dir) => {
    const shelf: Shelf = { items: ["a", "b"], seen: [] };
    const run = (plan: boolean) =>
      materializePartition({
        selection: [items, tally],
        partition: "2021-01-30",
        state: localState(dir),
        resources: { shelf },
        params: {},
        log: createLogger({ format: "text", level: "error", write: () => {} }),
        plan,
      });
    const first = await run(true);
    assert.deepEqual(first.assets[1].reasons, ["never materialized", "full"]);
    await run(false);
    assert.deepEqual(shelf.seen, [null]);

    shelf.items.push("c", "d", "e");
    const second = await run(true);
    assert.equal(second.assets[1].status, "stale");
    assert.equal(second.assets[1].reasons.at(-1), "incremental: 3 new");
    await run(false);
    assert.deepEqual(shelf.seen, [null, 2]);

    const current = await run(true);
    assert.equal(current.assets[1].status, "up to date");
    assert.deepEqual(current.assets[1].reasons, []);
  });
});
