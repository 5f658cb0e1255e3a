/**
 * Many worker processes, one state on S3 (a moto server honouring
 * conditional writes): a cooperative backfill, a worker killed mid-date
 * whose date is taken over after its lease's TTL, and a worker stopped past
 * its TTL that, once continued, writes nothing more.
 */

import assert from "node:assert/strict";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { REPO, taskPermissions, withTempDir } from "./_helpers.ts";
import { MOTO_MISSING, startMotoS3 } from "./_moto_server.ts";
import type { TestS3 } from "./_s3_server.ts";
import {
  days,
  resultKey,
  seedDays,
  startWorker,
  waitForFile,
  type Worker,
  workerArgs,
} from "./_shared_state.ts";
import type { RunRecord } from "../materializer/runs.ts";

const MAIN = `${REPO}/main.ts`;
const TTL = ["--lease-ttl", "3s"];

function spawn(args: string[], env: Record<string, string> = {}): Worker {
  return startWorker(args, env, taskPermissions(), MAIN);
}

async function etags(s3: TestS3, bucket: string, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let token: string | undefined;
  do {
    const page = await s3.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out[o.Key!] = `${o.ETag} ${o.LastModified?.getTime()}`;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function runRecords(s3: TestS3, prefix: string): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (const key of Object.keys(await etags(s3, "state", `${prefix}/runs/`))) {
    records.push(JSON.parse((await s3.text("state", key))!));
  }
  return records;
}

/** How many times each date was `materialized` across run records. */
function materializedCounts(records: RunRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) {
    for (const p of record.partitions) {
      if (p.status === "materialized") counts[p.partition] = (counts[p.partition] ?? 0) + 1;
    }
  }
  return counts;
}

