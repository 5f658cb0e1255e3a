/**
 * A day that keeps arriving: after each arrival (one object, several, a
 * late row, a duplicate of an earlier object's row, an object sorting first,
 * a changed or removed object), a run on the day's cache gives the bytes of
 * a from-scratch run in a fresh cache, on the single-threaded, parallel and
 * spilling paths; the asset line, the run record and `plan` say whether the
 * run was incremental, or why it was full.
 */

import assert from "node:assert/strict";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import { csv, materializeArgs, row, runCli, withTempDir, writeObjects } from "./_helpers.ts";
import { collidingIds } from "./_collisions.ts";

const DATE = "2021-01-30";
const DAY = "2021/01/30";

/** What a run of the cache left: the published CSV and deduped_impressions' entry. */
async function outcome(bucket: string, cache: string, initials: string) {
  const entry = `${cache}/${DATE}/deduped_impressions`;
  const value = JSON.parse(await Deno.readTextFile(`${entry}/manifest.json`)).value;
  return {
    csv: await Deno.readTextFile(`${bucket}/results/${DAY}/daily_agg_20210130_${initials}.csv`),
    hours: await rowsFile(entry, value.keys.rows, "hours"),
    campaigns: await rowsFile(entry, value.keys.rows, "campaigns"),
    kept: await rowsFile(entry, value.keys.rows, "kept"),
    value: {
      rows: value.rows,
      campaignIds: value.campaignIds,
      dayObjects: value.dayObjects,
      stats: value.stats,
      invalid: value.invalid,
      objects: value.objects.map((o: { key: string }) => o.key),
    },
  };
}

/** One per-row column of an entry: its files (one per run that added rows) one after another. */
async function rowsFile(entry: string, chunks: number[], column: string): Promise<Uint8Array> {
  const parts = await Promise.all(
    chunks.map((n) =>
      Deno.readFile(n === 0 ? `${entry}/${column}.bin` : `${entry}/rows/${column}-${n}.bin`)
    ),
  );
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An asset's metadata (deduped_impressions' by default) in the newest run record of `cache`. */
async function recordedMetadata(
  cache: string,
  asset = "deduped_impressions",
): Promise<Record<string, unknown>> {
  const names = [...Deno.readDirSync(`${cache}/runs`)].map((e) => e.name).sort();
  const record = JSON.parse(await Deno.readTextFile(`${cache}/runs/${names.at(-1)}`));
  return record.partitions[0].assets.find((a: { asset: string }) => a.asset === asset).metadata;
}

/** One arrival: what changes in the bucket, and what the run must say. */
interface Step {
  name: string;
  apply(bucket: string, source: string): Promise<void>;
  /** `incremental: N new object(s)` or `full: REASON`. */
  expect: string;
}

async function copyPart(source: string, bucket: string, name: string): Promise<void> {
  await Deno.mkdir(`${bucket}/${DAY}`, { recursive: true });
  await Deno.copyFile(`${source}/${DAY}/${name}`, `${bucket}/${DAY}/${name}`);
}

/** Line `n` of a synthetic part (0: the header). */
async function lineOf(source: string, name: string, n: number): Promise<string> {
  return (await Deno.readTextFile(`${source}/${DAY}/${name}`)).split("\n")[n];
}

