/**
 * Storage faults injected at the HTTP level between the pipeline and a real
 * S3 endpoint: every run ends in a correct publication after retries, or in
 * a clean failure that leaves the previous output untouched.
 */

import assert from "node:assert/strict";
import { csv, row, runCli, testContext, withTempDir } from "./_helpers.ts";
import { rawPartition } from "../assets/raw_partition.ts";
import { openS3Bucket } from "../resources/s3_bucket.ts";
import { startTestS3 } from "./_s3_server.ts";
import { type Fault, faultTimes, type SeenRequest, startFaultProxy } from "./_fault_proxy.ts";
import { recordSummary } from "./_summary.ts";

const BUCKET = "impressions-faults";
const RESULT = "results/2021/01/30/daily_agg_20210130_F.csv";
const isGet = (r: SeenRequest) => r.method === "GET" && r.path.includes("/2021/01/30/");
const isList = (r: SeenRequest) => r.method === "GET" && r.path.includes("list-type=2");
const isObjectGet = (r: SeenRequest) => isGet(r) && !isList(r);
const isHead = (r: SeenRequest) => r.method === "HEAD";
const isPut = (r: SeenRequest) => r.method === "PUT";

Deno.test({
  name: "injected storage faults end in a correct publication or a clean failure",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const s3 = await startTestS3();
    const proxy = startFaultProxy(s3.endpoint, () => null);
    let published = 0;
    try {
      s3.createBucket(BUCKET);
      await s3.put(BUCKET, {
        "2021/01/30/a.csv": csv(
          ...Array.from(
            { length: 400 },
            (_, i) =>
              row(`a-${i}`, `2021-01-30 ${String(i % 24).padStart(2, "0")}:10:00`, String(i % 5)),
          ),
        ),
        "2021/01/30/b.csv": csv(row("b-1", "2021-01-30 05:00:00", "9")),
      });
      await withTempDir(async (dir) => {
        const run = (...extra: string[]) =>
          runCli([
            "materialize",
            "--date",
            "2021-01-30",
            "--bucket",
            BUCKET,
            "--endpoint-url",
            proxy.endpoint,
            "--initials",
            "F",
            "--cache-dir",
            `${dir}/cache`,
            "--force",
            ...extra,
          ]);
        const reference = await run();
        assert.equal(reference.code, 0, reference.stderr);
        const expected = (await s3.text(BUCKET, RESULT))!;
        const cases: [string, (r: SeenRequest) => boolean, Fault, number][] = [
          ["503 SlowDown on listing", isList, { kind: "status", status: 503, code: "SlowDown" }, 2],
          [
            "500 on GetObject",
            isObjectGet,
            { kind: "status", status: 500, code: "InternalError" },
            2,
          ],
          ["connection reset mid-body", isObjectGet, { kind: "reset" }, 1],
          ["body shorter than Content-Length", isObjectGet, { kind: "short" }, 2],
          ["503 on HeadObject", isHead, { kind: "status", status: 503, code: "SlowDown" }, 1],
          ["500 on PutObject", isPut, { kind: "status", status: 500, code: "InternalError" }, 1],
        ];
        for (const [name, match, fault, times] of cases) {
          await t.step(`${name}: retried, then published correctly`, async () => {
            await Deno.remove(`${dir}/cache`, { recursive: true }).catch(() => {});
            if (match === isPut) await s3.remove(BUCKET, RESULT); // so that a PUT is needed
            const before = proxy.injected;
            proxy.setPlan(faultTimes(match, fault, times));
            const r = await run("--retries", "4");
            assert.equal(r.code, 0, r.stderr);
            assert.equal(proxy.injected - before, times);
            assert.match(r.stderr, /retry 1\/4/);
            assert.equal(await s3.text(BUCKET, RESULT), expected);
            published++;
          });
        }
        await t.step("a slow endpoint past --timeout: retried, then a clean failure", async () => {
          await Deno.remove(`${dir}/cache`, { recursive: true }).catch(() => {});
          proxy.setPlan((r) => (isObjectGet(r) ? { kind: "stall", ms: 1500 } : null));
          const r = await run("--retries", "1", "--timeout", "300ms");
          assert.equal(r.code, 1);
          assert.match(
            r.stderr.split("\n").at(-1)!,
            /^error: GetObject s3:\/\/impressions-faults\/2021\/01\/30\/[ab]\.csv/,
          );
          assert.equal(await s3.text(BUCKET, RESULT), expected);
          published++;
        });
        await t.step(
          "a body that stalls midway past --timeout: retried, then a clean failure",
          async () => {
            await Deno.remove(`${dir}/cache`, { recursive: true }).catch(() => {});
            proxy.setPlan((r) => (isObjectGet(r) ? { kind: "stall-body", ms: 1500 } : null));
            const r = await run("--retries", "1", "--timeout", "300ms");
            assert.equal(r.code, 1);
            assert.match(r.stderr, /retry 1\/1 of GetObject .*no bytes for 300 ms/);
            assert.match(
              r.stderr.split("\n").at(-1)!,
              /^error: GetObject s3:\/\/impressions-faults\/2021\/01\/30\/[ab]\.csv.*no bytes for 300 ms/,
            );
            assert.equal(await s3.text(BUCKET, RESULT), expected);
            published++;
          },
        );
        await t.step(
          "a PutObject that keeps failing leaves the previous output untouched",
          async () => {
            await s3.put(BUCKET, {
              "2021/01/30/c.csv": csv(row("c-1", "2021-01-30 06:00:00", "7")),
            });
            proxy.setPlan((
              r,
            ) => (isPut(r) ? { kind: "status", status: 500, code: "InternalError" } : null));
            const r = await run("--retries", "2");
            assert.equal(r.code, 1);
            assert.match(
              r.stderr.split("\n").at(-1)!,
              /^error: PutObject s3:\/\/impressions-faults\/results\/2021\/01\/30\/daily_agg_20210130_F\.csv failed: InternalError \(HTTP 500\)/,
            );
            assert.equal(await s3.text(BUCKET, RESULT), expected);
            published++;
            proxy.setPlan(() => null);
            const fixed = await run();
            assert.equal(fixed.code, 0, fixed.stderr);
            assert.match((await s3.text(BUCKET, RESULT))!, /7,6,1\n/);
          },
        );
      });
    } finally {
      recordSummary({ faults: proxy.injected, publishedChecks: published });
      proxy.close();
      await s3.stop();
    }
  },
});

