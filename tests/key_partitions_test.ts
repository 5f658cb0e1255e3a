import assert from "node:assert/strict";
import { KeyPartitions, partitionOf } from "../engine/key_partitions.ts";
import { recordSize } from "../engine/key_record.ts";
import { idWords, UUID_KEY } from "../engine/id_key.ts";
import { INVALID_ROW, type RowBlock } from "../engine/scan_impressions.ts";
import { Rng } from "./_rng.ts";

/** A random instant: mostly whole seconds of 2021, some with nanoseconds, before 1970 or after 2106. */
function randomInstant(rng: Rng): [number, number] {
  const kind = rng.int(10);
  if (kind < 7) return [1_609_459_200 + rng.int(365 * 86_400), 0];
  if (kind < 8) return [1_609_459_200 + rng.int(86_400), 1 + rng.int(999_999_999)];
  if (kind < 9) return [-62_135_596_800 + rng.int(2 ** 31), rng.int(2)];
  return [2 ** 32 + rng.int(2 ** 30), 0];
}

/** A block of `rows` rows with random hashes and ids of random lengths (some packed UUIDs). */
function randomBlock(rng: Rng, firstRow: number, rows: number): RowBlock {
  const hashes = new Uint32Array(rows * 4);
  const seconds = new Float64Array(rows);
  const nanos = new Uint32Array(rows);
  const hours = new Int8Array(rows);
  const keyLengths = new Uint32Array(rows);
  const keyStarts = new Uint32Array(rows + 1);
  const words: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < 4; i++) hashes[r * 4 + i] = rng.int(2 ** 32);
    [seconds[r], nanos[r]] = randomInstant(rng);
    hours[r] = rng.int(20) === 0 ? INVALID_ROW : rng.int(24);
    const kind = rng.int(10);
    const length = hours[r] === INVALID_ROW
      ? 0
      : kind < 6
      ? UUID_KEY
      : kind < 9
      ? 1 + rng.int(40)
      : 65 + rng.int(200);
    keyLengths[r] = length;
    for (let i = 0; i < (length === 0 ? 0 : idWords(length)); i++) words.push(rng.int(2 ** 32));
    keyStarts[r + 1] = words.length;
  }
  return {
    firstRow,
    rows,
    hashes,
    seconds,
    nanos,
    hours,
    campaigns: new Uint32Array(rows),
    keys: Uint32Array.from(words),
    keyStarts,
    keyLengths,
  };
}

/** The records each partition must hold, in row order, built one row at a time. */
function expected(blocks: RowBlock[], count: number, rowBase: number): number[][] {
  const out: number[][] = Array.from({ length: count }, () => []);
  for (const b of blocks) {
    for (let r = 0; r < b.rows; r++) {
      if (b.hours[r] === INVALID_ROW) continue;
      const p = partitionOf(b.hashes[r * 4], Math.log2(count));
      const seconds = b.seconds[r], nanos = b.nanos[r];
      const short = nanos === 0 && seconds >= 0 && seconds < 2 ** 32;
      const lane = b.hashes[r * 4];
      if (short && b.keyLengths[r] === UUID_KEY) {
        // The usual form: the lane's lowest bit set, no header.
        out[p].push(
          (lane | 1) >>> 0,
          ...b.keys.subarray(b.keyStarts[r], b.keyStarts[r + 1]),
          seconds,
          rowBase + b.firstRow + r,
        );
        continue;
      }
      out[p].push(
        (lane & ~1) >>> 0,
        short ? b.keyLengths[r] : b.keyLengths[r] + 2 ** 31,
        ...b.keys.subarray(b.keyStarts[r], b.keyStarts[r + 1]),
        // The instant: whole seconds in one word, else low and high words
        // of the seconds (two's complement) and the nanoseconds.
        ...(short ? [seconds] : [
          ((seconds % 2 ** 32) + 2 ** 32) % 2 ** 32,
          (Math.floor(seconds / 2 ** 32) + 2 ** 32) % 2 ** 32,
          nanos,
        ]),
        rowBase + b.firstRow + r,
      );
    }
  }
  return out;
}

Deno.test("KeyPartitions hands out every valid row's record, by partition, in row order", () => {
  const rng = new Rng(7);
  for (const count of [1, 16, 256]) {
    const partitions = new KeyPartitions(count);
    // Enough rows to fill several 4 MiB chunks, in blocks of varied sizes.
    const blocks: RowBlock[] = [];
    let row = 0;
    for (let b = 0; b < 12; b++) {
      const rows = 1 + rng.int(40_000);
      blocks.push(randomBlock(rng, row, rows));
      row += rows;
    }
    for (const block of blocks) partitions.add(block, 1000);
    const want = expected(blocks, count, 1000);
    const words = want.reduce((n, p) => n + p.length, 0);
    assert.equal(partitions.words, words);
    const taken = partitions.take();
    assert.deepEqual(taken.map((p) => [...p]), want);
    // One buffer of the exact size, so nothing is held beyond the records.
    assert.equal(new Set(taken.map((p) => p.buffer)).size, 1);
    assert.equal(taken[0].buffer.byteLength, words * 4);
    // Emptied, and usable again.
    assert.equal(partitions.words, 0);
    partitions.add(blocks[0], 0);
    assert.deepEqual(partitions.take().map((p) => [...p]), expected([blocks[0]], count, 0));
  }
});

Deno.test("recordSize: a packed UUID's record at a whole second is 7 words, 10 with nanoseconds", () => {
  assert.equal(recordSize(UUID_KEY, 1_611_965_702, 0), 7);
  assert.equal(recordSize(UUID_KEY, 1_611_965_702, 5), 10);
  assert.equal(recordSize(UUID_KEY, -1, 0), 10);
  assert.equal(recordSize(UUID_KEY, 2 ** 32, 0), 10);
  assert.equal(recordSize(UUID_KEY, 2 ** 32 - 1, 0), 7);
  assert.equal(recordSize(5, 0, 0), 6);
  assert.equal(recordSize(5, 0, 1), 8);
});
