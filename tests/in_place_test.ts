/**
 * A folder bucket's objects are read where they lie, not copied into the
 * cache: the same bytes are published, and a file that is not (or stops
 * being) the version its listing said fails the read, on every path that
 * reads one (the header, the scan tasks on workers or inline, split
 * ranges, and the assets that read raw rows again).
 */

import assert from "node:assert/strict";
import { ASSETS } from "../assets/mod.ts";
import { rawPartition } from "../assets/raw_partition.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { createLogger } from "../materializer/log.ts";
import { materializePartition } from "../materializer/materialize.ts";
import { localState } from "../materializer/state.ts";
import { createEntryWriter } from "../materializer/cache.ts";
import { localObjectPath, openLocalBucket } from "../resources/local_bucket.ts";
import { ObjectChangedError, StorageError } from "../resources/errors.ts";
import { fileVersion } from "../resources/file_version.ts";
import { readObjectFile } from "../resources/object_file.ts";
import { scanDay } from "../engine/day_scan.ts";
import { runScanTask } from "../engine/scan_task.ts";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import {
  csv,
  materializeArgs,
  row,
  runCli,
  testContext,
  testParams,
  withTempDir,
  writeObjects,
} from "./_helpers.ts";

const DATE = "2021-01-30";
const RESULT = "results/2021/01/30/daily_agg_20210130_T.csv";

/** Rewrites `path` with one more byte (a new size and modification time). */
function rewrite(path: string): void {
  const bytes = Deno.readFileSync(path);
  Deno.writeFileSync(path, new Uint8Array([...bytes, 0x0a]));
}

Deno.test("a folder's objects are read in place: no copies, the copied run's bytes", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/b`;
    await writeSyntheticDay({ root, date: DATE, rows: 20_000, files: 3, seed: 5 });
    const inPlace = await runCli(materializeArgs(root, `${dir}/c1`));
    assert.equal(inPlace.code, 0, inPlace.stderr);
    assert.match(
      inPlace.stderr,
      /raw_partition: materialized .*objectsDownloaded=0 objectsReused=0 objectsReadInPlace=3 /,
    );
    const bytes = await Deno.readFile(`${root}/${RESULT}`);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${dir}/c1/${DATE}/raw_partition/manifest.json`),
    );
    assert.deepEqual(manifest.files, [], "nothing copied");
    assert.deepEqual(
      manifest.value.objects.map((o: { file: string; inPlace: boolean }) => [o.file, o.inPlace]),
      [["", true], ["", true], ["", true]],
    );
    assert.equal(
      JSON.stringify(manifest).includes(dir),
      JSON.stringify(manifest.value.bucket).includes(dir), // only the bucket's identity names it
    );

    await Deno.remove(`${root}/results`, { recursive: true });
    const copied = await runCli([...materializeArgs(root, `${dir}/c2`), "--copy-objects"]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.match(copied.stderr, /objectsDownloaded=3 objectsReused=0 objectsReadInPlace=0 /);
    assert.deepEqual(await Deno.readFile(`${root}/${RESULT}`), bytes);

    // A rerun has nothing to do; one that needs the raw rows again (device
    // counts) finds the files through the cached entry.
    const again = await runCli(materializeArgs(root, `${dir}/c1`));
    assert.match(again.stderr, /raw_partition: up to date/);
    assert.match(again.stderr, /deduped_impressions: up to date/);
    const devices = await runCli([
      ...materializeArgs(root, `${dir}/c1`),
      "--select",
      "hourly_device_counts",
    ]);
    assert.equal(devices.code, 0, devices.stderr);
    assert.match(devices.stderr, /raw_partition: up to date/);
    assert.match(devices.stderr, /hourly_device_counts: materialized/);
  });
});

Deno.test("readObjectFile: a file read in place must be the listed version, before and after", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/a.csv`;
    await Deno.writeTextFile(path, "x".repeat(10_000));
    const { etag } = (await fileVersion(path))!;
    const read = async (onChunk: () => void = () => {}) => {
      let n = 0;
      for await (
        const chunk of readObjectFile({
          path,
          gzip: false,
          key: "a.csv",
          version: etag,
          chunkSize: 4096,
        })
      ) {
        n += chunk.length;
        onChunk();
      }
      return n;
    };
    await t.step("unchanged: every byte", async () => {
      assert.equal(await read(), 10_000);
    });
    await t.step("changed while read: fails at the end", async () => {
      let first = true;
      await assert.rejects(
        read(() => {
          if (first) rewrite(path);
          first = false;
        }),
        (error: Error) =>
          error instanceof ObjectChangedError &&
          error.message === `object changed or disappeared while reading: file://${path}`,
      );
    });
    await t.step("changed while read by a reader that stops early (a header read)", async () => {
      const now = (await fileVersion(path))!.etag; // the step before rewrote it
      const reader = readObjectFile({
        path,
        gzip: false,
        key: "a.csv",
        version: now,
        chunkSize: 4096,
      });
      let chunks = 0;
      await assert.rejects(
        (async () => {
          for await (const _ of reader) {
            chunks++;
            rewrite(path);
            break;
          }
        })(),
        ObjectChangedError,
      );
      assert.equal(chunks, 1, "the first chunk was read, then the check failed");
    });
    await t.step("changed before: fails before reading", async () => {
      let chunks = 0;
      await assert.rejects(read(() => chunks++), ObjectChangedError);
      assert.equal(chunks, 0);
    });
    await t.step("gone: fails", async () => {
      await Deno.remove(path);
      await assert.rejects(read(), ObjectChangedError);
    });
  });
});

