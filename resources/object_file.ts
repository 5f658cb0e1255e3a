/**
 * Reads a cached raw object from disk, gunzipping `.csv.gz` objects.
 *
 * @module
 */

import { gunzip } from "./gunzip.ts";

/** Whether an object key names a gzip-compressed CSV file. */
export function isGzipKey(key: string): boolean {
  return /\.gz$/i.test(key);
}

/**
 * Streams the (decompressed) bytes of a cached object file. A damaged
 * gzip file fails with a `GzipError` naming `key`.
 *
 * @example
 * ```ts
 * import { readObjectFile } from "./object_file.ts";
 * for await (const chunk of readObjectFile({
 *   path: "/tmp/a.csv.gz",
 *   gzip: true,
 *   key: "2021/01/30/a.csv.gz",
 * })) {
 *   console.log(chunk.length);
 * }
 * ```
 */
export async function* readObjectFile(
  options: { path: string; gzip: boolean; key: string; chunkSize?: number },
): AsyncGenerator<Uint8Array> {
  const file = await Deno.open(options.path);
  try {
    if (options.gzip) {
      yield* gunzip(file.readable, options.key);
      return;
    }
    const size = options.chunkSize ?? 1 << 20;
    while (true) {
      const buffer = new Uint8Array(size);
      let filled = 0;
      while (filled < size) {
        const n = await file.read(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      if (filled > 0) yield buffer.subarray(0, filled);
      if (filled < size) return;
    }
  } finally {
    try {
      file.close();
    } catch {
      // already closed by the readable stream
    }
  }
}
