/**
 * `deno compile` builds one executable that takes the same arguments. It
 * needs Deno's runtime (`denort`), downloaded the first time or given by
 * `DENORT_BIN`; without either (no internet) the build can only fail at
 * that download, and the test says so and is skipped.
 */

import assert from "node:assert/strict";
import { csv, REPO, row, withTempDir, writeObjects } from "./_helpers.ts";
import { taskPermissionFlags } from "../scripts/task_flags.ts";

const outDir = await Deno.makeTempDir({ prefix: "impressions-compile-" });
const binary = `${outDir}/impressions`;
const build = await new Deno.Command("deno", {
  args: [
    "compile",
    ...taskPermissionFlags("compile"),
    "--include",
    `${REPO}/engine/scan_worker.ts`,
    "--output",
    binary,
    `${REPO}/main.ts`,
  ],
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "piped",
}).output();
const buildLog = new TextDecoder().decode(build.stderr);
const runtimeUnavailable = !build.success &&
  /Setting up base binary/.test(buildLog) &&
  /(dl\.deno\.land|denort)/.test(buildLog);

Deno.test("deno compile fails only at the runtime download when it fails", () => {
  if (build.success) return;
  assert.ok(
    runtimeUnavailable,
    `deno compile failed for another reason than the runtime download:\n${buildLog}`,
  );
});

Deno.test({
  name: runtimeUnavailable
    ? "compiled executable runs the pipeline (skipped: deno compile could not download its runtime denort; set DENORT_BIN to a local denort)"
    : "compiled executable runs the pipeline",
  ignore: runtimeUnavailable,
  async fn() {
    try {
      await withTempDir(async (dir) => {
        await writeObjects(`${dir}/b`, {
          "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "7")),
        });
        const run = (args: string[]) =>
          new Deno.Command(binary, { args, cwd: dir, stdout: "piped", stderr: "piped" }).output();
        const ok = await run(["materialize", "--date", "2021-01-30", "--bucket", `${dir}/b`]);
        assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
        assert.equal(
          await Deno.readTextFile(`${dir}/b/results/2021/01/30/daily_agg_20210130_Guy_Fawkes.csv`),
          "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n7,1,1\n",
        );
        const noBucket = await run(["materialize", "--date", "2021-01-30"]);
        assert.equal(noBucket.code, 2);
        assert.match(new TextDecoder().decode(noBucket.stderr), /no bucket: pass --bucket/);
        // No test hook is compiled in.
        const bytes = new TextDecoder("latin1").decode(await Deno.readFile(binary));
        assert.ok(bytes.includes("no bucket: pass --bucket"), "sources not found in the binary");
        assert.doesNotMatch(bytes, /PAUSE_(AT|FILE)/);
      });
    } finally {
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  },
});

if (runtimeUnavailable) await Deno.remove(outDir, { recursive: true }).catch(() => {});
