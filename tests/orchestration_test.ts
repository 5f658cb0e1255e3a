/**
 * Orchestration: backfills, selection, plan, checks, run records,
 * profiles, clean, graph, log formats.
 */

import { localState } from "../materializer/state.ts";
import assert from "node:assert/strict";
import { ASSETS, rawPartition } from "../assets/mod.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { createLogger } from "../materializer/log.ts";
import { materializePartition } from "../materializer/materialize.ts";
import { openLocalBucket } from "../resources/local_bucket.ts";
import type { Bucket } from "../resources/storage.ts";
import { csv, row, runCli, testParams, withTempDir, writeObjects } from "./_helpers.ts";

function day(date: string, ...rows: string[]): Record<string, string> {
  return { [`${date.replaceAll("-", "/")}/a.csv`]: csv(...rows) };
}

function args(dir: string, ...extra: string[]): string[] {
  return ["--bucket", `${dir}/b`, "--initials", "T", "--cache-dir", `${dir}/c`, ...extra];
}

Deno.test("backfill: a failing date does not stop the others, and a rerun resumes", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      ...day("2021-01-01", row("a", "2021-01-01 01:00:00", "1")),
      ...day("2021-01-02", row("b", "2021-01-02 99:00:00", "1")),
      ...day("2021-01-03", row("c", "2021-01-03 03:00:00", "1")),
    });
    const range = ["materialize", "--from", "2021-01-01", "--to", "2021-01-04", ...args(dir)];
    const first = await runCli(range);
    assert.equal(first.code, 1);
    assert.deepEqual(first.stdout, [
      `file://${dir}/b/results/2021/01/01/daily_agg_20210101_T.csv`,
      `file://${dir}/b/results/2021/01/03/daily_agg_20210103_T.csv`,
    ]);
    const table = first.stderr.slice(first.stderr.lastIndexOf("date "));
    assert.equal(
      table,
      [
        "date        status        reason",
        "2021-01-01  materialized",
        '2021-01-02  failed        2021/01/02/a.csv line 2, column IMPRESSION_DATETIME: hour 99 is out of range (value "2021-01-02 99:00:00")',
        `2021-01-03  materialized`,
        `2021-01-04  failed        no CSV objects under file://${dir}/b/2021/01/04/`,
      ].join("\n"),
    );
    await writeObjects(`${dir}/b`, {
      ...day("2021-01-02", row("b", "2021-01-02 09:00:00", "1")),
      ...day("2021-01-04", row("d", "2021-01-04 04:00:00", "1")),
    });
    const resumed = await runCli(range);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(
      resumed.stderr,
      /2021-01-01 {2}up to date\n2021-01-02 {2}materialized\n2021-01-03 {2}up to date\n2021-01-04 {2}materialized/,
    );
  });
});

Deno.test("--fail-fast stops starting dates after the first failure", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, day("2021-01-02", row("a", "2021-01-02 01:00:00", "1")));
    const r = await runCli([
      "materialize",
      "--from",
      "2021-01-01",
      "--to",
      "2021-01-03",
      "--parallel",
      "1",
      "--fail-fast",
      ...args(dir),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /2021-01-02 {2}failed +not run \(--fail-fast\)/);
    assert.match(r.stderr, /2021-01-03 {2}failed +not run \(--fail-fast\)/);
  });
});

