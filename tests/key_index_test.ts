/**
 * The key segments of `engine/key_index.ts`: written by bucket, a key is
 * found by its id and instant (never by its hash alone), chunks read back
 * whole, and the filter never misses an added key.
 */

import assert from "node:assert/strict";
import {
  CorruptSegmentError,
  holdsKey,
  KeyFilter,
  readChunk,
  type Segment,
  SegmentBuilder,
} from "../engine/key_index.ts";
import { UUID_KEY } from "../engine/id_key.ts";
import { keyWords, writeRecord } from "../engine/key_record.ts";
import { createDedupeTable, dedupePartition } from "../engine/dedupe.ts";
import { Rng } from "./_rng.ts";
import { withTempDir } from "./_helpers.ts";

/**
 * Records of `n` keys: random hash lanes, ids of 16 bytes (packed UUIDs) or
 * 1 to 9 bytes, at whole seconds or (one in five) with nanoseconds.
 */
function makeRecords(rng: Rng, n: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let k = 0; k < n; k++) {
    const uuid = k % 3 !== 0;
    const length = uuid ? UUID_KEY : 1 + (k % 9);
    const words = uuid ? 4 : (length + 3) >>> 2;
    const id = Uint32Array.from({ length: words }, () => rng.next() >>> 0);
    const seconds = 1_611_964_800 + rng.int(86_400);
    const nanos = k % 5 === 0 ? 1 + rng.int(999_999_999) : 0;
    const record = new Uint32Array(16);
    const size = writeRecord(record, 0, rng.next() >>> 0, k, length, id, 0, seconds, nanos);
    out.push(record.slice(0, size));
  }
  return out;
}

function concat(records: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(records.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of records) out.set(r, at), at += r.length;
  return out;
}

Deno.test("a segment finds its keys by lanes and bytes, and reads chunks back whole", async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(3);
    const records = makeRecords(rng, 5000);
    // Chunks by the top 8 bits of the first lane, as a day's partitions come.
    const byChunk = Array.from({ length: 256 }, () => [] as Uint32Array[]);
    for (const r of records) byChunk[r[0] >>> 24].push(r);
    const builder = new SegmentBuilder(10);
    const filter = KeyFilter.sized(records.length, 1 << 20);
    // A segment holds keys: records without their row.
    const written = byChunk.map((chunk) => {
      const all = concat(chunk.map((r) => r.subarray(0, r.length - 1)));
      filter.add(all);
      return builder.sort(all);
    });
    const path = `${dir}/keys.bin`;
    await Deno.writeFile(path, new Uint8Array(concat(written).buffer));
    const segment: Segment = { file: await Deno.open(path), index: builder.index() };
    try {
      for (const r of records) {
        assert.ok(filter.mayHold(r, 0));
        assert.ok(holdsKey(segment, r, 0));
        // The same hash with other id bytes, another instant, or another
        // length, is another key.
        const other = r.slice();
        other[2] ^= 1;
        assert.equal(holdsKey(segment, other, 0), false);
        const later = r.slice();
        later[later.length - 2] += 1; // the instant's last word, before the row
        assert.equal(holdsKey(segment, later, 0), false);
        if ((r[0] & 1) === 0) {
          // A header: another id length.
          const shorter = r.slice();
          shorter[1] = (r[1] & 0x7fffffff) === UUID_KEY ? r[1] - UUID_KEY + 16 : r[1] + 100;
          assert.equal(holdsKey(segment, shorter, 0), false);
        } else {
          // The usual form (a UUID at a whole second): the same words in the other form.
          const other = new Uint32Array(r.length + 1);
          other.set([r[0] & ~1, UUID_KEY, ...r.subarray(1)]);
          assert.equal(holdsKey(segment, other, 0), false);
        }
        // Another row of the same key is the same key.
        const again = r.slice();
        again[again.length - 1] += 7;
        assert.ok(holdsKey(segment, again, 0));
      }
      for (const chunkBits of [8, 9, 12]) {
        let words = 0;
        for (let c = 0; c < 2 ** chunkBits; c++) {
          const chunk = readChunk(segment, c, chunkBits);
          for (
            let i = 0;
            i < chunk.length;
            i += keyWords(chunk, i)
          ) {
            assert.equal(chunk[i] >>> (32 - chunkBits), c);
          }
          words += chunk.length;
        }
        assert.equal(words, concat(records).length - records.length);
      }
    } finally {
      segment.file.close();
    }
  });
});

