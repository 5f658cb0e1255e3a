/**
 * The materializer with a state whose entries can be current by their
 * manifest while their files are on another machine (`missing`, as a
 * shared state reports them): such an entry decides "up to date", is never
 * the base of incremental work, and is computed again here only when a
 * downstream must read its value.
 */

import assert from "node:assert/strict";
import { assetsOf } from "../materializer/asset.ts";
import { jsonIO } from "../materializer/io.ts";
import { materialize } from "../materializer/run.ts";
import { localState, type StateStore } from "../materializer/state.ts";

interface Toy {
  words: string[];
  computed: string[];
  previousSeen: string[];
}

const { defineAsset } = assetsOf<{ toy: Toy }, { unit: string }>();

const words = defineAsset({
  name: "words",
  deps: {},
  codeVersion: "1",
  io: jsonIO<string[]>(),
  observe: (ctx) =>
    Promise.resolve({ version: JSON.stringify(ctx.resources.toy.words), detail: null }),
  compute(_deps, ctx) {
    ctx.resources.toy.computed.push("words");
    return Promise.resolve([...ctx.resources.toy.words]);
  },
});

/** Keeps its value in a file of its entry (a bulky intermediate). */
const letters = defineAsset({
  name: "letters",
  deps: { words },
  codeVersion: "1",
  io: {
    write: (value: string, out) => out.writeFile("letters.txt", new TextEncoder().encode(value)),
    read: async (entry) => new TextDecoder().decode(await entry.readFile("letters.txt")),
  },
  compute({ words }, ctx) {
    ctx.resources.toy.computed.push("letters");
    if (ctx.previous) ctx.resources.toy.previousSeen.push("letters");
    return Promise.resolve(words.join(""));
  },
});

const counted = defineAsset({
  name: "counted",
  deps: { letters },
  codeVersion: "1",
  defaultSelected: true,
  io: jsonIO<string>(),
  params: (ctx) => ({ unit: ctx.params.unit }),
  compute({ letters }, ctx) {
    ctx.resources.toy.computed.push("counted");
    return Promise.resolve(`${letters.length} ${ctx.params.unit}`);
  },
});

/** The local state, except that the entries of `elsewhere` report their files missing. */
function splitState(dir: string, elsewhere: Set<string>): StateStore {
  const local = localState(dir);
  return {
    ...local,
    async openEntry(partition, asset, options) {
      const opened = await local.openEntry(partition, asset, options);
      return opened.entry && elsewhere.has(asset)
        ? { entry: opened.entry, missing: "its files are on another machine" }
        : opened;
    },
  };
}

Deno.test("materializer: entries whose files are elsewhere are computed again only when read", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const toy: Toy = { words: ["ab", "cde"], computed: [], previousSeen: [] };
    const elsewhere = new Set<string>();
    const run = (unit: string, command?: "plan") =>
      materialize({
        assets: [counted, letters, words],
        partitions: ["2021-01-01"],
        resources: { toy },
        params: { unit },
        state: splitState(dir, elsewhere),
        command,
      });

    await t.step("a first run computes everything", async () => {
      const result = await run("letters");
      assert.equal(result.partitions[0].status, "materialized");
      assert.deepEqual(toy.computed, ["words", "letters", "counted"]);
    });

    await t.step("files elsewhere, nothing to do: nothing computed or read", async () => {
      elsewhere.add("letters");
      toy.computed.length = 0;
      const result = await run("letters");
      assert.equal(result.partitions[0].status, "up to date");
      assert.deepEqual(result.partitions[0].assets.map((a) => a.status), [
        "up to date",
        "up to date",
        "up to date",
      ]);
      assert.deepEqual(toy.computed, []);
      const plan = await run("letters", "plan");
      assert.deepEqual(plan.partitions[0].assets.map((a) => a.status), [
        "up to date",
        "up to date",
        "up to date",
      ]);
    });

    await t.step("a downstream that must compute gets the value computed again here", async () => {
      toy.computed.length = 0;
      const result = await run("chars");
      assert.deepEqual(
        result.partitions[0].assets.map((a) => [a.asset, a.status, a.reasons]),
        [
          ["words", "up to date", []],
          ["letters", "materialized", ["its files are on another machine"]],
          ["counted", "materialized", ["parameter unit changed"]],
        ],
      );
      // words is read from its manifest; letters is not built on the entry it cannot read.
      assert.deepEqual(toy.computed, ["letters", "counted"]);
      assert.deepEqual(toy.previousSeen, []);
      assert.equal(result.partitions[0].status, "materialized");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
