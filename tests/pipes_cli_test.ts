/**
 * `materialize` under a Dagster Pipes launcher: the context fills in the
 * flags, each asset's outcome becomes Pipes messages, failures close with our
 * one-line error, output moves off the messages' stream, and no secret gets
 * into a message.
 */

import assert from "node:assert/strict";
import { encodeParam, type PipesContextData } from "../pipes/mod.ts";
import { scrubber } from "../cli/pipes_adapter.ts";
import { localState } from "../materializer/state.ts";
import { cp } from "node:fs/promises";
import { runCli, runProcess, SAMPLE_BUCKET, withTempDir } from "./_helpers.ts";
import { assertValidMessage, pipesContext } from "./_pipes.ts";

const CSV_AND_UPSTREAMS = [
  "raw_partition",
  "deduped_impressions",
  "hourly_campaign_counts",
  "published_csv",
];

interface Message {
  method: string;
  // deno-lint-ignore no-explicit-any
  params: any;
}

async function pipesEnv(
  context: Partial<PipesContextData>,
  messages: Record<string, unknown>,
): Promise<Record<string, string>> {
  return {
    DAGSTER_PIPES_CONTEXT: await encodeParam({ data: pipesContext(context) }),
    DAGSTER_PIPES_MESSAGES: await encodeParam(messages),
  };
}

async function readMessages(path: string): Promise<Message[]> {
  const text = await Deno.readTextFile(path);
  return text.trimEnd().split("\n").map((l) => assertValidMessage(l) as unknown as Message);
}

const of = (messages: Message[], method: string) =>
  messages.filter((m) => m.method === method).map((m) => m.params);

Deno.test("materialize under Pipes reports each selected asset, its checks, then closed", async (t) => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    await cp(SAMPLE_BUCKET, bucket, { recursive: true });
    const context = {
      asset_keys: CSV_AND_UPSTREAMS,
      extras: { bucket, initials: "T", cache_dir: `${dir}/cache` },
    };
    const run = async (name: string) => {
      const path = `${dir}/${name}.jsonl`;
      const r = await runCli(["materialize"], { env: await pipesEnv(context, { path }) });
      assert.equal(r.code, 0, r.stderr);
      return { r, messages: await readMessages(path) };
    };

    await t.step("the context gives the date, selection and extras", async () => {
      const { r, messages } = await run("first");
      assert.deepEqual(r.stdout, [`file://${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`]);
      assert.equal(messages[0].method, "opened");
      assert.deepEqual(messages.at(-1), {
        __dagster_pipes_version: "0.1",
        method: "closed",
        params: {},
      });
      const mats = of(messages, "report_asset_materialization");
      assert.deepEqual(mats.map((m) => m.asset_key), CSV_AND_UPSTREAMS);
      const deduped = mats[1].metadata;
      assert.deepEqual(deduped.rowsOut, { type: "int", raw_value: 315 });
      assert.deepEqual(deduped.spilled, { type: "bool", raw_value: false });
      assert.equal(deduped.durationMs.type, "float");
      assert.deepEqual(deduped.status, { type: "text", raw_value: "materialized" });
      assert.deepEqual(mats[3].metadata.uri, {
        type: "url",
        raw_value: `file://${bucket}/results/2021/01/30/daily_agg_20210130_T.csv`,
      });
      const checks = of(messages, "report_asset_check");
      assert.deepEqual(
        checks.map((c) => `${c.asset_key}.${c.check_name} ${c.severity} ${c.passed}`),
        [
          "raw_partition.required_columns ERROR true",
          "deduped_impressions.duplicate_share WARN true",
          "deduped_impressions.late_rows WARN true",
          "deduped_impressions.volume_drop WARN true",
          "hourly_campaign_counts.counts_sum_to_rows ERROR true",
          "hourly_campaign_counts.positive_counts ERROR true",
        ],
      );
      assert.equal(checks[1].metadata.detail.type, "text");
      assert.equal(of(messages, "log").length, 4);
    });

    await t.step("data versions are the run record's; a rerun reports them unchanged", async () => {
      const first = await readMessages(`${dir}/first.jsonl`);
      const { messages } = await run("second");
      const versions = (ms: Message[]) =>
        Object.fromEntries(
          of(ms, "report_asset_materialization").map((m) => [m.asset_key, m.data_version]),
        );
      assert.deepEqual(versions(messages), versions(first));
      const mats = of(messages, "report_asset_materialization");
      assert.deepEqual(mats.map((m) => m.metadata.status.raw_value), Array(4).fill("up to date"));
      assert.equal(of(messages, "report_asset_check").length, 6); // cached results
      const runs = [...Deno.readDirSync(`${dir}/cache/runs`)].map((e) => e.name).sort();
      const id = runs[0].replace(/\.json$/, "");
      const record = (await localState(`${dir}/cache`).listRunRecords())
        .find((r) => r.runId === id) ?? null;
      assert.ok(record);
      for (const asset of record.partitions[0].assets) {
        assert.equal(versions(first)[asset.asset], asset.dataVersion);
      }
    });

    await t.step("a prefixed subset reports only its keys", async () => {
      const path = `${dir}/subset.jsonl`;
      const env = await pipesEnv({ ...context, asset_keys: ["ads/published_csv"] }, { path });
      const r = await runCli(["materialize"], { env });
      assert.equal(r.code, 0, r.stderr);
      const messages = await readMessages(path);
      assert.deepEqual(of(messages, "report_asset_materialization").map((m) => m.asset_key), [
        "ads/published_csv",
      ]);
      assert.deepEqual(of(messages, "report_asset_check"), []);
    });
  });
});

