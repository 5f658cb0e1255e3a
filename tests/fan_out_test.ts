/**
 * Static fan-out: `--index N` / `--index auto` picks one date of the
 * range, and the deploy/ manifests' command lines parse with the CLI's own
 * flag parser (no cluster or Docker engine here to run them).
 */

import assert from "node:assert/strict";
import { UsageError } from "../cli/errors.ts";
import { parseFlags, resolveIndex, resolveRunOptions, RUN_FLAGS } from "../cli/options.ts";
import { runCli } from "./_helpers.ts";

const RANGE = ["--from", "2021-01-01", "--to", "2021-01-12", "--bucket", "./sample/bucket"];

async function datesOf(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  return (await resolveRunOptions(parseFlags(args, RUN_FLAGS), { env })).dates;
}

Deno.test("--index N runs the N-th date of the range, 0-based", async () => {
  assert.deepEqual(await datesOf([...RANGE, "--index", "0"]), ["2021-01-01"]);
  assert.deepEqual(await datesOf([...RANGE, "--index", "11"]), ["2021-01-12"]);
});

Deno.test("--index auto reads the Kubernetes or AWS Batch index", async () => {
  assert.deepEqual(
    await datesOf([...RANGE, "--index", "auto"], { JOB_COMPLETION_INDEX: "4" }),
    ["2021-01-05"],
  );
  assert.deepEqual(
    await datesOf([...RANGE, "--index", "auto"], { AWS_BATCH_JOB_ARRAY_INDEX: "2" }),
    ["2021-01-03"],
  );
  assert.equal(resolveIndex("auto", 3, { JOB_COMPLETION_INDEX: "1" }), 1);
});

Deno.test("a missing variable or an index outside the range is a usage error (exit 2)", async () => {
  assert.throws(
    () => resolveIndex("auto", 12, {}),
    (e) =>
      e instanceof UsageError && /JOB_COMPLETION_INDEX.*AWS_BATCH_JOB_ARRAY_INDEX/.test(e.message),
  );
  assert.throws(
    () => resolveIndex("12", 12, {}),
    (e) =>
      e instanceof UsageError &&
      e.message === '--index must be a date index from 0 to 11 of --from/--to, not "12"',
  );
  assert.throws(
    () => resolveIndex("auto", 12, { AWS_BATCH_JOB_ARRAY_INDEX: "-1" }),
    /AWS_BATCH_JOB_ARRAY_INDEX must be a date index from 0 to 11/,
  );
  for (
    const args of [
      ["materialize", ...RANGE, "--index", "12"],
      ["materialize", ...RANGE, "--index", "auto"],
      ["materialize", "--date", "2021-01-01", "--index", "0"],
    ]
  ) {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^usage error: .*index/m);
  }
});

/** The `args:` flow sequence of each container in a Kubernetes manifest (as `deno fmt` lays it out). */
async function kubernetesArgs(path: string): Promise<string[][]> {
  const text = await Deno.readTextFile(new URL(`../deploy/kubernetes/${path}`, import.meta.url));
  return [...text.matchAll(/^\s+args: (\[[^\]]*\])$/gm)].map((m) =>
    JSON.parse(m[1].replace(/,(\s*)\]$/, "$1]"))
  );
}

Deno.test("deploy/: the Kubernetes jobs' command lines parse", async () => {
  const [indexed] = await kubernetesArgs("indexed-job.yaml");
  assert.equal(indexed[0], "materialize");
  assert.deepEqual(
    await datesOf(indexed.slice(1), { JOB_COMPLETION_INDEX: "30" }),
    ["2021-01-31"],
  );
  const text = await Deno.readTextFile(
    new URL("../deploy/kubernetes/indexed-job.yaml", import.meta.url),
  );
  assert.match(text, /completionMode: Indexed/);
  assert.match(text, /completions: 31\b/); // one per date of the range
  const [cooperative] = await kubernetesArgs("cooperative-job.yaml");
  const options = await resolveRunOptions(parseFlags(cooperative.slice(1), RUN_FLAGS), { env: {} });
  assert.equal(options.dates.length, 365);
  assert.equal(options.state, "s3://impressions-raw/state");
  assert.equal(options.leaseTtlMs, 60_000);
});

Deno.test("deploy/: the AWS Batch job definition's command parses", async () => {
  const definition = JSON.parse(
    await Deno.readTextFile(new URL("../deploy/aws-batch/job-definition.json", import.meta.url)),
  );
  const command = (definition.containerProperties.command as string[]).map((word) =>
    word.replace(/^Ref::(\w+)$/, (_, name) => definition.parameters[name])
  );
  assert.equal(command[0], "materialize");
  const options = await resolveRunOptions(parseFlags(command.slice(1), RUN_FLAGS), {
    env: { AWS_BATCH_JOB_ARRAY_INDEX: "9" },
  });
  assert.deepEqual(options.dates, ["2021-01-10"]);
  assert.equal(options.state, "s3://impressions-raw/state");
});

Deno.test("--lease-ttl takes durations of at least 2s; --state must be s3://BUCKET/PREFIX", async () => {
  const resolve = (extra: string[], env: Record<string, string> = {}) =>
    resolveRunOptions(parseFlags([...RANGE, ...extra], RUN_FLAGS), { env });
  assert.equal((await resolve([])).leaseTtlMs, 60_000);
  assert.equal((await resolve(["--lease-ttl", "2m"])).leaseTtlMs, 120_000);
  assert.equal((await resolve(["--lease-ttl", "2s"])).leaseTtlMs, 2000);
  await assert.rejects(resolve(["--lease-ttl", "1500ms"]), /--lease-ttl must be at least 2s/);
  await assert.rejects(resolve(["--lease-ttl", "soon"]), /--lease-ttl must look like 30s/);
  assert.equal(
    (await resolve([], { IMPRESSIONS_STATE: "s3://team-bucket/state" })).state,
    "s3://team-bucket/state",
  );
  assert.equal(
    (await resolve(["--state", "s3://bkt1/x"], { IMPRESSIONS_STATE: "s3://bkt2/y" })).state,
    "s3://bkt1/x",
  );
  await assert.rejects(
    resolve(["--state", "/tmp/state"]),
    (e) =>
      e instanceof UsageError &&
      e.message === '--state must be s3://BUCKET/PREFIX, not "/tmp/state"',
  );
  await assert.rejects(resolve(["--state", "s3://bkt1/../x"]), /--state must be s3:/);
});