const STEPS: Step[] = [
  {
    name: "the first object",
    apply: (bucket, source) => copyPart(source, bucket, "part-0000.csv"),
    expect: "full: no previous state",
  },
  {
    name: "one more object",
    apply: (bucket, source) => copyPart(source, bucket, "part-0001.csv"),
    expect: "incremental: 1 new object",
  },
  {
    name:
      "two at once: a late row, an invalid row, a repeated row, a duplicate of an earlier object's row",
    async apply(bucket, source) {
      await copyPart(source, bucket, "part-0002.csv");
      const header = await lineOf(source, "part-0000.csv", 0);
      const earlier = await lineOf(source, "part-0000.csv", 3);
      await Deno.writeTextFile(
        `${bucket}/${DAY}/part-0002x.csv`,
        [
          header,
          earlier,
          row("late-1", "2021-01-29 23:59:59", "77"),
          row("new-1", "2021-01-30 05:00:00", "987654"),
          row("new-1", "2021-01-30 05:00:00.000", "987654"),
          row("bad-1", "2021-01-30 25:00:00", "5"),
        ].join("\n") + "\n",
      );
    },
    expect: "incremental: 2 new objects",
  },
  {
    name: "a new object sorting first",
    apply: (bucket) =>
      writeObjects(bucket, {
        [`${DAY}/a-first.csv`]: csv(row("new-1", "2021-01-30 06:00:00", "9")),
      }),
    expect: `full: ${DAY}/a-first.csv is new and sorts before processed objects`,
  },
  {
    name: "one more after the full run",
    apply: (bucket, source) => copyPart(source, bucket, "part-0003.csv"),
    expect: "incremental: 1 new object",
  },
  {
    name: "a changed object",
    async apply(bucket) {
      const path = `${bucket}/${DAY}/part-0001.csv`;
      await Deno.writeTextFile(path, row("changed-1", "2021-01-30 07:00:00", "5") + "\n", {
        append: true,
      });
    },
    expect: `full: ${DAY}/part-0001.csv changed`,
  },
  {
    name: "two more",
    async apply(bucket, source) {
      await copyPart(source, bucket, "part-0004.csv");
      await copyPart(source, bucket, "part-0005.csv");
    },
    expect: "incremental: 2 new objects",
  },
  {
    name: "a removed object",
    apply: (bucket) => Deno.remove(`${bucket}/${DAY}/a-first.csv`),
    expect: `full: ${DAY}/a-first.csv removed`,
  },
];

for (
  const [path, flags] of [
    ["single-threaded", ["--workers", "0"]],
    ["parallel", ["--workers", "2"]],
    ["spilling", ["--workers", "2", "--memory-budget", "1MiB"]],
    ["spilling, single-threaded", ["--workers", "0", "--memory-budget", "1MiB"]],
  ] as const
) {
  Deno.test(`arrivals on the ${path} path give the bytes of a from-scratch run`, async (t) => {
    await withTempDir(async (dir) => {
      const source = `${dir}/source`, bucket = `${dir}/bucket`;
      await writeSyntheticDay({ root: source, date: DATE, rows: 36_000, files: 6, seed: 7 });
      const args = (command: string, cache: string, initials: string) => [
        command,
        ...materializeArgs(bucket, cache, initials).slice(1),
        "--max-invalid-rows",
        "10",
        "--select",
        "published_csv,published_parquet,hourly_device_counts",
        "--with-rows",
        ...flags,
      ];
      for (const [i, step] of STEPS.entries()) {
        await t.step(step.name, async () => {
          await step.apply(bucket, source);
          const plan = await runCli(args("plan", `${dir}/cache`, "I"));
          assert.equal(plan.code, 0, plan.stderr);
          const planned = plan.stdout.join("\n");
          assert.match(
            planned,
            new RegExp(`deduped_impressions: stale\\n(.*\\n)*    ${escape(step.expect)}`),
          );

          const run = await runCli(args("materialize", `${dir}/cache`, "I"));
          assert.equal(run.code, 0, run.stderr);
          const fresh = await runCli(args("materialize", `${dir}/fresh-${i}`, "F"));
          assert.equal(fresh.code, 0, fresh.stderr);
          const incremental = await outcome(bucket, `${dir}/cache`, "I");
          const scratch = await outcome(bucket, `${dir}/fresh-${i}`, "F");
          assert.equal(incremental.csv, scratch.csv);
          // Every published file (counts, rejected rows, parquet) and the device counts.
          for (
            const name of [
              "daily_agg_20210130_X.parquet",
              "impressions_20210130_X.parquet",
              "rejected_20210130_X.csv",
              "device_agg_20210130_X.csv",
            ]
          ) {
            const read = (initials: string) =>
              Deno.readFile(`${bucket}/results/${DAY}/${name.replace("X", initials)}`)
                .catch(() => "missing");
            assert.deepEqual(await read("I"), await read("F"), name);
          }
          const devices = async (cache: string) =>
            JSON.parse(
              await Deno.readTextFile(`${cache}/${DATE}/hourly_device_counts/manifest.json`),
            ).value;
          assert.deepEqual(
            (await devices(`${dir}/cache`)).counts,
            (await devices(`${dir}/fresh-${i}`)).counts,
          );
          assert.deepEqual(incremental.value, scratch.value);
          assert.deepEqual(incremental.hours, scratch.hours);
          assert.deepEqual(incremental.campaigns, scratch.campaigns);
          assert.deepEqual(incremental.kept, scratch.kept);

          const line = run.stderr.split("\n").find((l) => l.includes("deduped_impressions:"))!;
          const metadata = await recordedMetadata(`${dir}/cache`);
          const added = step.expect.match(/^incremental: (\d+)/);
          if (added) {
            assert.match(line, new RegExp(`incremental=true newObjects=${added[1]} newRows=\\d+`));
            assert.equal(metadata.incremental, true);
            assert.equal(metadata.newObjects, Number(added[1]));
            const objects = incremental.value.dayObjects.slice(-Number(added[1]));
            assert.equal(
              metadata.newRows,
              objects.reduce((n: number, o: { rows: number }) => n + o.rows, 0),
            );
          } else {
            const reason = step.expect.slice("full: ".length);
            assert.ok(line.includes(`incremental=false`), line);
            assert.ok(line.includes(` full: ${reason})`), line);
            assert.equal(metadata.incremental, false);
            assert.equal(metadata.full, reason);
          }
          assert.equal(typeof metadata.keyStateBytes, "number");
          // The counts add the new rows' to the cached ones after an incremental run.
          const counts = await recordedMetadata(`${dir}/cache`, "hourly_campaign_counts");
          assert.equal(counts.incremental, added !== null);
          if (added) assert.equal(counts.countedRows, metadata.newRows);
        });
      }
    });
  });
}

