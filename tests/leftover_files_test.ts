/**
 * A run killed mid-download leaves a full-size `*.tmp`; the next run of
 * that date removes the leftovers of dead processes, and never the files
 * of a running one.
 */

import assert from "node:assert/strict";
import { hostTag, temporaryOwner, temporaryPath } from "../resources/atomic_file.ts";
import { processRunning, removeLeftoverTemporaries } from "../resources/leftover_files.ts";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import { materializeArgs, REPO, runProcess, taskPermissions, withTempDir } from "./_helpers.ts";
import { recordSummary } from "./_summary.ts";

const DATE = "2021-01-30";

async function temporaries(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await temporaries(path));
    else if (entry.name.endsWith(".tmp")) found.push(path);
  }
  return found.sort();
}

/** A process that has ended (and was reaped): its pid is free. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("temporary names carry this host and pid", () => {
  const path = temporaryPath("/cache/2021-01-30/raw_partition/objects/ab-cd.csv");
  assert.deepEqual(temporaryOwner(path), { host: hostTag(), pid: Deno.pid });
  assert.equal(temporaryOwner("/cache/a.csv"), null);
  assert.equal(temporaryOwner("/cache/a.csv.1234.abc.0.tmp"), null); // the old form: unknown host
});

Deno.test("a rerun after SIGKILL mid-download leaves no *.tmp behind", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    const cache = `${dir}/cache`;
    await writeSyntheticDay({ root: bucket, date: DATE, rows: 6_000, files: 2, seed: 3 });
    const args = [...materializeArgs(bucket, cache), "--copy-objects"];
    // Killed with the first object copied into its temporary name.
    const pauseFile = `${dir}/paused`;
    const child = new Deno.Command("deno", {
      args: [
        "run",
        ...taskPermissions(),
        `${REPO}/tests/_pausing_main.ts`,
        "cache-write:raw_partition/objects/",
        pauseFile,
        ...args,
      ],
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    let reached = false;
    const ended = child.status.then(() => true);
    while (!reached) {
      reached = await Deno.stat(pauseFile).then(() => true, () => false);
      if (!reached && await Promise.race([ended, new Promise((r) => setTimeout(r, 20, false))])) {
        break;
      }
    }
    assert.ok(reached, "the run never reached the download");
    child.kill("SIGKILL");
    await child.status;
    const left = await temporaries(`${cache}/${DATE}`);
    // One per object copied when it paused (objects are fetched concurrently).
    assert.ok(left.length >= 1);
    for (const path of left) {
      assert.equal(temporaryOwner(path)?.pid, child.pid);
      assert.ok((await Deno.stat(path)).size > 0);
    }

    const rerun = await runProcess(args);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, new RegExp(`removed ${left.length} temporary files of dead`));
    assert.deepEqual(await temporaries(`${cache}/${DATE}`), []);
  });
  recordSummary({ crashPoints: 1 });
});

Deno.test("a running process's temporaries of this host are kept", async () => {
  await withTempDir(async (dir) => {
    const folder = `${dir}/2021-01-30/raw_partition/objects`;
    await Deno.mkdir(folder, { recursive: true });
    const live = new Deno.Command("sleep", { args: ["60"] }).spawn();
    try {
      const dead = await deadPid();
      // /proc answers only under --allow-all (deno test -A), not the task's permissions.
      if ((await processRunning(Deno.pid)) !== undefined) {
        assert.equal(await processRunning(dead), false);
        assert.equal(await processRunning(live.pid), true);
      }
      const isRunning = (pid: number) =>
        Promise.resolve(pid === live.pid ? true : pid === dead ? false : undefined);
      const host = hostTag();
      const files = {
        live: `${folder}/a.csv.${host}@${live.pid}.k1.0.tmp`,
        dead: `${folder}/b.csv.${host}@${dead}.k1.0.tmp`,
        mine: `${folder}/c.csv.${host}@${Deno.pid}.k1.0.tmp`, // a dead run with this pid
        otherHost: `${folder}/d.csv.other-host@${live.pid}.k1.0.tmp`, // the date lock covers it
        notOurs: `${folder}/notes.tmp`,
        data: `${folder}/e.csv`,
      };
      for (const path of Object.values(files)) await Deno.writeTextFile(path, "x");
      const removed = await removeLeftoverTemporaries(`${dir}/2021-01-30`, { isRunning });
      assert.deepEqual(removed.sort(), [files.dead, files.mine, files.otherHost].sort());
      const kept = (await Array.fromAsync(Deno.readDir(folder))).map((e) => e.name).sort();
      assert.deepEqual(kept, ["a.csv." + `${host}@${live.pid}.k1.0.tmp`, "e.csv", "notes.tmp"]);
      // Where /proc cannot be read, the date's lock is the guard: all go.
      const none = await removeLeftoverTemporaries(`${dir}/2021-01-30`, {
        isRunning: () => Promise.resolve(undefined),
      });
      assert.deepEqual(none, [files.live]);
    } finally {
      live.kill("SIGKILL");
      await live.status;
    }
  });
});
