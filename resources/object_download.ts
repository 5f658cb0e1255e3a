/**
 * Fetching one object of a bucket into local scratch (a cache entry being
 * written): the download machinery behind `raw_partition`, kept with the
 * other code that knows where bytes live.
 *
 * @module
 */

import { escapeText } from "../engine/escape_text.ts";
import { StorageError } from "./errors.ts";
import { LocalIoError } from "./local_io.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import type { Bucket, ObjectInfo } from "./storage.ts";

/** One line for an error, escaped. */
function errorLine(error: unknown): string {
  return escapeText(error instanceof Error ? error.message : String(error));
}

/** Where a download writes (a cache entry writer fits). */
export interface DownloadSink {
  /** Copies a local file in atomically; returns the bytes copied. */
  copyFile(name: string, source: string): Promise<number>;
  /** Streams a file in atomically; returns the bytes written. */
  writeStream(
    name: string,
    stream: ReadableStream<Uint8Array>,
    options?: { onBytes?: (n: number) => void },
  ): Promise<number>;
  /** Fills a file of known size from ranges fetched concurrently; returns its size. */
  writeRanges(name: string, size: number, options: {
    partSize: number;
    concurrency: number;
    fetch(start: number, end: number): Promise<ReadableStream<Uint8Array>>;
    onBytes?(n: number): void;
    attempt?(run: () => Promise<void>, part: { start: number; end: number }): Promise<void>;
  }): Promise<number>;
}

/** Objects larger than two parts are fetched in parts of this size by default. */
const PART_SIZE = 8 * 1024 * 1024;
/**
 * Ranged GETs in flight across the day. Earlier parts of earlier objects
 * go first, so objects land in processing order and parsing can start on
 * the first while the rest download.
 */
export const PARTS_IN_FLIGHT = 8;

/** How {@linkcode downloadObject} fetches one object. */
export interface DownloadOptions {
  /** Where the object goes (a cache entry being written). */
  out: DownloadSink;
  bucket: Bucket;
  object: ObjectInfo;
  /** Its position in processing order (ranks its parts). */
  index: number;
  file: string;
  onBytes: (n: number) => void;
  policy: RetryPolicy;
  /** Shared by the day's ranged GETs. */
  parts: { run(rank: number, fn: () => Promise<void>): Promise<void> };
  partSize?: number;
}

/**
 * Fetches one object into `out`: a local folder's file is copied by the
 * kernel and checked unchanged after; a large object comes as ranged GETs,
 * each retried on its own and scheduled by `parts`; a small one as one
 * stream. A body cut short is a transient error (retried); a local disk
 * error is not. Returns the bytes written.
 *
 * @example
 * ```ts
 * import { downloadObject } from "./object_download.ts";
 * import type { DownloadOptions } from "./object_download.ts";
 * declare const options: DownloadOptions;
 * const bytes = await downloadObject(options);
 * ```
 */
export async function downloadObject(options: DownloadOptions): Promise<number> {
  const { out, bucket, object, file, onBytes, policy, partSize = PART_SIZE } = options;
  if (bucket.localPath) {
    // A local folder: let the kernel copy, then make sure nothing changed meanwhile.
    const size = await out.copyFile(file, await bucket.localPath(object.key, object.etag));
    await bucket.localPath(object.key, object.etag);
    onBytes(size);
    return size;
  }
  if (object.size > 2 * partSize) {
    // A large object: several ranged GETs at once, each retried on its own.
    const what = `GetObject ${bucket.uri}/${object.key}`;
    return await out.writeRanges(file, object.size, {
      partSize,
      concurrency: Infinity, // bounded by `parts`
      fetch: (start, end) =>
        bucket.get(object.key, { ifMatch: object.etag, range: { start, end } }),
      onBytes,
      attempt: (run, part) =>
        options.parts.run(
          options.index * 2 ** 40 + part.start,
          () =>
            withRetries(what, policy, async () => {
              try {
                await run();
              } catch (error) {
                if (error instanceof StorageError || error instanceof LocalIoError) throw error;
                throw new StorageError(`${what}: body ended early: ${errorLine(error)}`, {
                  transient: true,
                  cause: error,
                });
              }
            }),
        ),
    });
  }
  return await withRetries(`GetObject ${bucket.uri}/${object.key}`, policy, async () => {
    let size: number;
    try {
      const body = await bucket.get(object.key, { ifMatch: object.etag });
      size = await out.writeStream(file, body, { onBytes });
    } catch (error) {
      // A local disk error (full, read-only) is not worth retrying.
      if (error instanceof StorageError || error instanceof LocalIoError) throw error;
      throw new StorageError(
        `GetObject ${bucket.uri}/${object.key}: body ended early: ${errorLine(error)}`,
        { transient: true, cause: error },
      );
    }
    if (size !== object.size) {
      throw new StorageError(
        `GetObject ${bucket.uri}/${object.key}: read ${size} bytes, the listing said ${object.size}`,
        { transient: true },
      );
    }
    return size;
  });
}