Deno.test({
  name: "large objects arrive as parallel ranged GETs; a reset part is retried alone",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s3 = await startTestS3();
    const proxy = startFaultProxy(s3.endpoint, () => null);
    try {
      s3.createBucket("impressions-ranges");
      const body = csv(
        ...Array.from(
          { length: 3000 },
          (_, i) =>
            row(`r-${i}`, `2021-01-30 ${String(i % 24).padStart(2, "0")}:00:00`, String(i % 9)),
        ),
      );
      await s3.put("impressions-ranges", { "2021/01/30/big.csv": body });
      let ranged = 0;
      proxy.setPlan((r) => {
        if (r.method === "GET" && r.path.includes("big.csv")) ranged++;
        return ranged === 3 ? { kind: "reset" } : null;
      });
      await withTempDir(async (dir) => {
        const bucket = await openS3Bucket({
          bucket: "impressions-ranges",
          endpoint: proxy.endpoint,
          retry: { retries: 3, sleep: () => Promise.resolve() },
        });
        const ctx = testContext("2021-01-30", {
          bucket,
          dir: `${dir}/entry`,
          params: { downloadPartBytes: 64 * 1024, retries: 3 },
        });
        ctx.observation = (await rawPartition.observe!(ctx)).detail;
        const value = await rawPartition.compute({}, ctx);
        bucket.close();
        assert.equal(await Deno.readTextFile(value.objects[0].path), body);
        const parts = Math.ceil(new TextEncoder().encode(body).length / (64 * 1024));
        assert.ok(parts > 2);
        assert.equal(ranged, parts + 1); // every part once, the reset one twice
        recordSummary({ faults: 1, publishedChecks: 1 });
      });
    } finally {
      proxy.close();
      await s3.stop();
    }
  },
});