Deno.test("many small arrivals merge the key segments and stay exact", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const args = (cache: string, initials: string) => [
      ...materializeArgs(bucket, cache, initials),
      "--workers",
      "0",
    ];
    let segments: number[] = [];
    for (let i = 0; i < 11; i++) {
      const name = `${DAY}/part-${String(i).padStart(2, "0")}.csv`;
      await writeObjects(bucket, {
        [name]: csv(
          row(`id-${i}`, "2021-01-30 01:00:00", `${i % 3}`),
          row(`id-${i - 1}`, "2021-01-30 01:00:00", "100"),
          row(`id-${i - 1}`, "2021-01-30 02:00:00", "101"),
        ),
      });
      const run = await runCli(args(`${dir}/cache`, "I"));
      assert.equal(run.code, 0, run.stderr);
      const fresh = await runCli(args(`${dir}/fresh-${i}`, "F"));
      assert.equal(fresh.code, 0, fresh.stderr);
      const a = await outcome(bucket, `${dir}/cache`, "I");
      const b = await outcome(bucket, `${dir}/fresh-${i}`, "F");
      assert.equal(a.csv, b.csv);
      assert.deepEqual(a.value, b.value);
      assert.deepEqual(a.kept, b.kept);
      const value = JSON.parse(
        await Deno.readTextFile(`${dir}/cache/${DATE}/deduped_impressions/manifest.json`),
      ).value;
      segments = value.keys.segments;
      assert.ok(segments.length <= 8, `${segments.length} segments`);
    }
    // 0 (full), 1..7 appended, 8 merged into one, then 9 and 10 appended.
    assert.deepEqual(segments, [8, 9, 10]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("without the cached key records (a fresh machine's scratch), the run is full", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const args = (cache: string, initials: string) => materializeArgs(bucket, cache, initials);
    await writeObjects(bucket, { [`${DAY}/a.csv`]: csv(row("x", "2021-01-30 01:00:00", "1")) });
    assert.equal((await runCli(args(`${dir}/cache`, "I"))).code, 0);
    await Deno.remove(`${dir}/cache/${DATE}/deduped_impressions/dedupe`, { recursive: true });
    await writeObjects(bucket, {
      [`${DAY}/b.csv`]: csv(
        row("x", "2021-01-30 01:00:00", "1"),
        row("y", "2021-01-30 02:00:00", "1"),
      ),
    });
    const run = await runCli(args(`${dir}/cache`, "I"));
    assert.equal(run.code, 0, run.stderr);
    const metadata = await recordedMetadata(`${dir}/cache`);
    assert.equal(metadata.incremental, false);
    assert.equal(metadata.full, "no previous state");
    assert.equal((await runCli(args(`${dir}/fresh`, "F"))).code, 0);
    assert.equal(
      (await outcome(bucket, `${dir}/cache`, "I")).csv,
      (await outcome(bucket, `${dir}/fresh`, "F")).csv,
    );
  });
});