Deno.test("selection: name, +name, name+, a,b and unknown names", async (t) => {
  const graph = createGraph(ASSETS);
  const names = (sel?: string[]) => selectAssets(graph, sel).map((a) => a.name);
  await t.step("default is published_csv with its upstreams", () => {
    assert.deepEqual(names(), [
      "raw_partition",
      "deduped_impressions",
      "hourly_campaign_counts",
      "published_csv",
    ]);
  });
  await t.step("name and +name take upstreams", () => {
    assert.deepEqual(names(["deduped_impressions"]), ["raw_partition", "deduped_impressions"]);
    assert.deepEqual(names(["+deduped_impressions"]), names(["deduped_impressions"]));
  });
  await t.step("name+ takes downstreams", () => {
    const selected = names(["hourly_campaign_counts+"]);
    assert.ok(selected.includes("published_csv"));
    assert.ok(selected.indexOf("hourly_campaign_counts") < selected.indexOf("published_csv"));
  });
  await t.step("a,b", () => {
    assert.deepEqual(names(["raw_partition,deduped_impressions"]), [
      "raw_partition",
      "deduped_impressions",
    ]);
  });
  await t.step("unknown names are a usage error listing the known ones", async () => {
    const r = await runCli([
      "materialize",
      "--date",
      "2021-01-30",
      "--select",
      "nope",
      "--bucket",
      "./x",
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^usage error: unknown asset "nope"; known assets: raw_partition, deduped_impressions, hourly_campaign_counts, published_csv/,
    );
  });
  await t.step("--select reuses cached upstreams", async () => {
    await withTempDir(async (dir) => {
      await writeObjects(`${dir}/b`, day("2021-01-30", row("a", "2021-01-30 01:00:00", "1")));
      const first = await runCli([
        "materialize",
        "--date",
        "2021-01-30",
        "--select",
        "deduped_impressions",
        ...args(dir),
      ]);
      assert.equal(first.code, 0);
      assert.deepEqual(first.stdout, []);
      assert.doesNotMatch(first.stderr, /hourly_campaign_counts/);
      const second = await runCli([
        "materialize",
        "--date",
        "2021-01-30",
        "--select",
        "published_csv",
        ...args(dir),
      ]);
      assert.match(second.stderr, /raw_partition: up to date/);
      assert.match(second.stderr, /deduped_impressions: up to date/);
      assert.match(second.stderr, /published_csv: materialized/);
    });
  });
});

/** A bucket that counts GetObject calls. */
function counting(bucket: Bucket): Bucket & { gets: number } {
  const counted = {
    ...bucket,
    gets: 0,
    get(key: string, options?: Parameters<Bucket["get"]>[1]) {
      counted.gets++;
      return bucket.get(key, options);
    },
  };
  return counted;
}

Deno.test("plan says what would happen and why, and downloads nothing", async (t) => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")),
      "2021/01/30/b.csv": csv(row("b", "2021-01-30 01:00:00", "1")),
    });
    const plan = () => runCli(["plan", "--date", "2021-01-30", ...args(dir)]);
    await t.step("never materialized", async () => {
      const r = await plan();
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout.join("\n"),
        [
          "2021-01-30",
          "  raw_partition: stale",
          "    never materialized",
          "  deduped_impressions: stale",
          "    never materialized",
          "    full: no previous state",
          "  hourly_campaign_counts: stale",
          "    never materialized",
          "  published_csv: stale",
          "    never materialized",
        ].join("\n"),
      );
      await assert.rejects(Deno.stat(`${dir}/c/2021-01-30`), Deno.errors.NotFound);
    });
    await runCli(["materialize", "--date", "2021-01-30", ...args(dir)]);
    await t.step("up to date", async () => {
      const r = await plan();
      assert.deepEqual(r.stdout.join("\n").match(/: \w[\w ]*/g), [
        ": up to date",
        ": up to date",
        ": up to date",
        ": up to date",
      ]);
    });
    await t.step("added, changed and removed objects", async () => {
      await writeObjects(`${dir}/b`, {
        "2021/01/30/a.csv": csv(row("a", "2021-01-30 02:00:00", "1")),
        "2021/01/30/c.csv": csv(row("c", "2021-01-30 01:00:00", "1")),
      });
      await Deno.remove(`${dir}/b/2021/01/30/b.csv`);
      const r = await plan();
      assert.equal(
        r.stdout.join("\n"),
        [
          "2021-01-30",
          "  raw_partition: stale",
          "    added: 2021/01/30/c.csv",
          "    changed: 2021/01/30/a.csv",
          "    removed: 2021/01/30/b.csv",
          "  deduped_impressions: stale",
          "    upstream raw_partition is stale",
          "    full: 2021/01/30/a.csv changed",
          "  hourly_campaign_counts: stale",
          "    upstream deduped_impressions is stale",
          "  published_csv: stale",
          "    upstream hourly_campaign_counts is stale",
        ].join("\n"),
      );
    });
    await t.step("code version changed, with zero GetObject calls", async () => {
      const bucket = counting(await openLocalBucket({ root: `${dir}/b` }));
      const selection = selectAssets(createGraph(ASSETS), undefined).map((a) =>
        a === rawPartition ? { ...a, codeVersion: "9" } : a
      );
      const outcome = await materializePartition({
        selection,
        partition: "2021-01-30",
        state: localState(`${dir}/c`),
        resources: { bucket },
        params: testParams({ initials: "T" }),
        log: createLogger({ write: () => {} }),
        plan: true,
      });
      assert.deepEqual(outcome.assets[0].reasons.slice(0, 1), ["code version changed (1 -> 9)"]);
      assert.equal(bucket.gets, 0);
    });
  });
});

