/**
 * A cache made from one working directory with a relative `--cache-dir`
 * works from another directory by its absolute path, and after being moved:
 * manifests name files relative to their entry, never by a path of the run
 * that wrote them.
 */

import assert from "node:assert/strict";
import { REPO, runProcess, withTempDir } from "./_helpers.ts";

const SELECT = "published_csv,hourly_device_counts,published_parquet";

Deno.test("a moved cache, used from another directory, recomputes downstream assets from it", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    await Deno.mkdir(`${dir}/results-a`);
    await Deno.mkdir(`${dir}/elsewhere`);
    await copyTree(`${REPO}/sample/bucket/2021`, `${bucket}/2021`);
    const args = (cacheDir: string) => [
      "materialize",
      "--date",
      "2021-01-30",
      "--bucket",
      bucket,
      "--cache-dir",
      cacheDir,
      "--select",
      SELECT,
      "--with-rows",
    ];
    const first = await runProcess(args(".cache-x"), { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const published = await readResults(bucket);

    // No manifest names the folder the cache is in (run records keep the flags as given).
    for await (const path of manifests(`${dir}/.cache-x`)) {
      assert.doesNotMatch(await Deno.readTextFile(path), /\.cache-x/, path);
    }

    await Deno.rename(`${dir}/.cache-x`, `${dir}/moved`);
    await Deno.remove(`${bucket}/results`, { recursive: true });
    for (const asset of ["hourly_device_counts", "published_parquet", "published_csv"]) {
      await Deno.remove(`${dir}/moved/2021-01-30/${asset}`, { recursive: true });
    }
    const second = await runProcess(args(`${dir}/moved`), { cwd: `${dir}/elsewhere` });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /raw_partition: up to date/);
    assert.match(second.stderr, /deduped_impressions: up to date/);
    assert.match(second.stderr, /hourly_device_counts: materialized/);
    assert.deepEqual(await readResults(bucket), published);
  });
});

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

async function* manifests(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* manifests(path);
    else if (entry.name === "manifest.json") yield path;
  }
}

async function readResults(bucket: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const root = `${bucket}/results/2021/01/30`;
  for await (const entry of Deno.readDir(root)) {
    out[entry.name] = btoa(String.fromCharCode(...await Deno.readFile(`${root}/${entry.name}`)));
  }
  return out;
}