Deno.test("a key state file cut short (another writer, a full disk) makes the run full, not wrong", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const args = (cache: string, initials: string) => materializeArgs(bucket, cache, initials);
    await writeObjects(bucket, {
      [`${DAY}/a.csv`]: csv(
        row("x", "2021-01-30 01:00:00", "1"),
        row("z", "2021-01-30 03:00:00", "2"),
      ),
    });
    assert.equal((await runCli(args(`${dir}/cache`, "I"))).code, 0);
    // The segment loses its last record's id word: a later x must still be found as a duplicate.
    const segment = `${dir}/cache/${DATE}/deduped_impressions/dedupe/keys-0.bin`;
    const size = (await Deno.stat(segment)).size;
    await Deno.truncate(segment, size - 4);
    await writeObjects(bucket, {
      [`${DAY}/b.csv`]: csv(
        row("x", "2021-01-30 01:00:00", "1"),
        row("z", "2021-01-30 03:00:00", "2"),
        row("y", "2021-01-30 02:00:00", "1"),
      ),
    });
    const run = await runCli(args(`${dir}/cache`, "I"));
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await recordedMetadata(`${dir}/cache`)).incremental, false);
    assert.equal((await runCli(args(`${dir}/fresh`, "F"))).code, 0);
    assert.equal(
      (await outcome(bucket, `${dir}/cache`, "I")).csv,
      (await outcome(bucket, `${dir}/fresh`, "F")).csv,
    );
  });
});

Deno.test("ids whose hashes collide with earlier objects' are told apart by their bytes", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const ids = collidingIds(4, 5); // 16 ids, equal hashes at any instant
    const at = "2021-01-30 03:00:00";
    const args = (cache: string, initials: string, ...flags: string[]) => [
      ...materializeArgs(bucket, cache, initials),
      ...flags,
    ];
    for (const flags of [[], ["--memory-budget", "1MiB"]]) {
      await Deno.remove(bucket, { recursive: true }).catch(() => {});
      const cache = `${dir}/cache-${flags.length}`;
      for (let i = 0; i < 4; i++) {
        // Each object: four new colliding ids, and one id of the object before again.
        const rows = ids.slice(i * 4, i * 4 + 4).map((id) => row(id, at, "1"));
        if (i > 0) rows.push(row(ids[i * 4 - 1], at, "1"));
        await writeObjects(bucket, { [`${DAY}/part-${i}.csv`]: csv(...rows) });
        const run = await runCli(args(cache, "I", ...flags));
        assert.equal(run.code, 0, run.stderr);
        const metadata = await recordedMetadata(cache);
        assert.equal(metadata.incremental, i > 0);
        assert.equal(metadata.rowsOut, (i + 1) * 4);
        assert.equal(metadata.duplicates, i);
        const fresh = await runCli(args(`${dir}/fresh-${flags.length}-${i}`, "F", ...flags));
        assert.equal(fresh.code, 0, fresh.stderr);
        const a = await outcome(bucket, cache, "I");
        const b = await outcome(bucket, `${dir}/fresh-${flags.length}-${i}`, "F");
        assert.deepEqual(a.kept, b.kept);
        assert.equal(a.csv, b.csv);
      }
    }
  });
});