Deno.test("checks: warn thresholds are reported, error checks block publication", async (t) => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      "2021/01/30/a.csv": csv(
        row("a", "2021-01-30 01:00:00", "1"),
        row("a", "2021-01-30 01:00:00", "1"),
        row("b", "2021-01-29 23:00:00", "1"),
      ),
    });
    await t.step("warn checks with thresholds from the profile", async () => {
      await Deno.writeTextFile(
        `${dir}/pipeline.config.json`,
        JSON.stringify({
          profiles: { strict: { thresholds: { duplicate_share: 0.1, late_rows: 0.9 } } },
        }),
      );
      const r = await runCli([
        "materialize",
        "--date",
        "2021-01-30",
        "--config",
        `${dir}/pipeline.config.json`,
        "--profile",
        "strict",
        ...args(dir),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /\[warn duplicate_share: 33\.33% of rows are duplicates \(limit 10%\)\]/,
      );
      assert.doesNotMatch(r.stderr, /warn late_rows/);
      const [record] = await Array.fromAsync(Deno.readDir(`${dir}/c/runs`));
      const run = JSON.parse(await Deno.readTextFile(`${dir}/c/runs/${record.name}`));
      const checks = run.partitions[0].assets[1].checks;
      assert.deepEqual(checks.map((c: { name: string; passed: boolean }) => [c.name, c.passed]), [
        ["duplicate_share", false],
        ["late_rows", true],
        ["volume_drop", true],
      ]);
    });
    await t.step("a failing error check blocks downstream assets", async () => {
      await writeObjects(`${dir}/b`, { "2021/01/31/a.csv": "IMPRESSION_ID,CAMPAIGN_ID\nx,1\n" });
      const r = await runCli(["materialize", "--date", "2021-01-31", ...args(dir)]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /deduped_impressions: skipped in 0\.00 s: blocked by failed check raw_partition\.required_columns/,
      );
      assert.match(r.stderr, /published_csv: skipped/);
      await assert.rejects(Deno.stat(`${dir}/b/results/2021/01/31`), Deno.errors.NotFound);
    });
    await t.step("a day with far fewer rows than the days before warns", async () => {
      for (const date of ["2021-02-01", "2021-02-02", "2021-02-03"]) {
        const rows = Array.from(
          { length: 10 },
          (_, i) => row(`${date}-${i}`, `${date} 01:00:00`, "1"),
        );
        await writeObjects(`${dir}/b`, day(date, ...rows));
      }
      await writeObjects(`${dir}/b`, day("2021-02-04", row("z", "2021-02-04 01:00:00", "1")));
      const r = await runCli([
        "materialize",
        "--from",
        "2021-02-01",
        "--to",
        "2021-02-04",
        "--parallel",
        "1",
        ...args(dir),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /\[2021-02-04\] deduped_impressions: .*\[warn volume_drop: 1 rows vs median 10 of 4 earlier days \(90% fewer; limit 50%\)\]/,
      );
    });
  });
});

Deno.test("run records: written per run, listed, shown, without secrets", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, day("2021-01-30", row("a", "2021-01-30 01:00:00", "1")));
    const r = await runCli(["materialize", "--date", "2021-01-30", ...args(dir)]);
    assert.equal(r.code, 0);
    const list = await runCli(["runs", "--cache-dir", `${dir}/c`]);
    assert.equal(list.code, 0);
    const lines = list.stdout.join("\n").split("\n");
    assert.match(lines[0], /^run +command +started +seconds +dates +status$/);
    const runId = lines[1].split(" ")[0];
    assert.match(lines[1], /materialize .* 2021-01-30 +success$/);
    const shown = await runCli(["runs", "show", runId, "--cache-dir", `${dir}/c`]);
    const record = JSON.parse(shown.stdout.join("\n"));
    assert.equal(record.format, "impressions-run/1");
    assert.equal(record.runId, runId);
    assert.deepEqual(record.flags, {
      date: "2021-01-30",
      bucket: `${dir}/b`,
      initials: "T",
      "cache-dir": `${dir}/c`,
    });
    assert.deepEqual(
      record.partitions[0].assets.map((
        a: { asset: string; status: string },
      ) => [a.asset, a.status]),
      [
        ["raw_partition", "materialized"],
        ["deduped_impressions", "materialized"],
        ["hourly_campaign_counts", "materialized"],
        ["published_csv", "materialized"],
      ],
    );
    assert.equal(record.partitions[0].assets[1].metadata.rowsIn, 1);
    const secret = await runCli([
      "materialize",
      "--date",
      "2021-01-30",
      "--endpoint-url",
      "http://user:s3cr3t-pass@127.0.0.1:9",
      ...args(dir),
    ]);
    assert.equal(secret.code, 0);
    const text = (await Array.fromAsync(Deno.readDir(`${dir}/c/runs`)))
      .map((e) => Deno.readTextFileSync(`${dir}/c/runs/${e.name}`)).join("");
    assert.ok(!text.includes("s3cr3t-pass"));
    assert.ok(text.includes("http://***@127.0.0.1:9"));
  });
});

