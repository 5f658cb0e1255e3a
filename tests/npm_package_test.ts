/**
 * The pipeline's commands on a checkout without `node_modules`: a local
 * folder bucket needs no npm package, and a run that needs one fails with
 * one line naming it and what to run, not a stack trace.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadPackage, missingPackage, MissingPackageError } from "../resources/npm_package.ts";
import { REPO, withTempDir } from "./_helpers.ts";

/** Deno 2.9.6's error for a package missing from node_modules (its message, as it printed it). */
function denoMissing(spec: string): Error {
  const error = new TypeError(
    `Could not find a matching package for 'npm:${spec}' in the node_modules directory. ` +
      "Ensure you have all your JSR and npm dependencies listed in your deno.json or " +
      "package.json, then run `deno install`.\n    at file:///x/resources/s3_bucket.ts:213:28\n",
  );
  (error as unknown as { code: string }).code = "ERR_MODULE_NOT_FOUND";
  return error;
}

Deno.test("missingPackage names the package, scoped or not, and nothing else", () => {
  assert.equal(missingPackage(denoMissing("@aws-sdk/client-s3@3.1169.0")), "@aws-sdk/client-s3");
  assert.equal(missingPackage(denoMissing("zod@4.1.12")), "zod");
  // Another module-not-found error, or the same text without the code, is not one.
  const local = new TypeError('Module not found "file:///x/nowhere.ts".');
  (local as unknown as { code: string }).code = "ERR_MODULE_NOT_FOUND";
  assert.equal(missingPackage(local), null);
  assert.equal(missingPackage(new Error(denoMissing("zod@4.1.12").message)), null);
  assert.equal(missingPackage("zod"), null);
});

Deno.test("loadPackage turns a missing package into MissingPackageError and passes others on", async () => {
  await assert.rejects(
    loadPackage(() => Promise.reject(denoMissing("postgres@3.4.9"))),
    (e: unknown) =>
      e instanceof MissingPackageError && e.package === "postgres" &&
      /postgres is not installed in node_modules: run 'deno task setup'/.test(e.message),
  );
  const other = new RangeError("something else");
  await assert.rejects(loadPackage(() => Promise.reject(other)), (e: unknown) => e === other);
  assert.equal(await loadPackage(() => Promise.resolve(7)), 7);
});

/** The pipeline's sources and config, copied to `dir` without node_modules. */
async function copyCheckout(dir: string): Promise<void> {
  const folders = ["assets", "cli", "engine", "materializer", "pipes", "report", "resources"];
  const files = ["main.ts", "deno.json", "deno.lock", "tests/deno.json", "bench/deno.json"];
  const copy = async (from: string, to: string) => {
    const info = await Deno.stat(from);
    if (info.isDirectory) {
      await Deno.mkdir(to, { recursive: true });
      for await (const entry of Deno.readDir(from)) {
        await copy(join(from, entry.name), join(to, entry.name));
      }
    } else await Deno.copyFile(from, to);
  };
  for (const f of folders) await copy(join(REPO, f), join(dir, f));
  for (const f of [...files, "scripts/deno.json"]) {
    await Deno.mkdir(join(dir, f, ".."), { recursive: true });
    await Deno.copyFile(join(REPO, f), join(dir, f));
  }
}

Deno.test("without node_modules, a local bucket runs and an S3 bucket asks for 'deno task setup'", async () => {
  await withTempDir(async (dir) => {
    await copyCheckout(dir);
    const bucket = join(dir, "bucket");
    await Deno.mkdir(join(bucket, "2021/01/30"), { recursive: true });
    await Deno.writeTextFile(
      join(bucket, "2021/01/30/a.csv"),
      "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\nx,2021-01-30 01:00:00,5\nx,2021-01-30 01:00:00,5\n",
    );
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          "-A",
          "main.ts",
          "materialize",
          "--date",
          "2021-01-30",
          ...args,
        ],
        cwd: dir,
        env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y", AWS_REGION: "us-east-1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const cache = join(dir, "cache");
    const local = await run(["--bucket", bucket, "--cache-dir", cache, "--initials", "T"]);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(
      await Deno.readTextFile(join(bucket, "results/2021/01/30/daily_agg_20210130_T.csv")),
      "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n5,1,1\n",
    );
    const s3 = await run(["--bucket", "s3://no-bucket", "--cache-dir", cache, "--initials", "T"]);
    assert.equal(s3.code, 1);
    const lines = s3.stderr.trim().split("\n");
    assert.equal(
      lines.at(-1),
      "error: the npm package @aws-sdk/client-s3 is not installed in node_modules: run 'deno task setup' once in the project folder",
    );
    assert.ok(!/\n\s+at /.test(s3.stderr), s3.stderr);
    await assert.rejects(Deno.stat(join(dir, "node_modules")), Deno.errors.NotFound);
  });
});
