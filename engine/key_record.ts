/**
 * The key record of one row: what deduplication compares, and what a day's
 * key segment keeps of each kept row. A record is 32-bit words:
 *
 * - `0`: the first lane of the key's hash (`hash128.ts`), which places the
 *   record in a partition, a bucket and a key filter slot;
 * - `1`: the header: the id's length word (`id_key.ts`) in the low 31
 *   bits, and in the top bit whether the instant takes three words;
 * - the id's words (`id_key.ts`);
 * - the instant: one word, its seconds, when it is a whole second from
 *   1970 to 2106 (the usual case); else three, the seconds' low and high
 *   32 bits (two's complement) and the nanoseconds;
 * - last, the row number.
 *
 * The words before the row are the key: two records are one key exactly
 * when those are equal, as the form of an instant is a function of the
 * instant and the header says how many words follow. The hash lane only
 * finds candidates; it is compared first because it rejects most of them
 * in one word. A key segment keeps the keys alone, without the row.
 *
 * @module
 */

import { idWords } from "./id_key.ts";

/** Word of a record that holds its header. */
export const RECORD_HEADER = 1;
/** The fewest words a record takes: hash lane, header, one id word, one instant word, row. */
export const MIN_RECORD_WORDS = 5;
/** Words of the usual record: a packed UUID, a whole second and the row. */
export const UUID_RECORD_WORDS = 8;
/** Words of the usual key (a record without its row). */
const UUID_KEY_WORDS = UUID_RECORD_WORDS - 1;

/** The header bit of an instant that takes three words. */
const LONG_INSTANT = 0x8000_0000;
const LENGTH_MASK = 0x7fff_ffff;
const TWO_32 = 2 ** 32;

/**
 * Words of the key (the record without its row) whose header is `header`.
 *
 * @example
 * ```ts
 * import { keyWords } from "./key_record.ts";
 * import { UUID_KEY } from "./id_key.ts";
 * keyWords(UUID_KEY); // 7
 * ```
 */
export function keyWords(header: number): number {
  return 2 + (header >>> 31 === 0 ? 1 : 3) + idWords(header & LENGTH_MASK);
}

/**
 * Words of the record whose header is `header`: its key and its row.
 *
 * @example
 * ```ts
 * import { recordWords } from "./key_record.ts";
 * import { UUID_KEY } from "./id_key.ts";
 * recordWords(UUID_KEY); // 8
 * recordWords(5); // 6: two id words
 * ```
 */
export function recordWords(header: number): number {
  return keyWords(header) + 1;
}

/**
 * The header of a record whose id has the length word `lengthWord` and
 * whose instant is `seconds` and `nanos`.
 *
 * @example
 * ```ts
 * import { recordHeader } from "./key_record.ts";
 * recordHeader(5, 1_611_965_702, 0); // 5
 * recordHeader(5, 1_611_965_702, 1); // 0x80000005
 * ```
 */
export function recordHeader(lengthWord: number, seconds: number, nanos: number): number {
  return nanos === 0 && seconds >= 0 && seconds < TWO_32
    ? lengthWord
    : (lengthWord | LONG_INSTANT) >>> 0;
}

/**
 * Writes the instant words of a record with header `header` at `out[at]`
 * (see {@linkcode recordHeader}).
 */
export function writeInstant(
  out: Uint32Array,
  at: number,
  header: number,
  seconds: number,
  nanos: number,
): void {
  if (header >>> 31 === 0) out[at] = seconds;
  else {
    out[at] = seconds >>> 0;
    out[at + 1] = Math.floor(seconds / TWO_32);
    out[at + 2] = nanos;
  }
}

/**
 * Writes a whole record at `out[at]`: hash lane `h0`, the id of length
 * word `lengthWord` from `ids[idAt..]`, the instant, row `row`; returns its
 * words.
 *
 * @example
 * ```ts
 * import { writeRecord } from "./key_record.ts";
 * const out = new Uint32Array(6);
 * writeRecord(out, 0, 7, 3, 1, new Uint32Array([0x61]), 0, 1_611_965_702, 0); // 5
 * // out is [7, 1, 0x61, 1611965702, 3, 0]
 * ```
 */
