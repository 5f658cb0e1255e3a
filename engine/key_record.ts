/**
 * The key record of one row: what deduplication compares, and what a day's
 * key segment keeps of each kept row. A record is 32-bit words, in one of
 * two forms, told apart by the lowest bit of its first word:
 *
 * - the usual one (bit set), a packed lowercase UUID at a whole second from
 *   1970 to 2106: the first lane of the key's hash (`hash128.ts`, its lowest
 *   bit replaced by the 1), the id's four words (`id_key.ts`), the seconds,
 *   the row number: 7 words;
 * - any other (bit clear): the hash lane (its lowest bit 0), a header (the
 *   id's length word, `id_key.ts`, in the low 31 bits, and in the top bit
 *   whether the instant takes three words), the id's words, the instant
 *   (its seconds in one word when the usual form allows it, else the
 *   seconds' low and high 32 bits, two's complement, and the nanoseconds),
 *   the row number.
 *
 * The hash lane places the record in a partition, a bucket and a key filter
 * slot (by its top bits). The words before the row are the key: two records
 * are one key exactly when those are equal, as the form and the words of a
 * key are a function of the id and the instant. The lane only finds
 * candidates; it is compared first because it rejects most of them in one
 * word. A key segment keeps the keys alone, without the row.
 *
 * @module
 */

import { idWords, UUID_KEY } from "./id_key.ts";

/** The fewest words a record takes: lane, header, one id word, one instant word, row. */
export const MIN_RECORD_WORDS = 5;
/** Words of the usual record: lane, a packed UUID, a whole second, the row. */
export const UUID_RECORD_WORDS = 7;
/** Words of the usual key (a record without its row). */
const UUID_KEY_WORDS = UUID_RECORD_WORDS - 1;

/** The header bit of an instant that takes three words. */
const LONG_INSTANT = 0x8000_0000;
const LENGTH_MASK = 0x7fff_ffff;
const TWO_32 = 2 ** 32;

/** Words of the key of the other form whose header is `header`. */
function otherKeyWords(header: number): number {
  return 2 + (header >>> 31 === 0 ? 1 : 3) + idWords(header & LENGTH_MASK);
}

/**
 * Words of the key (a record without its row) at `keys[i]`, of either form.
 *
 * @example
 * ```ts
 * import { keyWords } from "./key_record.ts";
 * keyWords(new Uint32Array([7, 1, 0x61, 9]), 0); // 4: lane, header, "a", a second
 * ```
 */
export function keyWords(keys: Uint32Array, i: number): number {
  return (keys[i] & 1) === 1 ? UUID_KEY_WORDS : otherKeyWords(keys[i + 1]);
}

/**
 * Words of the record at `records[i]`: its key and its row.
 *
 * @example
 * ```ts
 * import { recordWords } from "./key_record.ts";
 * recordWords(new Uint32Array([7, 1, 0x61, 9, 0]), 0); // 5
 * ```
 */
export function recordWords(records: Uint32Array, i: number): number {
  return keyWords(records, i) + 1;
}

/** Whether an instant is a whole second from 1970 to 2106: one word in a record. */
function wholeSecond(seconds: number, nanos: number): boolean {
  return nanos === 0 && seconds >= 0 && seconds < TWO_32;
}

/**
 * Words of the record of an id of length word `lengthWord` at `seconds`
 * and `nanos`.
 *
 * @example
 * ```ts
 * import { recordSize } from "./key_record.ts";
 * import { UUID_KEY } from "./id_key.ts";
 * recordSize(UUID_KEY, 1_611_965_702, 0); // 7
 * recordSize(UUID_KEY, 1_611_965_702, 5); // 10
 * recordSize(5, 1_611_965_702, 0); // 6
 * ```
 */
export function recordSize(lengthWord: number, seconds: number, nanos: number): number {
  if (!wholeSecond(seconds, nanos)) return maxRecordWords(lengthWord);
  return lengthWord === UUID_KEY ? UUID_RECORD_WORDS : otherKeyWords(lengthWord) + 1;
}

/**
 * The most words a record of an id of length word `lengthWord` takes,
 * whatever its instant (three words of it).
 *
 * @example
 * ```ts
 * import { maxRecordWords } from "./key_record.ts";
 * import { UUID_KEY } from "./id_key.ts";
 * maxRecordWords(UUID_KEY); // 10
 * ```
 */
