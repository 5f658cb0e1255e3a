/**
 * A full disk (ENOSPC) or a read-only cache is a local I/O error: never
 * retried as if S3 had failed, one line naming the path and the operating
 * system's reason, exit 1. Uses small tmpfs mounts (needs root); without
 * them the tests are ignored, saying why.
 */

import assert from "node:assert/strict";
import { rawPartition } from "../assets/raw_partition.ts";
import { runScanTask } from "../engine/scan_task.ts";
import { LocalIoError } from "../resources/local_io.ts";
import { openS3Bucket } from "../resources/s3_bucket.ts";
import { startFaultProxy } from "./_fault_proxy.ts";
import {
  csv,
  materializeArgs,
  row,
  runCli,
  testContext,
  withTempDir,
  writeObjects,
} from "./_helpers.ts";
import { startTestS3 } from "./_s3_server.ts";
import { recordSummary } from "./_summary.ts";

async function run(...args: string[]): Promise<{ ok: boolean; stderr: string }> {
  const out = await new Deno.Command(args[0], { args: args.slice(1), stderr: "piped" }).output();
  return { ok: out.success, stderr: new TextDecoder().decode(out.stderr).trim() };
}

/** Mounts a tmpfs of `size` on `dir` (read-only with `readOnly`); returns why not, or null. */
async function mountTmpfs(dir: string, size: string, readOnly = false): Promise<string | null> {
  await Deno.mkdir(dir, { recursive: true });
  const mounted = await run("mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir);
  if (!mounted.ok) return `cannot mount a tmpfs: ${mounted.stderr}`;
  if (readOnly) {
    await Deno.mkdir(`${dir}/cache`);
    const ro = await run("mount", "-o", "remount,ro", dir);
    if (!ro.ok) {
      await run("umount", dir);
      return `cannot remount read-only: ${ro.stderr}`;
    }
  }
  return null;
}

/** Whether tmpfs mounts work here (root in a namespace that allows them). */
const cannotMount = await (async () => {
  const dir = await Deno.makeTempDir({ prefix: "impressions-mount-probe-" });
  try {
    const why = await mountTmpfs(dir, "64k").catch((e) => `cannot run mount: ${e.message}`);
    if (why === null) await run("umount", dir);
    return why;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
})();
if (cannotMount) console.warn(`local_io_test: ignored: ${cannotMount}`);

/** Runs `fn` with a tmpfs of `size` mounted on `dir/mnt`, unmounted afterwards. */
async function withTmpfs<T>(
  dir: string,
  size: string,
  fn: (mnt: string) => Promise<T>,
  readOnly = false,
): Promise<T> {
  const mnt = `${dir}/mnt`;
  const why = await mountTmpfs(mnt, size, readOnly);
  if (why) throw new Error(why);
  try {
    return await fn(mnt);
  } finally {
    await run("umount", mnt);
  }
}

function rows(n: number): string {
  return csv(
    ...Array.from(
      { length: n },
      (_, i) => row(`id-${i}`, `2021-01-30 ${String(i % 24).padStart(2, "0")}:00:00`, `${i % 5}`),
    ),
  );
}

Deno.test({
  name: "a full cache disk fails at once, naming the file and 'No space left on device'",
  ignore: cannotMount !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const s3 = await startTestS3();
    try {
      s3.createBucket("impressions-enospc");
      await s3.put("impressions-enospc", { "2021/01/30/a.csv": rows(20_000) }); // ~2 MB
      await withTempDir(async (dir) => {
        await t.step("S3 download (one stream)", async () => {
          await withTmpfs(dir, "512k", async (mnt) => {
            const r = await runCli([
              ...materializeArgs("s3://impressions-enospc", `${mnt}/cache`),
              "--endpoint-url",
              s3.endpoint,
            ]);
            assert.equal(r.code, 1, r.stderr);
            assert.doesNotMatch(r.stderr, /retry|body ended early|internal error/);
            const last = r.stderr.split("\n").at(-1)!;
            assert.match(
              last,
              new RegExp(
                `^error: cannot write ${mnt}/cache/2021-01-30/raw_partition/objects/[0-9a-f-]+\\.csv: No space left on device \\(os error 28\\)$`,
              ),
            );
            // Nothing half-written stays behind.
            const left = [...Deno.readDirSync(`${mnt}/cache/2021-01-30/raw_partition/objects`)];
            assert.deepEqual(left, []);
          });
        });
        await t.step("S3 ranged download: no part is fetched twice", async () => {
          await withTmpfs(dir, "256k", async (mnt) => {
            let gets = 0;
            const proxy = startFaultProxy(s3.endpoint, (r) => {
              if (r.method === "GET" && r.path.includes("a.csv")) gets++;
              return null;
            });
            try {
              const bucket = await openS3Bucket({
                bucket: "impressions-enospc",
                endpoint: proxy.endpoint,
                retry: { retries: 3, sleep: () => Promise.resolve() },
              });
              const retries: string[] = [];
              const ctx = testContext("2021-01-30", {
                bucket,
                dir: `${mnt}/entry`,
                params: { downloadPartBytes: 64 * 1024, retries: 3 },
              });
              ctx.log.log = (_level: string, message: string) => void retries.push(message);
              ctx.observation = (await rawPartition.observe!(ctx)).detail;
              const error = await rawPartition.compute({}, ctx).then(
                () => assert.fail("compute succeeded on a full disk"),
                (e) => e,
              );
              bucket.close();
              assert.ok(error instanceof LocalIoError, String(error));
              assert.match(
                error.message,
                /^cannot write .*: No space left on device \(os error 28\)$/,
              );
              assert.deepEqual(retries.filter((m) => /retry/.test(m)), []);
              const size = (await s3.text("impressions-enospc", "2021/01/30/a.csv"))!.length;
              assert.ok(gets <= Math.ceil(size / (64 * 1024)), `${gets} GETs`);
            } finally {
              proxy.close();
            }
          });
        });
      });
    } finally {
      await s3.stop();
    }
    await t.step("local-folder bucket read in place: the key segment's write", async () => {
      await withTempDir(async (dir) => {
        await writeObjects(`${dir}/b`, { "2021/01/30/a.csv": rows(20_000) });
        await withTmpfs(dir, "512k", async (mnt) => {
          const r = await runCli(materializeArgs(`${dir}/b`, `${mnt}/cache`));
          assert.equal(r.code, 1, r.stderr);
          assert.doesNotMatch(r.stderr, /retry|internal error/);
          assert.match(
            r.stderr.split("\n").at(-1)!,
            /^error: cannot write .*\/cache\/2021-01-30\/deduped_impressions\/[^ ]+: No space left on device \(os error 28\)$/,
          );
          // Nothing half-written stays behind.
          const left: string[] = [];
          const walk = (folder: string) => {
            for (const e of Deno.readDirSync(folder)) {
              if (e.isDirectory) walk(`${folder}/${e.name}`);
              else if (e.name.endsWith(".tmp")) left.push(e.name);
            }
          };
          walk(mnt);
          assert.deepEqual(left, []);
        });
      });
    });
    await t.step("local-folder bucket (kernel copy, --copy-objects)", async () => {
      await withTempDir(async (dir) => {
        await writeObjects(`${dir}/b`, { "2021/01/30/a.csv": rows(20_000) });
        await withTmpfs(dir, "512k", async (mnt) => {
          const r = await runCli([
            ...materializeArgs(`${dir}/b`, `${mnt}/cache`),
            "--copy-objects",
          ]);
          assert.equal(r.code, 1, r.stderr);
          assert.doesNotMatch(r.stderr, /retry|internal error/);
          assert.match(
            r.stderr.split("\n").at(-1)!,
            /^error: cannot copy .*\/2021\/01\/30\/a\.csv to .*: No space left on device \(os error 28\)$/,
          );
        });
      });
    });
    recordSummary({ badInputs: 3 });
  },
});

Deno.test({
  name: "a read-only cache is one error line naming the folder, no 'internal error'",
  ignore: cannotMount !== null,
  async fn() {
    await withTempDir(async (dir) => {
      await writeObjects(`${dir}/b`, { "2021/01/30/a.csv": rows(10) });
      await withTmpfs(dir, "64k", async (mnt) => {
        const r = await runCli(materializeArgs(`${dir}/b`, `${mnt}/cache`));
        assert.equal(r.code, 1, r.stderr);
        const message =
          `cannot create folder ${mnt}/cache/locks: Read-only file system (os error 30)`;
        assert.deepEqual(r.stderr.split("\n"), [
          `[2021-01-30] error: ${message}`,
          `error: ${message}`,
        ]);
      }, true);
    });
    recordSummary({ badInputs: 1 });
  },
});

Deno.test({
  name: "a parse task whose scratch folder is read-only reports a local I/O error",
  ignore: cannotMount !== null,
  async fn() {
    await withTempDir(async (dir) => {
      const path = `${dir}/a.csv`;
      await Deno.writeTextFile(path, rows(10));
      await withTmpfs(dir, "64k", async (mnt) => {
        const result = await runScanTask({
          id: 0,
          key: "a.csv",
          path,
          gzip: false,
          start: 0,
          end: -1,
          date: "2021-01-30",
          partitions: 256,
          spill: false,
          scratch: `${mnt}/cache/scratch`,
          maxInvalidRows: 0,
        });
        assert.deepEqual(result.error, {
          kind: "io",
          problem: {
            operation: "create folder",
            path: `${mnt}/cache/scratch`,
            reason: "Read-only file system (os error 30)",
          },
        });
      }, true);
    });
  },
});