export function writeRecord(
  out: Uint32Array,
  at: number,
  h0: number,
  row: number,
  lengthWord: number,
  ids: Uint32Array,
  idAt: number,
  seconds: number,
  nanos: number,
): number {
  const header = recordHeader(lengthWord, seconds, nanos);
  const words = idWords(lengthWord);
  out[at] = h0;
  out[at + 1] = header;
  const id = at + 2;
  if (words === 4) {
    out[id] = ids[idAt];
    out[id + 1] = ids[idAt + 1];
    out[id + 2] = ids[idAt + 2];
    out[id + 3] = ids[idAt + 3];
  } else if (words < 16) {
    for (let w = 0; w < words; w++) out[id + w] = ids[idAt + w];
  } else out.set(ids.subarray(idAt, idAt + words), id);
  writeInstant(out, id + words, header, seconds, nanos);
  const size = recordWords(header);
  out[at + size - 1] = row;
  return size;
}

/**
 * Copies the record at `records[i]` to `out[to]` with `rowOffset` added to
 * its row number (the day's row number); returns its words.
 *
 * @example
 * ```ts
 * import { copyRecord } from "./key_record.ts";
 * const out = new Uint32Array(5);
 * copyRecord(new Uint32Array([7, 1, 0x61, 9, 5]), 0, 100, out, 0); // 5
 * // out[4] is 105
 * ```
 */
export function copyRecord(
  records: Uint32Array,
  i: number,
  rowOffset: number,
  out: Uint32Array,
  to: number,
): number {
  const size = copyKey(records, i, out, to) + 1;
  out[to + size - 1] = rowOffset + records[i + size - 1];
  return size;
}

/**
 * Copies the key of the record (or key) at `records[i]` to `out[to]`, with
 * no row; returns its words.
 *
 * @example
 * ```ts
 * import { copyKey } from "./key_record.ts";
 * const out = new Uint32Array(4);
 * copyKey(new Uint32Array([7, 1, 0x61, 9, 5]), 0, out, 0); // 4
 * // out is [7, 1, 0x61, 9]
 * ```
 */
export function copyKey(records: Uint32Array, i: number, out: Uint32Array, to: number): number {
  const header = records[i + 1];
  out[to] = records[i];
  out[to + 1] = header;
  const size = keyWords(header);
  if (size === UUID_KEY_WORDS) {
    out[to + 2] = records[i + 2];
    out[to + 3] = records[i + 3];
    out[to + 4] = records[i + 4];
    out[to + 5] = records[i + 5];
    out[to + 6] = records[i + 6];
    return size;
  }
  for (let w = 2; w < size; w++) out[to + w] = records[i + w];
  return size;
}

/**
 * Whether the records (or keys) at `a` in `x` and `b` in `y` have one key:
 * the same id and instant (and so the same hash lane).
 *
 * @example
 * ```ts
 * import { sameKey } from "./key_record.ts";
 * const records = new Uint32Array([7, 1, 0x61, 9, 0, 7, 1, 0x61, 9, 3]);
 * sameKey(records, 0, records, 5); // true: rows 0 and 3, one key
 * ```
 */
export function sameKey(x: Uint32Array, a: number, y: Uint32Array, b: number): boolean {
  const header = x[a + 1];
  if (x[a] !== y[b] || header !== y[b + 1]) return false;
  const size = keyWords(header);
  if (size === UUID_KEY_WORDS) {
    return x[a + 2] === y[b + 2] && x[a + 3] === y[b + 3] && x[a + 4] === y[b + 4] &&
      x[a + 5] === y[b + 5] && x[a + 6] === y[b + 6];
  }
  for (let k = 2; k < size; k++) if (x[a + k] !== y[b + k]) return false;
  return true;
}

/**
 * A second hash of the record at `i`, for table slots and filter bits: its
 * hash lane mixed with its first id word, so that records made to share
 * the lane still spread when their ids differ.
 *
 * @example
 * ```ts
 * import { spreadOf } from "./key_record.ts";
 * spreadOf(new Uint32Array([7, 1, 0x61, 9, 0]), 0) === spreadOf(new Uint32Array([7, 1, 0x61, 9]), 0); // true
 * ```
 */
export function spreadOf(records: Uint32Array, i: number): number {
  const h = Math.imul(records[i] ^ records[i + 2], 0x9e37_79b1);
  return (h ^ (h >>> 15)) >>> 0;
}