Deno.test("a builder of a range of buckets counts them as a whole one does, and refuses others", () => {
  const rng = new Rng(5);
  const records = makeRecords(rng, 2000);
  const bits = 10;
  // The records of buckets 256 to 511: the top two bits of the first lane are 01.
  const inRange = records.filter((r) => r[0] >>> 30 === 1);
  const all = concat(inRange);
  const kept = new Uint8Array(records.length).fill(1);
  const runs = [{ records: all, rowOffset: 0 }];
  const whole = new SegmentBuilder(bits);
  const part = new SegmentBuilder(bits, { from: 256, to: 512 });
  const a = whole.sortKept(runs, kept, KeyFilter.sized(2000, 1 << 16));
  const b = part.sortKept(runs, kept, KeyFilter.sized(2000, 1 << 16));
  assert.deepEqual(b, a);
  assert.deepEqual(part.takeCounts(256, 512), whole.takeCounts(256, 512));
  assert.ok(part.takeCounts(256, 512).some((n) => n > 0) === false); // taken: none left

  // A record of bucket 0 is outside: refused with the buckets named, and
  // the builder is as it was, so the next chunk is counted right.
  const outside = concat([...records.filter((r) => r[0] >>> 30 === 0).slice(0, 1), inRange[0]]);
  assert.throws(
    () => part.sortKept([{ records: outside, rowOffset: 0 }], kept, KeyFilter.sized(2000, 1 << 16)),
    (e: unknown) => e instanceof RangeError && /outside the builder's 256 to 511/.test(e.message),
  );
  const again = part.sortKept(runs, kept, KeyFilter.sized(2000, 1 << 16));
  assert.deepEqual(again, a);
  const fresh = new SegmentBuilder(bits, { from: 256, to: 512 });
  fresh.sortKept(runs, kept, KeyFilter.sized(2000, 1 << 16));
  assert.deepEqual(part.takeCounts(256, 512), fresh.takeCounts(256, 512));

  // dedupeSorted refuses them too, and its next call is as a fresh builder's.
  const table = createDedupeTable();
  const dedupeInto = (builder: SegmentBuilder, records: Uint32Array, into: Uint32Array) =>
    builder.dedupeSorted(
      [{ records, rowOffset: 0 }],
      new Uint8Array(2000),
      KeyFilter.sized(2000, 1 << 16),
      into,
      table,
    );
  const into = new Uint32Array(all.length + outside.length);
  assert.throws(
    () => dedupeInto(part, outside, into),
    (e: unknown) => e instanceof RangeError && /outside the builder's 256 to 511/.test(e.message),
  );
  const sorted = dedupeInto(part, all, into);
  const other = new SegmentBuilder(bits, { from: 256, to: 512 });
  const into2 = new Uint32Array(all.length);
  const want = dedupeInto(other, all, into2);
  assert.ok(want.words > 0);
  assert.equal(sorted.words, want.words);
  assert.deepEqual([...into.subarray(0, sorted.words)], [...into2.subarray(0, want.words)]);
  assert.deepEqual([...part.takeCounts(256, 512)], [...other.takeCounts(256, 512)]);
  assert.throws(() => new SegmentBuilder(bits, { from: 600, to: 2000 }), RangeError);
});

Deno.test("dedupeSorted keeps what a hash table then a sort keep, in small buckets and in a flooded one", async (t) => {
  const rng = new Rng(9);
  const base = makeRecords(rng, 700);
  for (const flooded of [false, true]) {
    await t.step(flooded ? "one bucket of every record" : "random buckets", () => {
      // Rows drawn from the keys with repeats; flooded, every first lane has the same top bits.
      const rows: Uint32Array[] = [];
      for (let r = 0; r < 3000; r++) {
        const record = base[rng.int(base.length)].slice();
        if (flooded) record[0] = (record[0] & 0x000fffff) | 0x12300000;
        record[record.length - 1] = r;
        rows.push(record);
      }
      const all = concat(rows);
      // Two runs in row order: the first 1000 rows at offset 0, the rest after them.
      const cut = rows.slice(0, 1000).reduce((n, r) => n + r.length, 0);
      const runs = [
        { records: all.subarray(0, cut), rowOffset: 0 },
        { records: all.subarray(cut), rowOffset: 0 },
      ];
      const bits = 12;
      const wantKept = new Uint8Array(3000);
      const want = new SegmentBuilder(bits);
      const wantFilter = KeyFilter.sized(3000, 1 << 16);
      const wantDuplicates = dedupePartition(runs, wantKept, createDedupeTable());
      const wantRecords = want.sortKept(runs, wantKept, wantFilter);

      const kept = new Uint8Array(3000);
      const got = new SegmentBuilder(bits);
      const filter = KeyFilter.sized(3000, 1 << 16);
      const into = new Uint32Array(all.length);
      const result = got.dedupeSorted(runs, kept, filter, into, createDedupeTable());
      assert.equal(result.duplicates, wantDuplicates);
      assert.ok(result.duplicates > 1000);
      assert.deepEqual([...into.subarray(0, result.words)], [...wantRecords]);
      assert.deepEqual([...kept], [...wantKept]);
      assert.deepEqual([...filter.bytes], [...wantFilter.bytes]);
      assert.deepEqual([...got.index()], [...want.index()]);
    });
  }
});

Deno.test("a segment whose bytes were changed at its size is refused, not read as a 2 GiB key", async () => {
  await withTempDir(async (dir) => {
    const rng = new Rng(21);
    const records = makeRecords(rng, 300);
    const builder = new SegmentBuilder(8);
    const keys = builder.sort(concat(records.map((r) => r.subarray(0, r.length - 1))));
    // The first key of another form (a header word) gets a header of the longest id.
    let at = 0;
    while ((keys[at] & 1) === 1) at += 6;
    const bad = keys.slice();
    bad[at + 1] = 0x7ffffffe;
    const path = `${dir}/keys.bin`;
    await Deno.writeFile(path, new Uint8Array(bad.buffer));
    const segment: Segment = { file: await Deno.open(path), index: builder.index() };
    try {
      const bucket = keys[at] >>> 24;
      const victim = records.find((r) => r[0] === keys[at])!;
      assert.throws(
        () => holdsKey(segment, victim, 0),
        (e: unknown) => e instanceof CorruptSegmentError && /runs past its end/.test(e.message),
      );
      assert.throws(() => readChunk(segment, bucket, 8), CorruptSegmentError);
      assert.throws(() => readChunk(segment, bucket << 2, 10), CorruptSegmentError);
      // Other buckets read as before.
      const other = records.find((r) => r[0] >>> 24 !== bucket)!;
      assert.ok(holdsKey(segment, other, 0));
    } finally {
      segment.file.close();
    }
  });
});
