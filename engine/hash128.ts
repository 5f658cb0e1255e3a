/**
 * A 128-bit hash of an impression key: the `IMPRESSION_ID` (its key words,
 * see `id_key.ts`) and the parsed instant. It follows the structure of
 * MurmurHash3 (x86, 128-bit), with the instant and the id's length mixed in
 * as one last block, so that `12:15:02` and `12:15:02.000` (the same
 * instant) hash alike.
 *
 * It is not collision-resistant, and its seed is fixed: anyone can make
 * different ids that hash alike at every instant (a difference in one
 * block's word 1 is cancelled by solving the next block's words 0 and 1;
 * chaining such pairs gives 2^k colliding ids, see `tests/_collisions.ts`).
 * For random ids the chance that two of n keys share all 128 bits is about
 * n² / 2^129, but for chosen ids it is 1. So deduplication uses the hash only
 * to find candidates, by its first lane: rows are one key only when their
 * ids are the same bytes and their instants the same, both kept in the key
 * record and compared in full (`key_record.ts`).
 *
 * @module
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Hashes a key held as 32-bit words, `words[start..]`, `length` bytes of
 * them (the last word zero-padded), with an instant, writing four 32-bit
 * lanes into `out[at..at+3]`: the key's words in 16-byte blocks (the last
 * zero-padded), then one block of the instant and the key's length. On a
 * little-endian machine this is the hash of the key's bytes read as
 * little-endian words (`tests/_collisions.ts` has a byte-wise reference).
 *
 * @example
 * ```ts
 * import { hashWords } from "./hash128.ts";
 * const out = new Uint32Array(4);
 * hashWords(new Uint32Array([0x64636261, 0x65]), 0, 5, 1612008902, 0, out, 0); // "abcde"
 * ```
 */
export function hashWords(
  words: Uint32Array,
  start: number,
  length: number,
  seconds: number,
  nanos: number,
  out: Uint32Array,
  at: number,
): void {
  const padded = (length + 15) & ~15;
  const blocks = (padded >> 4) + 1;
  const end = start + ((length + 3) >>> 2); // words past it are zero
  let h1 = 0x9747b28c | 0, h2 = 0x1b873593, h3 = 0x52dce729, h4 = 0x38495ab5;
  for (let n = 0, w = start; n < blocks; n++, w += 4) {
    let w0: number, w1: number, w2: number, w3: number;
    if (w + 4 <= end) {
      w0 = words[w], w1 = words[w + 1], w2 = words[w + 2], w3 = words[w + 3];
    } else if (n < blocks - 1) {
      w0 = words[w];
      w1 = w + 1 < end ? words[w + 1] : 0;
      w2 = w + 2 < end ? words[w + 2] : 0;
      w3 = 0;
    } else {
      w0 = seconds | 0, w1 = Math.floor(seconds / 4294967296) | 0, w2 = nanos | 0, w3 = length;
    }
    const k1 = Math.imul(rotl(Math.imul(w0, C1), 15), C2);
    h1 = (Math.imul(rotl(h1 ^ k1, 19) + h2, 5) + 0x561ccd1b) | 0;
    const k2 = Math.imul(rotl(Math.imul(w1, C2), 16), C3);
    h2 = (Math.imul(rotl(h2 ^ k2, 17) + h3, 5) + 0x0bcaa747) | 0;
    const k3 = Math.imul(rotl(Math.imul(w2, C3), 17), C4);
    h3 = (Math.imul(rotl(h3 ^ k3, 15) + h4, 5) + 0x96cd1c35) | 0;
    const k4 = Math.imul(rotl(Math.imul(w3, C4), 18), C1);
    h4 = (Math.imul(rotl(h4 ^ k4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  finish(h1, h2, h3, h4, padded + 16, out, at);
}

/** The finalization: invertible, like the last block (see the module documentation). */
function finish(
  h1: number,
  h2: number,
  h3: number,
  h4: number,
  total: number,
  out: Uint32Array,
  at: number,
): void {
  h1 ^= total, h2 ^= total, h3 ^= total, h4 ^= total;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0, h3 = (h3 + h1) | 0, h4 = (h4 + h1) | 0;
  h1 = fmix(h1), h2 = fmix(h2), h3 = fmix(h3), h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  out[at] = h1;
  out[at + 1] = h2 + h1;
  out[at + 2] = h3 + h1;
  out[at + 3] = h4 + h1;
}