Deno.test("profiles: flags, then env vars, then the profile, then defaults", async (t) => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, day("2021-01-30", row("a", "2021-01-30 01:00:00", "1")));
    const config = `${dir}/pipeline.config.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        profiles: { default: { initials: "PROFILE", bucket: `${dir}/b`, cacheDir: `${dir}/c` } },
      }),
    );
    const base = ["materialize", "--date", "2021-01-30", "--config", config];
    await t.step("profile over default", async () => {
      const r = await runCli(base);
      assert.match(r.stdout[0], /_PROFILE\.csv$/);
    });
    await t.step("env over profile", async () => {
      const r = await runCli(base, { env: { IMPRESSIONS_INITIALS: "ENV" } });
      assert.match(r.stdout[0], /_ENV\.csv$/);
    });
    await t.step("flag over env", async () => {
      const r = await runCli([...base, "--initials", "FLAG"], {
        env: { IMPRESSIONS_INITIALS: "ENV" },
      });
      assert.match(r.stdout[0], /_FLAG\.csv$/);
    });
    await t.step("bad profile values name the key", async () => {
      await Deno.writeTextFile(
        config,
        JSON.stringify({ profiles: { default: { initials: "a b" } } }),
      );
      const r = await runCli(base);
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr.split("\n")[0],
        `usage error: config ${config}: profiles.default.initials: must match [A-Za-z0-9_-]{1,32}`,
      );
      await Deno.writeTextFile(config, JSON.stringify({ profiles: { default: { bukket: "x" } } }));
      const unknown = await runCli(base);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /profiles\.default: Unrecognized key: "bukket"/);
    });
    await t.step("an unknown profile lists the known ones", async () => {
      await Deno.writeTextFile(config, JSON.stringify({ profiles: { default: {} } }));
      const r = await runCli([...base, "--profile", "prod"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /has no profile "prod"; profiles: default/);
    });
  });
});

Deno.test("clean removes date folders only", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      ...day("2021-01-30", row("a", "2021-01-30 01:00:00", "1")),
      ...day("2021-01-31", row("a", "2021-01-31 01:00:00", "1")),
    });
    await runCli(["materialize", "--from", "2021-01-30", "--to", "2021-01-31", ...args(dir)]);
    await Deno.writeTextFile(`${dir}/c/warehouse.sqlite`, "keep");
    const one = await runCli(["clean", "--date", "2021-01-30", "--cache-dir", `${dir}/c`]);
    assert.equal(one.stderr, "removed: 2021-01-30");
    const old = await runCli(["clean", "--older-than", "1h", "--cache-dir", `${dir}/c`], {
      now: new Date(Date.now() + 2 * 3_600_000),
    });
    assert.equal(old.stderr, "removed: 2021-01-31");
    const left = [...Deno.readDirSync(`${dir}/c`)].map((e) => e.name).sort();
    assert.deepEqual(left, ["locks", "runs", "warehouse.sqlite"]);
    const bad = await runCli(["clean", "--older-than", "30x"]);
    assert.equal(bad.code, 2);
  });
});

Deno.test("graph prints text and Mermaid", async () => {
  const r = await runCli(["graph", "--format", "mermaid"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout[0].split("\n")[0], "flowchart LR");
  assert.ok(r.stdout[0].includes("  raw_partition --> deduped_impressions"));
  assert.ok(r.stdout[0].includes("  hourly_campaign_counts --> published_csv"));
});

Deno.test("log formats: json lines and --quiet", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, day("2021-01-30", row("a", "2021-01-30 01:00:00", "1")));
    const json = await runCli([
      "materialize",
      "--date",
      "2021-01-30",
      "--log-format",
      "json",
      ...args(dir),
    ]);
    const events = json.stderr.split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      events.filter((e) => e.event === "asset").map((e) => [e.asset, e.status, e.date]),
      [
        ["raw_partition", "materialized", "2021-01-30"],
        ["deduped_impressions", "materialized", "2021-01-30"],
        ["hourly_campaign_counts", "materialized", "2021-01-30"],
        ["published_csv", "materialized", "2021-01-30"],
      ],
    );
    const quiet = await runCli([
      "materialize",
      "--date",
      "2021-01-30",
      "--quiet",
      "--force",
      ...args(dir),
    ]);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, "");
    assert.equal(quiet.stdout.length, 1);
  });
});