export function maxRecordWords(lengthWord: number): number {
  return otherKeyWords((lengthWord | LONG_INSTANT) >>> 0) + 1;
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
 * // out is [6, 1, 0x61, 1611965702, 3, 0]: the lane's lowest bit cleared
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
  const whole = wholeSecond(seconds, nanos);
  if (whole && lengthWord === UUID_KEY) {
    out[at] = h0 | 1;
    out[at + 1] = ids[idAt];
    out[at + 2] = ids[idAt + 1];
    out[at + 3] = ids[idAt + 2];
    out[at + 4] = ids[idAt + 3];
    out[at + 5] = seconds;
    out[at + 6] = row;
    return UUID_RECORD_WORDS;
  }
  const header = whole ? lengthWord : (lengthWord | LONG_INSTANT) >>> 0;
  const words = idWords(lengthWord);
  out[at] = h0 & ~1;
  out[at + 1] = header;
  const id = at + 2;
  if (words < 16) {
    for (let w = 0; w < words; w++) out[id + w] = ids[idAt + w];
  } else out.set(ids.subarray(idAt, idAt + words), id);
  let end = id + words;
  if (whole) out[end++] = seconds;
  else {
    out[end] = seconds >>> 0;
    out[end + 1] = Math.floor(seconds / TWO_32);
    out[end + 2] = nanos;
    end += 3;
  }
  out[end] = row;
  return end + 1 - at;
}

/**
 * Copies the record at `records[i]` to `out[to]` with `rowOffset` added to
 * its row number (the day's row number); returns its words.
 *
 * @example
 * ```ts
 * import { copyRecord } from "./key_record.ts";
 * const out = new Uint32Array(5);
 * copyRecord(new Uint32Array([6, 1, 0x61, 9, 5]), 0, 100, out, 0); // 5
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
 * copyKey(new Uint32Array([6, 1, 0x61, 9, 5]), 0, out, 0); // 4
 * // out is [6, 1, 0x61, 9]
 * ```
 */
export function copyKey(records: Uint32Array, i: number, out: Uint32Array, to: number): number {
  out[to] = records[i];
  out[to + 1] = records[i + 1];
  out[to + 2] = records[i + 2];
  out[to + 3] = records[i + 3];
  const size = keyWords(records, i);
  if (size === UUID_KEY_WORDS) {
    out[to + 4] = records[i + 4];
    out[to + 5] = records[i + 5];
    return size;
  }
  for (let w = 4; w < size; w++) out[to + w] = records[i + w];
  return size;
}

/**
 * Whether the records (or keys) at `a` in `x` and `b` in `y` have one key:
 * the same id and instant (and so the same hash lane).
 *
 * @example
 * ```ts
 * import { sameKey } from "./key_record.ts";
 * const records = new Uint32Array([6, 1, 0x61, 9, 0, 6, 1, 0x61, 9, 3]);
 * sameKey(records, 0, records, 5); // true: rows 0 and 3, one key
 * ```
 */
export function sameKey(x: Uint32Array, a: number, y: Uint32Array, b: number): boolean {
  const lane = x[a];
  if (lane !== y[b] || x[a + 1] !== y[b + 1]) return false;
  if ((lane & 1) === 1) {
    return x[a + 2] === y[b + 2] && x[a + 3] === y[b + 3] && x[a + 4] === y[b + 4] &&
      x[a + 5] === y[b + 5];
  }
  const size = otherKeyWords(x[a + 1]);
  for (let k = 2; k < size; k++) if (x[a + k] !== y[b + k]) return false;
  return true;
}

/**
 * A second hash of the record (or key) at `i`, for table slots and filter
 * bits: its hash lane mixed with its id's first word, so that records made
 * to share the lane still spread when their ids differ.
 *
 * @example
 * ```ts
 * import { spreadOf } from "./key_record.ts";
 * spreadOf(new Uint32Array([6, 1, 0x61, 9, 0]), 0) === spreadOf(new Uint32Array([6, 1, 0x61, 9]), 0); // true
 * ```
 */
export function spreadOf(records: Uint32Array, i: number): number {
  const lane = records[i];
  const h = Math.imul(lane ^ records[i + 2 - (lane & 1)], 0x9e37_79b1);
  return (h ^ (h >>> 15)) >>> 0;
}
