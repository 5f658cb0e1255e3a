/**
 * State on S3 (`--state s3://...`), in process, against a moto server that
 * honours conditional writes: stateless workers, the probe that refuses a
 * store without conditional PUTs, leases naming their holder, run records.
 */

import assert from "node:assert/strict";
import { runCli, withTempDir } from "./_helpers.ts";
import { MOTO_MISSING, startMotoS3 } from "./_moto_server.ts";
import { startTestS3 } from "./_s3_server.ts";
import { days, resultKey, seedDays, workerArgs } from "./_shared_state.ts";
import { openObjectStore } from "../resources/s3_objects.ts";
import { acquireLease, LeaseRenewer, readLease } from "../resources/s3_lease.ts";

async function listDir(path: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) {
      if (entry.isDirectory) {
        for (const inner of await listDir(`${path}/${entry.name}`)) {
          out.push(`${entry.name}/${inner}`);
        }
      } else out.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

Deno.test({
  name: "shared state: a store that ignores If-None-Match is refused before anything runs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startTestS3();
    try {
      s3.createBucket("data");
      s3.createBucket("state");
      await seedDays(s3, "data", ["2021-01-30"]);
      await withTempDir(async (dir) => {
        const r = await runCli(
          workerArgs({ endpoint: s3.endpoint, cacheDir: `${dir}/c`, dates: ["2021-01-30"] }),
        );
        assert.equal(r.code, 1, r.stderr);
        assert.match(
          r.stderr,
          /^error: the store behind s3:\/\/state\/team does not honour If-None-Match on PUT/m,
        );
        assert.equal(await s3.text("data", resultKey("2021-01-30")), null);
      });
    } finally {
      await s3.stop();
    }
  },
});

