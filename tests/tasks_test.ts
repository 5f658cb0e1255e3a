/**
 * `deno.json`'s tasks: short enough to read, env access by wildcard, each
 * command run with only its own task's permissions (and enough of them),
 * and a root import map with only what the pipeline loads at run time.
 */

import assert from "node:assert/strict";
import { TaskFlagsError, taskPermissionFlags } from "../scripts/task_flags.ts";
import { csv, REPO, row, runProcess, withTempDir, writeObjects } from "./_helpers.ts";

const config = JSON.parse(await Deno.readTextFile(`${REPO}/deno.json`));

/** `main.ts TASK ARGS` with only the deno.json task's own permissions. */
function runTask(task: string, args: string[]) {
  return runProcess([task, ...args], { task });
}

Deno.test("deno.json is at most 8,000 bytes and grants env access by wildcard", async () => {
  const bytes = (await Deno.readFile(`${REPO}/deno.json`)).length;
  assert.ok(bytes <= 8000, `deno.json is ${bytes} bytes`);
  const env = taskPermissionFlags("materialize").find((f) => f.startsWith("--allow-env="));
  assert.equal(
    env,
    "--allow-env=AWS_*,IMPRESSIONS_*,DAGSTER_PIPES_*,JOB_COMPLETION_INDEX,PG*,HOME,USERPROFILE,HOMEPATH,HOMEDRIVE,_X_AMZN_TRACE_ID",
  );
});

Deno.test("graph gets no permission; runs, clean and report only what S3 state needs", () => {
  assert.deepEqual(taskPermissionFlags("graph"), ["--no-prompt"]);
  for (const task of ["runs", "clean", "report"]) {
    const flags = taskPermissionFlags(task);
    // The network and the AWS credential chain, for --state s3://…; no warehouse variables.
    assert.ok(flags.includes("--allow-net"), `${task}: ${flags}`);
    const env = flags.find((f) => f.startsWith("--allow-env="));
    assert.equal(
      env,
      "--allow-env=AWS_*,IMPRESSIONS_*,HOME,USERPROFILE,HOMEPATH,HOMEDRIVE,_X_AMZN_TRACE_ID",
    );
    assert.ok(flags.includes("--no-prompt"), `${task} would prompt: ${flags}`);
  }
});

Deno.test("taskPermissionFlags names a task it cannot find", () => {
  assert.throws(
    () => taskPermissionFlags("nope"),
    (e: Error) => e instanceof TaskFlagsError && /no task "nope"/.test(e.message),
  );
});

Deno.test("each command runs with only its own task's permissions", async () => {
  await withTempDir(async (dir) => {
    const cache = `${dir}/cache`;
    const bucket = `${dir}/bucket`;
    await writeObjects(bucket, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "7")),
    });
    const date = ["--date", "2021-01-30", "--cache-dir", cache];
    const materialize = await runTask("materialize", [
      ...date,
      "--bucket",
      bucket,
      "--select",
      "warehouse_hourly_counts",
    ]);
    assert.equal(materialize.code, 0, materialize.stderr);

    const graph = await runTask("graph", []);
    assert.equal(graph.code, 0, graph.stderr);
    assert.match(graph.stdout, /published_csv/);

    const runs = await runTask("runs", ["--cache-dir", cache]);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /materialize .*success/);

    const insights = await runTask("insights", [
      "--from",
      "2021-01-30",
      "--to",
      "2021-01-30",
      "--cache-dir",
      cache,
    ]);
    assert.equal(insights.code, 0, insights.stderr);
    assert.match(insights.stdout, /2021-01-30/);

    const report = await runTask("report", [...date, "--out", `${dir}/report.html`]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(await Deno.readTextFile(`${dir}/report.html`), /<html/i);

    const clean = await runTask("clean", date);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stderr, /removed: 2021-01-30/);
  });
});

Deno.test("the root import map holds only what the pipeline loads at run time", () => {
  const dev = [
    "@duckdb/node-api",
    "puppeteer-core",
    "fauxqs",
    "csv-parse",
    "sinon",
    "aws-sdk-client-mock",
    "wabt",
  ];
  const named = Object.values(config.imports as Record<string, string>).join(" ");
  for (const name of dev) assert.ok(!named.includes(`npm:${name}@`), `${name} in deno.json`);
  // `deno task` installs every package of the lockfile first when the config says
  // "auto"; so the config says "manual". The pipeline's own commands read
  // node_modules as `deno task setup` left it (an install check at start-up
  // cost every run 40 to 70 ms); the tools for developers ask for "auto"
  // themselves, and lazy caching installs only their module graph.
  assert.ok(config.unstable?.includes("npm-lazy-caching"));
  assert.equal(config.nodeModulesDir, "manual");
  const run = ["materialize", "plan", "graph", "runs", "clean", "insights", "report"];
  for (const [name, task] of Object.entries(config.tasks as Record<string, { command: string }>)) {
    if (run.includes(name)) assert.match(task.command, /^deno run --no-prompt /, name);
    else if (name === "setup") {
      assert.equal(task.command, "deno install --frozen --entrypoint main.ts");
    } else assert.match(task.command, /^deno \w+ --node-modules-dir=auto /, name);
  }
});
