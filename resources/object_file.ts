/**
 * Reads a cached raw object from disk, gunzipping `.csv.gz` objects.
 *
 * @module
 */

/** Whether an object key names a gzip-compressed CSV file. */
export function isGzipKey(key: string): boolean {
  return /\.gz$/i.test(key);
}

/**
 * Streams the (decompressed) bytes of a cached object file.
 *
 * @example
 * ```ts
 * import { readObjectFile } from "./object_file.ts";
 * for await (const chunk of readObjectFile({ path: "/tmp/a.csv.gz", gzip: true })) {
 *   console.log(chunk.length);
 * }
 * ```
 */
export async function* readObjectFile(
  options: { path: string; gzip: boolean; chunkSize?: number },
): AsyncGenerator<Uint8Array> {
  const file = await Deno.open(options.path);
  try {
    if (options.gzip) {
      yield* file.readable.pipeThrough(new DecompressionStream("gzip"));
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