Deno.test("scan tasks check the version of a file read in place, on every path", async (t) => {
  await withTempDir(async (dir) => {
    const root = `${dir}/b`;
    await writeSyntheticDay({ root, date: DATE, rows: 40_000, files: 1, seed: 9 });
    const key = `2021/01/30/${[...Deno.readDirSync(`${root}/2021/01/30`)][0].name}`;
    const path = `${root}/${key}`;
    const listed = (await fileVersion(path))!;
    const header = (await Deno.readTextFile(path)).split("\n")[0].split(",");
    const object = { key, path, gzip: false, header, inPlace: true, ...listed };
    const paths: [string, number, number | undefined][] = [
      ["inline", 0, undefined],
      ["workers", 2, undefined],
      ["split ranges", 2, 64 * 1024],
    ];
    const scan = (tag: string, workers: number, splitBytes?: number) =>
      scanDay({
        objects: [object],
        date: DATE,
        maxInvalidRows: 0,
        workers,
        memoryBudget: 1 << 30,
        scratchDir: `${dir}/scratch-${tag}`,
        output: createEntryWriter(`${dir}/entry-${tag}`),
        splitBytes,
      });
    for (const [tag, workers, splitBytes] of paths) {
      await t.step(`${tag}: the listed version is read`, async () => {
        const day = await scan(tag, workers, splitBytes);
        assert.equal(day.rows, 40_000);
      });
    }
    rewrite(path);
    for (const [tag, workers, splitBytes] of paths) {
      await t.step(`${tag}: another version fails`, async () => {
        await assert.rejects(
          scan(`${tag}-changed`, workers, splitBytes),
          (error: Error) =>
            error instanceof ObjectChangedError && error.message.endsWith(`file://${path}`),
        );
      });
    }
    await t.step("a change while a task reads fails it after its last byte", async () => {
      const now = (await fileVersion(path))!;
      let changed = false;
      const result = await runScanTask({
        id: 0,
        key,
        path,
        version: now.etag,
        gzip: false,
        start: 0,
        end: -1,
        date: DATE,
        partitions: 256,
        spill: false,
        scratch: `${dir}/task`,
        maxInvalidRows: 10,
      }, () => {
        if (!changed) rewrite(path);
        changed = true;
      });
      assert.ok(changed, "read in more than one chunk");
      assert.deepEqual(result.error, { kind: "changed", target: `file://${path}` });
    });
  });
});

Deno.test("an object rewritten between the listing and the header read is listed anew, once", async (t) => {
  await withTempDir(async (dir) => {
    const root = `${dir}/b`;
    await writeObjects(root, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")),
      "2021/01/30/b.csv": csv(row("b", "2021-01-30 02:00:00", "2")),
    });
    const local = await openLocalBucket({ root });
    const graph = createGraph(ASSETS);
    const run = (rewrites: number) => {
      let left = rewrites;
      return materializePartition({
        selection: selectAssets(graph, undefined),
        partition: DATE,
        state: localState(`${dir}/c`),
        resources: {
          bucket: {
            ...local,
            // Someone rewrites b.csv right after its version was checked.
            async localPath(key: string, etag: string) {
              const path = await local.localPath!(key, etag);
              if (left > 0 && key.endsWith("b.csv")) {
                left--;
                await writeObjects(root, {
                  "2021/01/30/b.csv": csv(
                    row("b", "2021-01-30 02:00:00", "2"),
                    row("c", "2021-01-30 03:00:00", "2"),
                  ),
                });
              }
              return path;
            },
          },
        },
        params: testParams({ initials: "T" }),
        log: createLogger({ write: () => {} }),
      });
    };
    await t.step("once: the new version is published", async () => {
      const outcome = await run(1);
      assert.equal(outcome.status, "materialized", outcome.error);
      assert.equal(
        await Deno.readTextFile(`${root}/${RESULT}`),
        "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n1,1,1\n2,2,1\n2,3,1\n",
      );
    });
    await t.step("again and again: a clear failure, nothing published", async () => {
      await Deno.remove(`${dir}/c`, { recursive: true });
      await Deno.remove(`${root}/results`, { recursive: true });
      const outcome = await run(Infinity);
      assert.equal(outcome.status, "failed");
      assert.match(
        outcome.error!,
        /^object changed or disappeared while reading: file:\/\/.*\/2021\/01\/30\/b\.csv \(again after listing anew; is something still writing\?\)$/,
      );
      await assert.rejects(Deno.stat(`${root}/results`), Deno.errors.NotFound);
    });
  });
});

