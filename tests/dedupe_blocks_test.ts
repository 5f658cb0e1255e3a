import assert from "node:assert/strict";
import {
  abandonLayout,
  BlockAbandonedError,
  blockRun,
  blockStarts,
  dedupeBlock,
  segmentLayout,
} from "../engine/dedupe_blocks.ts";
import { withTempDir } from "./_helpers.ts";
import { createDedupeTable, dedupePartition, type RecordRun } from "../engine/dedupe.ts";
import { KeyFilter, SegmentBuilder } from "../engine/key_index.ts";
import { KeyPartitions } from "../engine/key_partitions.ts";
import { ScanPool } from "../engine/scan_pool.ts";
import { idWords, UUID_KEY } from "../engine/id_key.ts";
import type { RowBlock } from "../engine/scan_impressions.ts";
import { Rng } from "./_rng.ts";

interface Key {
  hash: number[];
  length: number;
  id: number[];
  seconds: number;
  nanos: number;
}

/**
 * Keys to draw rows from: random ones, some at instants with nanoseconds,
 * and pairs with the same hash but different id bytes, or the same id and
 * a different instant (which must stay two keys).
 */
function keyPool(rng: Rng, size: number): Key[] {
  const keys: Key[] = [];
  while (keys.length < size) {
    const hash = [0, 1, 2, 3].map(() => rng.int(2 ** 32));
    const length = rng.int(3) === 0 ? 1 + rng.int(30) : UUID_KEY;
    const id = Array.from({ length: idWords(length) }, () => rng.int(2 ** 32));
    const seconds = 1_611_964_800 + rng.int(86_400);
    const nanos = rng.int(8) === 0 ? rng.int(1_000_000_000) : 0;
    keys.push({ hash, length, id, seconds, nanos });
    if (rng.int(10) === 0) keys.push({ hash, length, id: id.map((w) => w ^ 1), seconds, nanos });
    if (rng.int(10) === 0) keys.push({ hash, length, id, seconds, nanos: nanos + 1 });
    if (rng.int(10) === 0) keys.push({ hash, length, id, seconds: seconds - 2 ** 32, nanos });
  }
  return keys;
}

/** A parse task's records: `rows` rows drawn from `keys`, many of them repeats. */
function taskRecords(rng: Rng, keys: Key[], rows: number, partitions: number): Uint32Array[] {
  const hashes = new Uint32Array(rows * 4);
  const seconds = new Float64Array(rows);
  const nanos = new Uint32Array(rows);
  const keyLengths = new Uint32Array(rows);
  const keyStarts = new Uint32Array(rows + 1);
  const words: number[] = [];
  for (let r = 0; r < rows; r++) {
    const key = keys[rng.int(keys.length)];
    hashes.set(key.hash, r * 4);
    seconds[r] = key.seconds;
    nanos[r] = key.nanos;
    keyLengths[r] = key.length;
    words.push(...key.id);
    keyStarts[r + 1] = words.length;
  }
  const block: RowBlock = {
    firstRow: 0,
    rows,
    hashes,
    seconds,
    nanos,
    hours: new Int8Array(rows),
    campaigns: new Uint32Array(rows),
    keys: Uint32Array.from(words),
    keyStarts,
    keyLengths,
  };
  const split = new KeyPartitions(partitions);
  split.add(block, 0);
  return split.take({ shared: true });
}

/** The segment, kept flags, index and filter of one thread going through every partition. */
function oneThread(
  tasks: Uint32Array[][],
  offsets: number[],
  rows: number,
  partitions: number,
  bits: number,
) {
  const kept = new Uint8Array(rows);
  const builder = new SegmentBuilder(bits);
  const filter = KeyFilter.sized(rows, 1 << 20);
  const table = createDedupeTable();
  const chunks: number[] = [];
  let duplicates = 0;
  for (let p = 0; p < partitions; p++) {
    const runs: RecordRun[] = tasks.map((t, i) => ({ records: t[p], rowOffset: offsets[i] }))
      .filter((r) => r.records.length > 0);
    duplicates += dedupePartition(runs, kept, table);
    chunks.push(...builder.sortKept(runs, kept, filter));
  }
  return { kept, records: chunks, index: [...builder.index()], filter: filter.bytes, duplicates };
}

