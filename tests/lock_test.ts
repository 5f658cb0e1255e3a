/**
 * Concurrent runs on one cache and date: a lock per date; the second run
 * fails naming the holder or waits with --wait; a dead holder's lock is
 * taken over.
 */

import assert from "node:assert/strict";
import { acquireLock } from "../materializer/lock.ts";
import { csv, REPO, row, runCli, withTempDir, writeObjects } from "./_helpers.ts";

async function setup(dir: string) {
  await writeObjects(`${dir}/b`, {
    "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")),
  });
  return ["materialize", "--date", "2021-01-30", "--bucket", `${dir}/b`, "--cache-dir", `${dir}/c`];
}

Deno.test("a second run on a locked date fails at once, naming the holder", async () => {
  await withTempDir(async (dir) => {
    const args = await setup(dir);
    const release = await acquireLock({ cacheDir: `${dir}/c`, date: "2021-01-30", wait: false });
    try {
      const r = await runCli(args);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr.split("\n").at(-1)!,
        new RegExp(
          `^error: date 2021-01-30 is locked by process ${Deno.pid} on .+ since .+ \\(pass --wait to wait for it\\)$`,
        ),
      );
      await assert.rejects(Deno.stat(`${dir}/b/results`), Deno.errors.NotFound);
    } finally {
      await release();
    }
  });
});

Deno.test("--wait waits for the holder, then runs", async () => {
  await withTempDir(async (dir) => {
    const args = await setup(dir);
    const release = await acquireLock({ cacheDir: `${dir}/c`, date: "2021-01-30", wait: false });
    const started = Date.now();
    setTimeout(() => release(), 400);
    const r = await runCli([...args, "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started >= 350);
  });
});

Deno.test("the lock of a killed process is taken over", async () => {
  await withTempDir(async (dir) => {
    const args = await setup(dir);
    const child = new Deno.Command("deno", {
      args: [
        "eval",
        `import { acquireLock } from "${REPO}/materializer/lock.ts";
         await acquireLock({ cacheDir: "${dir}/c", date: "2021-01-30", wait: false });
         console.log("locked");
         setInterval(() => {}, 1000);`,
      ],
      stdout: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.equal(new TextDecoder().decode(value).trim(), "locked");
    const blocked = await runCli(args);
    assert.equal(blocked.code, 1);
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
  });
});
