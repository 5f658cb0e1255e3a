/**
 * How an `IMPRESSION_ID` value is kept in a key record: as 32-bit words,
 * compared word for word when two keys' hashes match.
 *
 * An id is its bytes, zero-padded to whole words, with its byte length as
 * the length word. An id in the canonical lowercase UUID form
 * (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits `0-9a-f`), the ad
 * server's form, is kept as its 16 bytes instead of 36, with
 * {@linkcode UUID_KEY} as the length word. The form is a function of the
 * bytes, and the length word tells the two apart, so equal words mean equal
 * ids either way.
 *
 * @module
 */

/**
 * The length word of an id kept as a packed lowercase UUID: no raw id is
 * that long (2 GiB), so it never stands for a length. It fits in 31 bits,
 * for a key record's header (`key_record.ts`).
 */
export const UUID_KEY = 0x7fff_ffff;

/** Bytes of a packed UUID. */
export const UUID_BYTES = 16;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x61 + i] = 10 + i;

/**
 * Words an id takes in a record, from its length word.
 *
 * @example
 * ```ts
 * import { idWords, UUID_KEY } from "./id_key.ts";
 * idWords(5); // 2
 * idWords(UUID_KEY); // 4
 * ```
 */
export function idWords(lengthWord: number): number {
  return lengthWord === UUID_KEY ? UUID_BYTES / 4 : (lengthWord + 3) >>> 2;
}

/** Eight hex digits at `i` as a 32-bit number, or -1 if one is not lowercase hex. */
function hex8(bytes: Uint8Array, i: number): number {
  let w = 0;
  const end = i + 8;
  for (; i < end; i++) {
    const d = HEX[bytes[i]];
    if (d < 0) return -1;
    w = (w << 4) | d;
  }
  return w >>> 0;
}

/** Four hex digits at `i`, or -1. */
function hex4(bytes: Uint8Array, i: number): number {
  const a = HEX[bytes[i]], b = HEX[bytes[i + 1]], c = HEX[bytes[i + 2]], d = HEX[bytes[i + 3]];
  return (a | b | c | d) < 0 ? -1 : (a << 12) | (b << 8) | (c << 4) | d;
}

/**
 * Writes `bytes[from:to]` as a packed UUID into `words[at..at+3]` if it is
 * one in canonical lowercase form; returns whether it was.
 *
 * @example
 * ```ts
 * import { packUuid } from "./id_key.ts";
 * const id = new TextEncoder().encode("6f1c2a9e-0d7b-4c55-9a61-3f0e8d2b7c10");
 * const words = new Uint32Array(4);
 * packUuid(id, 0, id.length, words, 0); // true
 * ```
 */
export function packUuid(
  bytes: Uint8Array,
  from: number,
  to: number,
  words: Uint32Array,
  at: number,
): boolean {
  if (
    to - from !== 36 || bytes[from + 8] !== 0x2d || bytes[from + 13] !== 0x2d ||
    bytes[from + 18] !== 0x2d || bytes[from + 23] !== 0x2d
  ) return false;
  const w0 = hex8(bytes, from);
  const a = hex4(bytes, from + 9), b = hex4(bytes, from + 14);
  const c = hex4(bytes, from + 19), d = hex4(bytes, from + 24);
  const w3 = hex8(bytes, from + 28);
  if (w0 < 0 || w3 < 0 || (a | b | c | d) < 0) return false;
  words[at] = w0;
  words[at + 1] = (a << 16) | b;
  words[at + 2] = (c << 16) | d;
  words[at + 3] = w3;
  return true;
}
