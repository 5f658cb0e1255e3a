/**
 * Reads a cached raw object from disk, gunzipping `.csv.gz` objects.
 *
 * @module
 */

import { gunzip } from "./gunzip.ts";
import { checkFileVersion } from "./file_version.ts";

/** Where an object's bytes are on this machine, and how to read them. */
export interface ObjectFile {
  /** The file: a cached copy, or a folder bucket's own file read in place. */
  path: string;
  /** Whether it is gzip-compressed. */
  gzip: boolean;
  /** The object's key, for messages. */
  key: string;
  /**
   * For a folder bucket's file read in place, the version its listing said
   * (see `file_version.ts`): checked before the file is opened and when
   * reading ends, at the end of the file or where the reader stopped.
   */
  version?: string;
}

/** Whether an object key names a gzip-compressed CSV file. */
export function isGzipKey(key: string): boolean {
  return /\.gz$/i.test(key);
}

/**
 * Streams the (decompressed) bytes of an object's file. A damaged gzip
 * file fails with a `GzipError` naming `key`; a file read in place that is
 * not (or no longer, once reading ends) the version listed, with an
 * `ObjectChangedError`.
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
  options: ObjectFile & { chunkSize?: number },
): AsyncGenerator<Uint8Array> {
  const { version } = options;
  if (version !== undefined) await checkFileVersion(options.path, version);
  const file = await Deno.open(options.path);
  let failed = false;
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
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    try {
      file.close();
    } catch {
      // already closed by the readable stream
    }
    // Read to the end or stopped early by the reader: what it was handed
    // must have been the listed version.
    if (version !== undefined && !failed) await checkFileVersion(options.path, version);
  }
}