Deno.test("a failed date closes with our one-line error and reports no failed asset", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    await cp(SAMPLE_BUCKET, bucket, { recursive: true });
    const file = `${bucket}/2021/01/30/part-0000.csv`;
    const lines = (await Deno.readTextFile(file)).split("\n");
    lines[1] = lines[1].replace("2021-01-30 00:21:45.000", "2021-01-30 25:21:45.000");
    await Deno.writeTextFile(file, lines.join("\n"));
    const path = `${dir}/messages.jsonl`;
    const env = await pipesEnv({
      asset_keys: CSV_AND_UPSTREAMS,
      extras: { bucket, cache_dir: `${dir}/cache` },
    }, { path });
    const r = await runCli(["materialize"], { env });
    assert.equal(r.code, 1);
    const error = r.stderr.split("\n").at(-1)!.replace(/^error: /, "");
    assert.match(error, /part-0000\.csv line 2/);
    const messages = await readMessages(path);
    assert.deepEqual(of(messages, "report_asset_materialization").map((m) => m.asset_key), [
      "raw_partition",
    ]);
    const closed = messages.at(-1)!;
    assert.equal(closed.method, "closed");
    assert.equal(closed.params.exception.message, error);
    await assert.rejects(Deno.stat(`${bucket}/results`), Deno.errors.NotFound);
  });
});

Deno.test("a partition range under Pipes is refused, and closed says why", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/messages.jsonl`;
    const env = await pipesEnv({
      partition_key: null,
      partition_key_range: { start: "2021-01-29", end: "2021-01-30" },
    }, { path });
    const r = await runCli(["materialize"], { env });
    assert.equal(r.code, 2);
    const messages = await readMessages(path);
    assert.equal(
      messages.at(-1)!.params.exception.message,
      "a Pipes run covers one partition; got the range 2021-01-29..2021-01-30",
    );
  });
});

Deno.test("messages on stdout move the CLI's stdout to stderr (task permissions)", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    await cp(SAMPLE_BUCKET, bucket, { recursive: true });
    const env = await pipesEnv({ asset_keys: ["published_csv"] }, { stdio: "stdout" });
    const args = ["materialize", "--bucket", bucket, "--cache-dir", `${dir}/cache`];
    const out = await runProcess(args, { env });
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => (assertValidMessage(l) as unknown as Message).method), [
      "opened",
      "log",
      "log",
      "log",
      "log",
      "report_asset_materialization",
      "closed",
    ]);
    assert.ok(out.stderr.includes(`file://${bucket}/results/2021/01/30/`), out.stderr);

    const toStderr = await pipesEnv({ asset_keys: ["published_csv"] }, { stdio: "stderr" });
    const err = await runProcess([...args, "--force"], { env: toStderr });
    assert.equal(err.code, 0, err.stderr);
    const errLines = err.stderr.trimEnd().split("\n");
    errLines.forEach(assertValidMessage);
    assert.match(err.stdout, /published_csv: materialized/); // the log lines moved
  });
});

Deno.test("without the bootstrap variables nothing changes", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    await cp(SAMPLE_BUCKET, bucket, { recursive: true });
    const r = await runCli([
      "materialize",
      "--date",
      "2021-01-30",
      "--bucket",
      bucket,
      "--cache-dir",
      `${dir}/c`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout, [
      `file://${bucket}/results/2021/01/30/daily_agg_20210130_Guy_Fawkes.csv`,
    ]);
  });
});

Deno.test("no secret, endpoint userinfo or query string reaches a Pipes message", async () => {
  const env = {
    AWS_SECRET_ACCESS_KEY: "aws-secret-value-123",
    AWS_SESSION_TOKEN: "session-token-456",
    PGPASSWORD: "pg-password-789",
  };
  const scrub = scrubber(env);
  assert.equal(
    scrub(
      "GET http://AKUSER:pass-word@127.0.0.1:9/b?X-Amz-Signature=qs-secret failed: aws-secret-value-123",
    ),
    "GET http://***@127.0.0.1:9/b?X-Amz-Signature=*** failed: ***",
  );
  assert.equal(scrub("postgres://app:pg-password-789@db/x"), "postgres://***@db/x");

  await withTempDir(async (dir) => {
    // The usage error quotes the endpoint (password masked): userinfo and query string
    // would reach Dagster in the closed message without the scrubber.
    const path = `${dir}/messages.jsonl`;
    const endpoint = "ftp://AKUSER:pass-word@127.0.0.1:9/?X-Amz-Signature=qs-secret";
    const r = await runCli(
      ["materialize", "--bucket", "s3://impressions", "--endpoint-url", endpoint],
      { env: { ...env, ...await pipesEnv({}, { path }) } },
    );
    assert.equal(r.code, 2);
    const text = await Deno.readTextFile(path);
    const closed = JSON.parse(text.trimEnd().split("\n").at(-1)!);
    assert.equal(
      closed.params.exception.message,
      '--endpoint-url must be an http(s) URL, not "ftp://***@127.0.0.1:9/?X-Amz-Signature=***"',
    );
    for (const secret of [...Object.values(env), "pass-word", "qs-secret", "AKUSER"]) {
      assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
  });
});
