/**
 * Crafted `IMPRESSION_ID`s whose 128-bit hashes (`engine/hash128.ts`) are
 * equal at every instant, built from the hash's block structure.
 *
 * A 16-byte block updates the four lanes in turn; lane 2 depends only on
 * its own word, lane 1 on its word and lane 2. So one block that differs
 * only in word 1 makes the lanes differ only in lane 2; in the next block,
 * word 0 is solved for so that lane 1 comes out equal again, and word 1 so
 * that lane 2 does. Each solved word is kept only if all four bytes are
 * letters or digits (about 1 try in 290), so a pair of 32-byte ids takes
 * a few hundred tries. Pairs chained from the common state after the
 * previous pair give 2^k ids of 32·k bytes that all collide.
 *
 * @module
 */

import { Rng } from "./_rng.ts";

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function rotr(x: number, r: number): number {
  return (x >>> r) | (x << (32 - r));
}

/** The inverse of an odd number modulo 2^32 (Newton's iteration). */
function inverse(c: number): number {
  let x = c;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(c, x));
  return x;
}

type State = [number, number, number, number];

const k1 = (w: number) => Math.imul(rotl(Math.imul(w, C1), 15), C2);
const k2 = (w: number) => Math.imul(rotl(Math.imul(w, C2), 16), C3);
const k3 = (w: number) => Math.imul(rotl(Math.imul(w, C3), 17), C4);
const k4 = (w: number) => Math.imul(rotl(Math.imul(w, C4), 18), C1);
const k1Inverse = (k: number) => Math.imul(rotr(Math.imul(k, inverse(C2)), 15), inverse(C1));
const k2Inverse = (k: number) => Math.imul(rotr(Math.imul(k, inverse(C3)), 16), inverse(C2));

/** One block of the hash. */
function block([h1, h2, h3, h4]: State, w: readonly number[]): State {
  h1 = (Math.imul(rotl(h1 ^ k1(w[0]), 19) + h2, 5) + 0x561ccd1b) | 0;
  h2 = (Math.imul(rotl(h2 ^ k2(w[1]), 17) + h3, 5) + 0x0bcaa747) | 0;
  h3 = (Math.imul(rotl(h3 ^ k3(w[2]), 15) + h4, 5) + 0x96cd1c35) | 0;
  h4 = (Math.imul(rotl(h4 ^ k4(w[3]), 13) + h1, 5) + 0x32ac3b17) | 0;
  return [h1, h2, h3, h4];
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The hash of `engine/hash128.ts`, written again from its definition a byte
 * at a time: the key's bytes as little-endian words, zero-padded to whole
 * 16-byte blocks, then one block of the instant and the key's length, then
 * the finalization. The tests compare the engine's word-based hash with it.
 */
export function referenceHash(bytes: Uint8Array, seconds: number, nanos: number): Uint32Array {
  const padded = (bytes.length + 15) & ~15;
  const words: number[] = [];
  for (let i = 0; i < padded; i += 4) {
    let w = 0;
    for (let b = 0; b < 4; b++) w |= (bytes[i + b] ?? 0) << (8 * b);
    words.push(w);
  }
  words.push(seconds | 0, Math.floor(seconds / 4294967296) | 0, nanos | 0, bytes.length);
  let state: State = [0x9747b28c | 0, 0x1b873593, 0x52dce729, 0x38495ab5];
  for (let i = 0; i < words.length; i += 4) state = block(state, words.slice(i, i + 4));
  let [h1, h2, h3, h4] = state;
  const total = padded + 16;
  h1 ^= total, h2 ^= total, h3 ^= total, h4 ^= total;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0, h3 = (h3 + h1) | 0, h4 = (h4 + h1) | 0;
  h1 = fmix(h1), h2 = fmix(h2), h3 = fmix(h3), h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  return new Uint32Array([h1, h2 + h1, h3 + h1, h4 + h1]);
}

function isAlphanumeric(w: number): boolean {
  for (let s = 0; s < 32; s += 8) {
    const b = (w >>> s) & 0xff;
    if (!((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a))) {
      return false;
    }
  }
  return true;
}

function randomWord(rng: Rng): number {
  let w = 0;
  for (let s = 0; s < 32; s += 8) w |= ALPHANUMERIC.charCodeAt(rng.int(ALPHANUMERIC.length)) << s;
  return w;
}

function text(words: readonly number[]): string {
  let out = "";
  for (const w of words) {
    for (let s = 0; s < 32; s += 8) out += String.fromCharCode((w >>> s) & 0xff);
  }
  return out;
}

/** Two different 32-byte ids taking `state` to the same state, and that state. */
function collidingPair(state: State, rng: Rng): { ids: [string, string]; state: State } {
  const common = [randomWord(rng), 0, randomWord(rng), randomWord(rng)];
  const wa = randomWord(rng);
  let wb = randomWord(rng);
  while (wb === wa) wb = randomWord(rng);
  const first = [[common[0], wa, common[2], common[3]], [common[0], wb, common[2], common[3]]];
  const [sa, sb] = first.map((w) => block(state, w));
  // Word 0 of the second block: lane 1 must come out equal.
  let a0: number, b0: number;
  do {
    a0 = randomWord(rng);
    const target = (rotl(sa[0] ^ k1(a0), 19) + sa[1] - sb[1]) | 0;
    b0 = k1Inverse(rotr(target, 19) ^ sb[0]);
  } while (!isAlphanumeric(b0));
  // Word 1: lane 2 must come out equal.
  let a1: number, b1: number;
  do {
    a1 = randomWord(rng);
    b1 = k2Inverse(k2(a1) ^ sa[1] ^ sb[1]);
  } while (!isAlphanumeric(b1));
  const w2 = randomWord(rng), w3 = randomWord(rng);
  const second = [[a0, a1, w2, w3], [b0, b1, w2, w3]];
  const ta = block(sa, second[0]), tb = block(sb, second[1]);
  if (ta.some((lane, i) => lane !== tb[i])) throw new Error("the crafted pair does not collide");
  return { ids: [text([...first[0], ...second[0]]), text([...first[1], ...second[1]])], state: ta };
}

/**
 * 2^`k` different alphanumeric ids (32·`k` bytes, then `suffix`) whose
 * hashes are equal at any instant.
 *
 * @example
 * ```ts
 * import { collidingIds } from "./_collisions.ts";
 * const ids = collidingIds(3, 1); // 8 ids of 96 bytes
 * ```
 */
export function collidingIds(k: number, seed: number, suffix = ""): string[] {
  const rng = new Rng(seed);
  let state: State = [0x9747b28c | 0, 0x1b873593, 0x52dce729, 0x38495ab5];
  let ids = [""];
  for (let i = 0; i < k; i++) {
    const pair = collidingPair(state, rng);
    ids = ids.flatMap((id) => [id + pair.ids[0], id + pair.ids[1]]);
    state = pair.state;
  }
  return ids.map((id) => id + suffix);
}