Deno.test("an object rewritten after the scan fails the asset that reads its rows again", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/b`;
    await writeObjects(root, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")),
    });
    const local = await openLocalBucket({ root });
    const graph = createGraph(ASSETS);
    const outcome = await materializePartition({
      selection: selectAssets(graph, ["hourly_device_counts"]),
      partition: DATE,
      state: localState(`${dir}/c`),
      resources: { bucket: local },
      params: testParams({ initials: "T" }),
      log: createLogger({ write: () => {} }),
      checkpoint: async (name) => {
        if (name === "after-asset:deduped_impressions") {
          await writeObjects(root, {
            "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1", "Tablet")),
          });
        }
      },
    });
    assert.equal(outcome.status, "failed");
    assert.match(
      outcome.error!,
      /^object changed or disappeared while reading: file:\/\/.*\/2021\/01\/30\/a\.csv$/,
    );
    await assert.rejects(
      Deno.stat(`${root}/results/2021/01/30/hourly_device_counts_20210130_T.csv`),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("localObjectPath: only a folder's identity and a literal key name a file", () => {
  assert.equal(
    localObjectPath("file:///data/my%20bucket", "2021/01/30/a.csv"),
    "/data/my bucket/2021/01/30/a.csv",
  );
  assert.equal(localObjectPath("file:///", "2021/01/30/a.csv"), "/2021/01/30/a.csv");
  for (const key of ["../x.csv", "2021/../../etc/passwd", "/etc/passwd", "a//b.csv", "a\\b", ""]) {
    assert.throws(() => localObjectPath("file:///data", key), StorageError, key);
  }
  for (const identity of ["s3://bucket", "file://host/x", "file:///%E0%A4%A"]) {
    assert.throws(() => localObjectPath(identity, "a.csv"), StorageError, identity);
  }
});

Deno.test("--copy-objects is part of raw_partition's version for a folder bucket only", async () => {
  await withTempDir(async (dir) => {
    const folder = await openLocalBucket({ root: dir });
    const s3Like = { ...folder, localPath: undefined };
    const params = (bucket: typeof folder, copyObjects: boolean) =>
      rawPartition.params!(testContext(DATE, { bucket, params: { copyObjects } }));
    assert.deepEqual(params(folder, false), { copyObjects: false });
    assert.deepEqual(params(folder, true), { copyObjects: true });
    // An S3 bucket's objects are always fetched: the flag changes nothing there.
    assert.deepEqual(params(s3Like, true), {});
    assert.deepEqual(params(s3Like, false), {});
  });
});

Deno.test("a tampered cache entry never reads outside the folder: one line, exit 1", async (t) => {
  await withTempDir(async (dir) => {
    const root = `${dir}/b`;
    await writeObjects(root, { "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")) });
    const cache = `${dir}/c`;
    const manifest = `${cache}/${DATE}/raw_partition/manifest.json`;
    const devices = `${root}/results/2021/01/30/device_agg_20210130_T.csv`;
    for (
      const [name, tamper, message] of [
        [
          "a key that climbs out",
          (m: { value: { objects: { key: string }[] } }) => {
            m.value.objects[0].key = "../../../etc/passwd";
          },
          "unsafe object key for a local bucket: ../../../etc/passwd",
        ],
        [
          "another kind of bucket",
          (m: { value: { bucket: string } }) => {
            m.value.bucket = "s3://elsewhere";
          },
          "not a folder bucket: s3://elsewhere",
        ],
      ] as const
    ) {
      await t.step(name, async () => {
        await Deno.remove(cache, { recursive: true }).catch(() => {});
        const first = await runCli(materializeArgs(root, cache));
        assert.equal(first.code, 0, first.stderr);
        const m = JSON.parse(await Deno.readTextFile(manifest));
        tamper(m);
        await Deno.writeTextFile(manifest, JSON.stringify(m));
        // Device counts read the raw rows again, through the cached entry.
        const r = await runCli([
          ...materializeArgs(root, cache),
          "--select",
          "hourly_device_counts",
        ]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr.split("\n").at(-1), `error: ${message}`);
        await assert.rejects(Deno.stat(devices), Deno.errors.NotFound);
      });
    }
  });
});

Deno.test("--copy-objects: a bad value in a profile or on the flag is a one-line usage error", async () => {
  await withTempDir(async (dir) => {
    const root = `${dir}/b`;
    await writeObjects(root, { "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")) });
    const config = `${dir}/pipeline.config.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({ profiles: { default: { copyObjects: "yes" } } }),
    );
    const hint = "run with --help for the flags";
    const profile = await runCli([...materializeArgs(root, `${dir}/c`), "--config", config]);
    assert.equal(profile.code, 2);
    assert.deepEqual(profile.stderr.trim().split("\n"), [
      `usage error: config ${config}: profiles.default.copyObjects: Invalid input: expected boolean, received string`,
      hint,
    ]);
    const flag = await runCli([...materializeArgs(root, `${dir}/c`), "--copy-objects=maybe"]);
    assert.equal(flag.code, 2);
    assert.deepEqual(flag.stderr.trim().split("\n"), [
      "usage error: Option '--copy-objects' does not take an argument",
      hint,
    ]);
    await assert.rejects(Deno.stat(`${dir}/c`), Deno.errors.NotFound);
  });
});