Deno.test({
  name: "shared state on S3: a fresh machine skips what is up to date without downloading",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startMotoS3();
    try {
      await s3.createBucket("data");
      await s3.createBucket("state");
      const dates = days("2021-01-01", 3);
      await seedDays(s3, "data", dates);
      await withTempDir(async (dir) => {
        const base = { endpoint: s3.endpoint, dates };
        await t.step("a first worker materializes every date", async () => {
          const r = await runCli(workerArgs({ ...base, cacheDir: `${dir}/one` }));
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout.length, 3);
          assert.match(r.stderr, /2021-01-01 +materialized +this run/);
          assert.ok(await s3.text("state", "team/2021-01-01/raw_partition/manifest.json"));
          const format = await s3.text("state", "team/format.json");
          assert.deepEqual(JSON.parse(format!), { format: "impressions-state", version: 1 });
        });
        await t.step("remote manifests hold no local paths", async () => {
          for (const asset of ["raw_partition", "deduped_impressions", "published_csv"]) {
            const text = await s3.text("state", `team/2021-01-02/${asset}/manifest.json`);
            assert.ok(text && !text.includes(dir), `${asset} names a local path`);
          }
        });
        await t.step(
          "a fresh machine finds every date up to date and downloads nothing",
          async () => {
            const r = await runCli(workerArgs({ ...base, cacheDir: `${dir}/two` }));
            assert.equal(r.code, 0, r.stderr);
            assert.doesNotMatch(r.stderr, /: materialized/);
            for (const date of dates) assert.match(r.stderr, new RegExp(`${date} +up to date`));
            const files = await listDir(`${dir}/two`);
            assert.deepEqual(files.filter((f) => f.includes("raw_partition")), []);
          },
        );
        await t.step("a lost result is put back from the manifests alone", async () => {
          const before = await s3.text("data", resultKey("2021-01-02"));
          await s3.remove("data", resultKey("2021-01-02"));
          const r = await runCli(workerArgs({ ...base, cacheDir: `${dir}/three` }));
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /published_csv: materialized/);
          assert.doesNotMatch(r.stderr, /raw_partition: materialized/);
          assert.equal(await s3.text("data", resultKey("2021-01-02")), before);
          const files = await listDir(`${dir}/three`);
          assert.deepEqual(files.filter((f) => f.includes("raw_partition")), []);
        });
        await t.step("runs --format json lists the records from the state", async () => {
          const r = await runCli([
            "runs",
            "--state",
            "s3://state/team",
            "--endpoint-url",
            s3.endpoint,
            "--format",
            "json",
          ]);
          assert.equal(r.code, 0, r.stderr);
          const records = JSON.parse(r.stdout.join("\n"));
          assert.equal(records.length, 3);
          assert.ok(records.every((x: { format: string }) => x.format === "impressions-run/1"));
          assert.ok(records[0].runId > records[1].runId);
        });
        await t.step("report and plan read the shared state", async () => {
          const out = `${dir}/report.html`;
          const r = await runCli([
            "report",
            "--from",
            dates[0],
            "--to",
            dates[2],
            "--state",
            "s3://state/team",
            "--endpoint-url",
            s3.endpoint,
            "--cache-dir",
            `${dir}/empty`,
            "--out",
            out,
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /3 of 3 dates with data, 3 runs; heatmap of 2021-01-03$/);
          const plan = await runCli([
            "plan",
            ...workerArgs({ ...base, cacheDir: `${dir}/empty` }).slice(1),
          ]);
          assert.equal(plan.code, 0, plan.stderr);
          assert.doesNotMatch(plan.stdout.join("\n"), /stale/);
        });
        await t.step("insights reads the dedupe figures from the shared state", async () => {
          const warehouse = `${dir}/warehouse.sqlite`;
          const loaded = await runCli(
            workerArgs({
              ...base,
              cacheDir: `${dir}/wh`,
              extra: ["--select", "warehouse_hourly_counts", "--warehouse", warehouse],
            }),
          );
          assert.equal(loaded.code, 0, loaded.stderr);
          const insights = (state: string[]) =>
            runCli([
              "insights",
              "--from",
              dates[0],
              "--to",
              dates[2],
              "--warehouse",
              warehouse,
              "--cache-dir",
              `${dir}/empty`,
              "--format",
              "json",
              ...state,
            ]);
          const shared = await insights([
            "--state",
            "s3://state/team",
            "--endpoint-url",
            s3.endpoint,
          ]);
          assert.equal(shared.code, 0, shared.stderr);
          const days = JSON.parse(shared.stdout.join("\n")).days;
          assert.equal(days.length, 3);
          assert.ok(
            days.every((d: { duplicates: number | null }) => d.duplicates === 1),
            JSON.stringify(days),
          );
          // Without --state the empty cache dir knows nothing of them.
          const local = await insights([]);
          assert.ok(
            JSON.parse(local.stdout.join("\n")).days.every((d: { duplicates: unknown }) =>
              d.duplicates === null
            ),
          );
        });
        await t.step(
          "a date held by a live lease fails a single-date run, naming the holder",
          async () => {
            const objects = await openObjectStore({
              uri: "s3://state/team",
              endpoint: s3.endpoint,
            });
            const lease = await acquireLease(objects, {
              date: "2021-01-03",
              runId: "other-run",
              ttlMs: 5000,
              wait: false,
            });
            try {
              const r = await runCli(
                workerArgs({ ...base, dates: ["2021-01-03"], cacheDir: `${dir}/four` }),
              );
              assert.equal(r.code, 1, r.stderr);
              assert.match(
                r.stderr,
                /date 2021-01-03 is locked by run other-run, process \d+ on .+ since .+ \(lease expires .+ unless renewed\)/,
              );
              const leases = await runCli([
                "leases",
                "--state",
                "s3://state/team",
                "--endpoint-url",
                s3.endpoint,
              ]);
              assert.equal(leases.code, 0, leases.stderr);
              assert.match(leases.stdout.join("\n"), /2021-01-03 +held +other-run/);
            } finally {
              await lease.release();
              objects.close();
            }
          },
        );
      });
    } finally {
      await s3.stop();
    }
  },
});