Deno.test({
  name: "shared state: worker processes split a backfill, kill and stop are survived",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startMotoS3();
    try {
      await s3.createBucket("data");
      await s3.createBucket("state");
      const all = days("2021-03-01", 16);
      const dates = all.slice(0, 12);
      const [killed, next, stoppedDate, termDate] = all.slice(12);
      await seedDays(s3, "data", all);
      await withTempDir(async (dir) => {
        const endpoint = s3.endpoint;
        await t.step("a single worker makes the reference", async () => {
          const ref = spawn(workerArgs({
            endpoint,
            dates: all,
            cacheDir: `${dir}/ref`,
            state: "s3://state/ref",
            initials: "RF",
          }));
          const { code, stderr } = await ref.done;
          assert.equal(code, 0, stderr);
        });

        await t.step("4 workers, 12 dates: each date materialized once, same bytes", async () => {
          const workers = [0, 1, 2, 3].map((i) =>
            spawn(workerArgs({
              endpoint,
              dates,
              cacheDir: `${dir}/w${i}`,
              extra: [...TTL, "--parallel", "1"],
            }))
          );
          const results = await Promise.all(workers.map((w) => w.done));
          for (const r of results) assert.equal(r.code, 0, r.stderr);
          for (const date of dates) {
            const published = await s3.text("data", resultKey(date));
            assert.ok(published, `${date} not published`);
            assert.equal(published, await s3.text("data", resultKey(date, "RF")));
          }
          const records = await runRecords(s3, "team");
          assert.equal(records.length, 4);
          const counts = materializedCounts(records);
          assert.deepEqual(Object.keys(counts).sort(), dates);
          assert.ok(Object.values(counts).every((n) => n === 1), JSON.stringify(counts));
          // Uploaded once per date across every worker.
          const uploads = records.flatMap((r) =>
            r.partitions.flatMap((p) =>
              p.assets.filter((a) =>
                a.asset === "published_csv" && a.status === "materialized" &&
                a.metadata.uploaded === true
              )
                .map(() => p.partition)
            )
          );
          assert.deepEqual(uploads.sort(), dates);
          // Every worker's closing table names each date, done by it or by another run.
          for (const r of results) {
            for (const date of dates) {
              assert.match(
                r.stderr,
                new RegExp(
                  `${date} +(materialized +this run|done by another run|up to date +this run)`,
                ),
              );
            }
          }
          assert.ok(results.some((r) => /done by another run/.test(r.stderr)));
          // A date done by another run names the run that materialized it.
          const doer = new Map(
            records.flatMap((r) =>
              r.partitions.filter((p) => p.status === "materialized").map((p) => [
                p.partition,
                r.runId,
              ])
            ),
          );
          const attributed = records.flatMap((r) =>
            r.partitions.filter((p) => p.doneBy).map((p) => [p.partition, p.doneBy])
          );
          assert.ok(attributed.length > 0);
          for (const [date, by] of attributed) assert.equal(by, doer.get(date!), date);
        });

        await t.step("a worker killed mid-date: another takes it over after the TTL", async () => {
          const date = killed;
          const pause = `${dir}/paused-kill`;
          const victim = spawn(
            workerArgs({ endpoint, dates: [date], cacheDir: `${dir}/k1`, extra: TTL }),
            {
              PAUSE_AT: "before-commit:deduped_impressions",
              PAUSE_FILE: pause,
            },
          );
          if (!await waitForFile(pause, victim)) assert.fail((await victim.done).stderr);
          Deno.kill(-victim.pid, "SIGKILL"); // the whole process group
          await victim.done;
          const taker = spawn(workerArgs({
            endpoint,
            dates: [date, next],
            cacheDir: `${dir}/k2`,
            extra: TTL,
          }));
          const { code, stderr } = await taker.done;
          assert.equal(code, 0, stderr);
          assert.match(stderr, new RegExp(`${date} +materialized +this run`));
          assert.equal(
            await s3.text("data", resultKey(date)),
            await s3.text("data", resultKey(date, "RF")),
          );
        });

        await t.step(
          "a worker stopped past its TTL writes nothing more once continued",
          async () => {
            const date = stoppedDate;
            const pause = `${dir}/paused-stop`;
            const stopped = spawn(
              workerArgs({ endpoint, dates: [date], cacheDir: `${dir}/s1`, extra: TTL }),
              {
                PAUSE_AT: "before-commit:deduped_impressions",
                PAUSE_FILE: pause,
              },
            );
            if (!await waitForFile(pause, stopped)) assert.fail((await stopped.done).stderr);
            Deno.kill(-stopped.pid, "SIGSTOP");
            await Deno.remove(pause); // it would go on, were it running
            const taker = spawn(workerArgs({
              endpoint,
              dates: [date],
              cacheDir: `${dir}/s2`,
              extra: [...TTL, "--wait"],
            }));
            const took = await taker.done;
            assert.equal(took.code, 0, took.stderr);
            assert.match(took.stderr, /published_csv: materialized/);
            const before = {
              ...await etags(s3, "state", `team/${date}/`),
              ...await etags(s3, "state", `team/leases/${date}`),
              ...await etags(s3, "data", `results/${date.replaceAll("-", "/")}/`),
            };
            Deno.kill(-stopped.pid, "SIGCONT");
            const resumed = await stopped.done;
            assert.equal(resumed.code, 1, resumed.stderr);
            assert.match(
              resumed.stderr,
              new RegExp(`lost the lease on ${date}: .*writing nothing more for it`),
            );
            const after = {
              ...await etags(s3, "state", `team/${date}/`),
              ...await etags(s3, "state", `team/leases/${date}`),
              ...await etags(s3, "data", `results/${date.replaceAll("-", "/")}/`),
            };
            assert.deepEqual(after, before);
            assert.equal(
              await s3.text("data", resultKey(date)),
              await s3.text("data", resultKey(date, "RF")),
            );
          },
        );

        await t.step("a worker sent SIGTERM hands its lease back at once", async () => {
          const date = termDate;
          const pause = `${dir}/paused-term`;
          const worker = spawn(
            workerArgs({
              endpoint,
              dates: [date],
              cacheDir: `${dir}/t1`,
              extra: ["--lease-ttl", "60s"],
            }),
            {
              PAUSE_AT: "before-commit:deduped_impressions",
              PAUSE_FILE: pause,
            },
          );
          if (!await waitForFile(pause, worker)) assert.fail((await worker.done).stderr);
          Deno.kill(worker.pid, "SIGTERM");
          const ended = await worker.done;
          assert.equal(ended.code, 143, ended.stderr);
          assert.match(ended.stderr, /SIGTERM: releasing held date leases and stopping/);
          const lease = JSON.parse((await s3.text("state", `team/leases/${date}.json`))!);
          assert.ok(lease.releasedAt, JSON.stringify(lease));
          assert.equal(lease.done, undefined); // it did not finish the date
          // A single-date run without --wait would fail at once on a held lease.
          const next = await spawn(
            workerArgs({
              endpoint,
              dates: [date],
              cacheDir: `${dir}/t2`,
              extra: ["--lease-ttl", "60s"],
            }),
          ).done;
          assert.equal(next.code, 0, next.stderr);
          assert.equal(
            await s3.text("data", resultKey(date)),
            await s3.text("data", resultKey(date, "RF")),
          );
        });
      });
    } finally {
      await s3.stop();
    }
  },
});
