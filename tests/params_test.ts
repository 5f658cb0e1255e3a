/**
 * Typed params: one schema gives the flags, the profile keys and their
 * checks, the help and the tests' defaults.
 */

import assert from "node:assert/strict";
import { z } from "zod";
import {
  integerParam,
  paramDefaults,
  ParamError,
  paramFlags,
  paramsHelp,
  profileSchema,
  resolveParams,
  switchParam,
  textParam,
} from "../materializer/params.ts";
import { ALL_PARAMS } from "../cli/run_params.ts";
import { HELP } from "../cli/help.ts";
import { runCli, withTempDir } from "./_helpers.ts";

const SCHEMA = {
  depth: integerParam({
    flag: "depth",
    metavar: "N",
    env: ["TOY_DEPTH"],
    profile: "depth",
    min: 1,
    max: 9,
    default: 3,
    test: 1,
    group: "How",
    help: "how deep",
  }),
  name: textParam({
    flag: "name",
    profile: "name",
    pattern: /^[a-z]+$/,
    rule: "must be lower-case letters",
    group: "Where",
    help: "a name",
  }),
  loud: switchParam({ flag: "loud", default: false, group: "How", help: "be loud" }),
};

Deno.test("params: flag, then env, then profile, then default", () => {
  const resolve = (
    flags: Record<string, string | boolean>,
    env: Record<string, string>,
    profile = {},
  ) => resolveParams(SCHEMA, { flags, env, profile });
  assert.deepEqual(resolve({}, {}), { depth: 3, name: undefined, loud: false });
  assert.equal(resolve({}, {}, { depth: 5 }).depth, 5);
  assert.equal(resolve({}, { TOY_DEPTH: "6" }, { depth: 5 }).depth, 6);
  assert.equal(resolve({ depth: "7" }, { TOY_DEPTH: "6" }, { depth: 5 }).depth, 7);
  assert.equal(resolve({ loud: true }, {}).loud, true);
  assert.throws(
    () => resolve({ depth: "-1" }, {}),
    new ParamError('--depth must be a whole number from 1 to 9, not "-1"'),
  );
  assert.throws(
    () => resolve({}, { TOY_DEPTH: "10" }),
    new ParamError('TOY_DEPTH must be a whole number from 1 to 9, not "10"'),
  );
  assert.throws(() => resolve({ name: "" }, {}), new ParamError("--name must not be empty"));
  assert.throws(
    () => resolve({ name: "Bob" }, {}),
    new ParamError('--name "Bob" must be lower-case letters'),
  );
});

Deno.test("params: flags, profile schema, help and test defaults derive from the schema", () => {
  assert.deepEqual(paramFlags(SCHEMA), {
    depth: { type: "string" },
    name: { type: "string" },
    loud: { type: "boolean" },
  });
  const profile = profileSchema(z, SCHEMA);
  assert.equal(profile.safeParse({ depth: 2, name: "x" }).success, true);
  const bad = profile.safeParse({ depth: 0 });
  assert.equal(bad.success, false);
  assert.equal(bad.error?.issues[0].message, "must be a whole number from 1 to 9");
  assert.equal(profile.safeParse({ deep: 2 }).success, false);
  const help = paramsHelp(SCHEMA);
  assert.match(help, /^How:\n {2}--depth N +how deep \(env TOY_DEPTH; default 3\)$/m);
  assert.match(help, /^Where:\n {2}--name +a name$/m);
  assert.deepEqual(paramDefaults(SCHEMA, { test: true }), {
    depth: 1,
    name: undefined,
    loud: false,
  });
});

Deno.test("every run param's flag is in --help and every profile key is accepted", async () => {
  for (const param of Object.values(ALL_PARAMS)) {
    if (param.flag !== undefined) assert.match(HELP.materialize, new RegExp(`--${param.flag}\\b`));
  }
  await withTempDir(async (dir) => {
    const values: Record<string, unknown> = {
      cacheDir: `${dir}/c`,
      assets: ["published_csv"],
      parallel: 1,
      initials: "GF",
      resultsPrefix: "out",
      retries: 1,
      maxInvalidRows: 2,
      memoryBudget: "64MiB",
      copyObjects: true,
      thresholds: { duplicate_share: 0.5 },
      bucket: "sample/bucket",
      endpointUrl: "http://127.0.0.1:1",
      region: "eu-west-1",
      timeoutSeconds: 5,
      warehouse: `${dir}/w.sqlite`,
    };
    const keys = Object.values(ALL_PARAMS).flatMap((p) => p.profile ? [p.profile] : []);
    // `state` is checked without a run (a run would reach for S3).
    assert.deepEqual([...Object.keys(values), "state"].sort(), keys.sort());
    assert.equal(
      profileSchema(z, ALL_PARAMS).safeParse({ state: "s3://state-bucket/prefix" }).success,
      true,
    );
    assert.equal(profileSchema(z, ALL_PARAMS).safeParse({ state: "/tmp/state" }).success, false);
    const config = `${dir}/pipeline.config.json`;
    await Deno.writeTextFile(config, JSON.stringify({ profiles: { default: values } }));
    const plan = await runCli([
      "plan",
      "--date",
      "2021-01-30",
      "--config",
      config,
      "--bucket",
      "sample/bucket",
    ]);
    assert.equal(plan.code, 0, plan.stderr);
    await Deno.writeTextFile(
      config,
      JSON.stringify({ profiles: { default: { memoryBudget: "lots" } } }),
    );
    const bad = await runCli(["plan", "--date", "2021-01-30", "--config", config]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /usage error: config .*: profiles\.default\.memoryBudget: must look like 1GiB, 512MiB or a number of bytes/,
    );
  });
});