for (
  const { partitions, bits } of [{ partitions: 256, bits: 8 }, { partitions: 2048, bits: 8 }, {
    partitions: 2048,
    bits: 14,
  }, { partitions: 512, bits: 20 }]
) {
  Deno.test(`blocks on two workers give one thread's bytes (${partitions} partitions, ${bits} bucket bits)`, async () => {
    const rng = new Rng(partitions + bits);
    const keys = keyPool(rng, 30_000);
    const sizes = [20_000, 1, 15_000, 0, 25_000];
    const tasks = sizes.map((n) => taskRecords(rng, keys, n, partitions));
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const rows = sizes.reduce((a, b) => a + b, 0);
    const want = oneThread(tasks, offsets, rows, partitions, bits);
    assert.ok(want.duplicates > 10_000, "the day has repeats");

    const kept = new Uint8Array(new SharedArrayBuffer(rows));
    const filter = KeyFilter.sized(rows, 1 << 20, { shared: true });
    const builder = new SegmentBuilder(bits);
    const pool = new ScanPool(2);
    const file = await Deno.makeTempFile();
    const filterFile = await Deno.makeTempFile();
    await Deno.truncate(filterFile, filter.bytes.length);
    try {
      const starts = blockStarts(partitions);
      const layout = segmentLayout(starts.length);
      const results = await Promise.all(starts.map((first, index) =>
        pool.dedupe({
          kind: "dedupe",
          index,
          first,
          partitions,
          runs: tasks.map((t, i) =>
            blockRun(t, first, (starts[index + 1] ?? partitions) - first, offsets[i])
          ),
          kept,
          filter: filter.bytes,
          bucketBits: bits,
          file,
          name: "keys.bin",
          filterFile,
          filterName: "filter.bin",
          layout,
        })
      ));
      let duplicates = 0;
      for (const result of results) {
        assert.equal(result.error, undefined);
        duplicates += result.duplicates;
        builder.addCounts(result.lo, result.counts);
      }
      assert.equal(duplicates, want.duplicates);
      assert.deepEqual([...kept], [...want.kept]);
      const bytes = await Deno.readFile(file);
      assert.deepEqual([...new Uint32Array(bytes.buffer)], want.records);
      assert.equal(Number(layout.words[starts.length]), want.records.length);
      assert.deepEqual([...builder.index()], want.index);
      assert.deepEqual([...filter.bytes], [...want.filter]);
      // Each block wrote its regions of the filter's file. (Found by the
      // first byte that differs: a diff of a megabyte would not end.)
      const written = await Deno.readFile(filterFile);
      assert.equal(written.length, want.filter.length);
      assert.equal(written.findIndex((b, i) => b !== want.filter[i]), -1, "filter file bytes");
    } finally {
      await pool.close();
      await Deno.remove(file);
      await Deno.remove(filterFile);
    }
  });
}

Deno.test("blocks are whole filter regions, in order, and cover every partition", () => {
  for (const partitions of [256, 512, 2048, 4096, 65536]) {
    const starts = blockStarts(partitions);
    const size = starts[1] - starts[0];
    assert.equal(starts[0], 0);
    assert.ok(size % Math.max(1, partitions / 256) === 0, `${partitions}: whole regions`);
    assert.deepEqual(starts, starts.map((_, i) => i * size));
    assert.equal(starts.at(-1)! + size, partitions);
  }
});

/** A block of `tasks`' records at position `index`, writing to `file`. */
function blockOf(
  tasks: Uint32Array[][],
  index: number,
  file: string,
  layout = segmentLayout(index + 1),
) {
  return {
    kind: "dedupe" as const,
    index,
    first: index * 4,
    partitions: 256,
    runs: tasks.map((t) => blockRun(t, index * 4, 4, 0)),
    kept: new Uint8Array(1000),
    filter: new Uint8Array(1024),
    bucketBits: 8,
    file,
    name: `${file}-name`,
    layout,
  };
}

Deno.test("a block with no records keeps nothing and writes nothing", () => {
  const records = Array.from({ length: 256 }, () => new Uint32Array(0));
  const result = dedupeBlock(blockOf([records], 0, "/nonexistent/keys.bin"));
  assert.deepEqual(result, { duplicates: 0, lo: 0, counts: new Float64Array(4) });
});

