/**
 * Streams the content of a gzip file of one or more members (RFC 1952: a
 * file may be several gzip streams one after another, as `cat a.gz b.gz`
 * makes; `zcat` reads them all). Anything else is an error naming the
 * object: bytes that are not gzip at the start, a member cut short, or
 * bytes after the last member that are not another member (trailing
 * zeros included: a file that is not wholly gzip may have lost data).
 *
 * @module
 */

import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { escapeText } from "../engine/escape_text.ts";

/** A `.csv.gz` object that is not whole, valid gzip. */
export class GzipError extends Error {
  /** Object key. */
  readonly key: string;
  /** What is wrong, without the key. */
  readonly reason: string;
  /** Builds the error for object `key`. */
  constructor(key: string, reason: string) {
    super(`cannot decompress ${escapeText(key)}: ${reason}`);
    this.name = "GzipError";
    this.key = key;
    this.reason = reason;
  }
}

const MAGIC = [0x1f, 0x8b];

function reasonOf(error: unknown, read: number): string {
  const message = (error as Error)?.message ?? String(error);
  if (/incorrect header check|unknown compression method/.test(message)) {
    // The file starts with the magic bytes: a later member, or what follows one, is bad.
    return `bytes after a gzip member are not gzip data, or a gzip header is damaged (${message})`;
  }
  if (/unexpected end of file/.test(message)) {
    return `the file ends inside a gzip member, after ${read} bytes (${message})`;
  }
  return message;
}

/**
 * Decompresses every member of a gzip stream, chunk by chunk, failing with
 * {@linkcode GzipError} naming `key`.
 *
 * @example
 * ```ts
 * import { gunzip } from "./gunzip.ts";
 * const file = await Deno.open("/tmp/a.csv.gz");
 * for await (const chunk of gunzip(file.readable, "2021/01/30/a.csv.gz")) {
 *   console.log(chunk.length);
 * }
 * ```
 */
export async function* gunzip(
  source: AsyncIterable<Uint8Array>,
  key: string,
): AsyncGenerator<Uint8Array> {
  let read = 0;
  let head: number[] = [];
  // Counts bytes and checks the magic bytes before zlib sees them.
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (head.length < MAGIC.length) {
        head = [...head, ...chunk.subarray(0, MAGIC.length - head.length)];
        if (head.some((b, i) => b !== MAGIC[i])) {
          throw new GzipError(key, "not gzip data (it does not start with the bytes 1f 8b)");
        }
      }
      read += chunk.length;
      yield chunk;
    }
  }
  const input = Readable.from(counted(), { objectMode: false });
  const inflate = createGunzip({ chunkSize: 1 << 20 });
  let failure: unknown;
  input.on("error", (error) => {
    failure = error;
    inflate.destroy(error);
  });
  input.pipe(inflate);
  try {
    for await (const chunk of inflate) yield chunk as Uint8Array;
  } catch (error) {
    const cause = failure ?? error;
    if (cause instanceof GzipError) throw cause;
    if (failure !== undefined) throw failure; // reading the file failed
    throw new GzipError(key, reasonOf(cause, read));
  } finally {
    input.destroy();
    inflate.destroy();
  }
  if (inflate.bytesWritten < read) {
    throw new GzipError(
      key,
      `${read - inflate.bytesWritten} bytes after the last gzip member are not gzip data`,
    );
  }
}