Deno.test({
  name: "shared state: newer formats are refused, untrusted manifests never misread, tidy-up",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startMotoS3();
    try {
      await s3.createBucket("data");
      await s3.createBucket("state");
      const dates = days("2021-02-01", 2);
      await seedDays(s3, "data", dates);
      await withTempDir(async (dir) => {
        const base = { endpoint: s3.endpoint, dates };
        const state = (prefix: string) => ["--state", `s3://state/${prefix}`];
        await t.step("state written in a newer format is refused, naming the version", async () => {
          await s3.put("state", {
            "newer/format.json": JSON.stringify({ format: "impressions-state", version: 2 }),
          });
          const r = await runCli(
            workerArgs({ ...base, cacheDir: `${dir}/a`, state: "s3://state/newer" }),
          );
          assert.equal(r.code, 1, r.stderr);
          assert.match(
            r.stderr,
            /^error: the state at s3:\/\/state\/newer has format version 2; this tool reads version 1/m,
          );
          assert.equal(await s3.text("data", resultKey(dates[0])), null);
        });
        await t.step(
          "a manifest naming a path outside its entry is recomputed, not followed",
          async () => {
            const first = await runCli(workerArgs({ ...base, cacheDir: `${dir}/b` }));
            assert.equal(first.code, 0, first.stderr);
            const key = `team/${dates[0]}/deduped_impressions/manifest.json`;
            const manifest = JSON.parse((await s3.text("state", key))!);
            manifest.files[0].name = "../../../../etc/passwd";
            await s3.put("state", { [key]: JSON.stringify(manifest) });
            const hourly = `team/${dates[0]}/hourly_campaign_counts/manifest.json`;
            await s3.put("state", { [hourly]: "{".repeat(10) }); // unreadable: recompute
            const r = await runCli(workerArgs({ ...base, cacheDir: `${dir}/c` }));
            assert.equal(r.code, 0, r.stderr);
            assert.match(
              r.stderr,
              new RegExp(`\\[${dates[0]}\\] deduped_impressions: materialized`),
            );
            const fixed = JSON.parse((await s3.text("state", key))!);
            assert.ok(fixed.files.every((f: { name: string }) => !f.name.includes("..")));
          },
        );
        await t.step(
          "leases release names the holder; clean --state removes a date's state",
          async () => {
            const objects = await openObjectStore({
              uri: "s3://state/team",
              endpoint: s3.endpoint,
            });
            const lease = await acquireLease(objects, {
              date: dates[1],
              runId: "stuck-run",
              ttlMs: 60_000,
              wait: false,
            });
            try {
              const args = [
                ...state("team"),
                "--endpoint-url",
                s3.endpoint,
                "--cache-dir",
                `${dir}/c`,
              ];
              const refused = await runCli(["clean", "--date", dates[1], ...args]);
              assert.equal(refused.code, 1, refused.stderr);
              assert.match(refused.stderr, /is locked by run stuck-run/);
              assert.ok(await s3.text("state", `team/${dates[1]}/raw_partition/manifest.json`));
              const released = await runCli(["leases", "release", dates[1], ...args]);
              assert.equal(released.code, 0, released.stderr);
              assert.match(
                released.stderr,
                new RegExp(
                  `^released the lease on ${dates[1]} held by run stuck-run, process \\d+ on `,
                ),
              );
              const listed = await runCli(["leases", ...args]);
              assert.match(
                listed.stdout.join("\n"),
                new RegExp(`${dates[1]} +released +stuck-run`),
              );
              const cleaned = await runCli(["clean", "--date", dates[1], ...args]);
              assert.equal(cleaned.code, 0, cleaned.stderr);
              assert.match(cleaned.stderr, new RegExp(`s3://state/team/${dates[1]}/`));
              assert.equal(
                await s3.text("state", `team/${dates[1]}/raw_partition/manifest.json`),
                null,
              );
              assert.ok(await s3.text("state", `team/${dates[0]}/raw_partition/manifest.json`));
            } finally {
              await lease.release();
              objects.close();
            }
          },
        );
      });
    } finally {
      await s3.stop();
    }
  },
});

Deno.test({
  name:
    "shared state: a main thread busy past the TTL does not lose its lease (renewed off-thread)",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startMotoS3();
    try {
      await s3.createBucket("state");
      const options = { uri: "s3://state/busy", endpoint: s3.endpoint };
      const objects = await openObjectStore(options);
      const renewer = new LeaseRenewer(options);
      try {
        const lease = await acquireLease(objects, {
          date: "2021-01-30",
          runId: "busy-run",
          ttlMs: 2000,
          wait: false,
          renewer,
        });
        // CPU-bound work on the main thread for longer than the TTL.
        const until = performance.now() + 3500;
        while (performance.now() < until) {
          // spin
        }
        lease.check(); // still held: the renewer thread kept renewing
        const seen = await readLease(objects, "2021-01-30");
        assert.equal(seen?.free, false);
        assert.equal(seen?.body.runId, "busy-run");
        await lease.release(true);
        const released = await readLease(objects, "2021-01-30");
        assert.equal(released?.free, true);
        assert.deepEqual(released?.body.done?.runId, "busy-run");
      } finally {
        renewer.close();
        objects.close();
      }
    } finally {
      await s3.stop();
    }
  },
});