Deno.test("a block's failed write comes back as a local I/O problem naming the file", async () => {
  await withTempDir((dir) => {
    const tasks = [taskRecords(new Rng(3), keyPool(new Rng(4), 100), 1000, 256)];
    const result = dedupeBlock(blockOf(tasks, 0, `${dir}/missing/keys.tmp`));
    assert.equal(result.error?.path, `${dir}/missing/keys.tmp-name`);
    assert.equal(result.error?.operation, "write");
    return Promise.resolve();
  });
});

Deno.test("a block's failed filter write names the filter, after its part of the segment", async () => {
  await withTempDir(async (dir) => {
    const tasks = [taskRecords(new Rng(3), keyPool(new Rng(4), 100), 1000, 256)];
    const segment = `${dir}/keys.tmp`;
    await Deno.writeFile(segment, new Uint8Array(0));
    const result = dedupeBlock({
      ...blockOf(tasks, 0, segment),
      filterFile: `${dir}/missing/filter.tmp`,
      filterName: "dedupe/filter-0.bin",
    });
    assert.equal(result.error?.path, "dedupe/filter-0.bin");
    assert.equal(result.error?.operation, "write");
    assert.ok((await Deno.stat(segment)).size > 0, "the segment's part was written first");
  });
});

Deno.test("a block after an abandoned one gives up instead of waiting", () => {
  const tasks = [taskRecords(new Rng(5), keyPool(new Rng(6), 100), 1000, 256)];
  const layout = segmentLayout(3);
  abandonLayout(layout);
  assert.throws(
    () => dedupeBlock(blockOf(tasks, 2, "/nonexistent/keys.bin", layout)),
    BlockAbandonedError,
  );
});

Deno.test("a block waits for the one before it, then starts where it ended", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/keys.bin`;
    await Deno.writeFile(file, new Uint8Array(0));
    const tasks = [taskRecords(new Rng(7), keyPool(new Rng(8), 500), 2000, 256)];
    const layout = segmentLayout(2);
    const pool = new ScanPool(1);
    try {
      // Block 1 starts first, on a worker; it must wait for block 0.
      const second = pool.dedupe(blockOf(tasks, 1, file, layout));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(Atomics.load(layout.ready, 2), 0, "block 1 waited");
      const first = dedupeBlock(blockOf(tasks, 0, file, layout));
      const wrote = await second;
      assert.equal(first.error, undefined);
      assert.equal(wrote.error, undefined);
      const ends = [...layout.words].map(Number);
      assert.ok(ends[1] > 0 && ends[2] > ends[1]);
      assert.equal((await Deno.stat(file)).size, ends[2] * 4);
    } finally {
      await pool.close();
    }
  });
});

Deno.test("a block left waiting by a closed pool gives up, and the process ends", async () => {
  await withTempDir(async (dir) => {
    const engine = new URL("../engine/", import.meta.url).href;
    const script = `${dir}/waiting_block.ts`;
    await Deno.writeTextFile(
      script,
      `import { ScanPool } from "${engine}scan_pool.ts";
import { abandonLayout, blockRun, segmentLayout } from "${engine}dedupe_blocks.ts";
const pool = new ScanPool(1);
const records = Array.from({ length: 256 }, () => new Uint32Array(0));
const layout = segmentLayout(3);
// Block 2 waits for block 1, which never comes; the pool is closed under it.
const block = pool.dedupe({
  kind: "dedupe", index: 2, first: 8, partitions: 256, runs: [blockRun(records, 8, 4, 0)],
  kept: new Uint8Array(0), filter: new Uint8Array(new SharedArrayBuffer(1024)), bucketBits: 8,
  file: "${dir}/keys.bin", name: "keys.bin", layout,
});
block.catch(() => abandonLayout(layout)); // what day_scan does for every block
await new Promise((r) => setTimeout(r, 300));
await pool.close();
console.log(await block.then(() => "resolved", (e) => e.message));
`,
    );
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const output = await child.output();
    clearTimeout(timer);
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.equal(new TextDecoder().decode(output.stdout).trim(), "the parser pool is closed");
    assert.ok(performance.now() - started < 15_000, "the process ended");
  });
});
