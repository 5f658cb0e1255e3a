/**
 * `raw_partition`: the day's raw CSV objects, listed (all pages), fetched
 * into the cache (only those new or changed since the cached copy) and
 * their headers read. Rows are parsed downstream.
 *
 * @module
 */

import { resolveColumns } from "../engine/columns.ts";
import { readHeader } from "../engine/read_header.ts";
import { type AssetContext, defineAsset } from "./_define.ts";
import { sha256Hex } from "../materializer/cache.ts";
import type { RetryPolicy } from "../resources/retry.ts";
import { downloadObject, PARTS_IN_FLIGHT } from "../resources/object_download.ts";
import { mapConcurrent, RankedLimiter } from "../materializer/concurrency.ts";
import { isGzipKey, type ObjectFile, readObjectFile } from "../resources/object_file.ts";
import { localObjectPath } from "../resources/local_bucket.ts";
import { ObjectChangedError, StorageError } from "../resources/errors.ts";
import { escapeText } from "../engine/escape_text.ts";
import type { ObjectInfo } from "../resources/storage.ts";

/** One raw object of the day, as cached or read in place. */
export interface RawObject extends ObjectInfo {
  /** File name inside the cache entry; `""` when the object is read in place. */
  file: string;
  /**
   * Absolute path of its bytes (set when read): the cached copy, or a
   * folder bucket's own file when `inPlace`.
   */
  path: string;
  /**
   * Whether it is a folder bucket's file read where it lies, not copied:
   * every read checks that it still has the listed version (`etag`).
   */
  inPlace?: boolean;
  /** Whether it is gzip-compressed. */
  gzip: boolean;
  /** Header names as written (untrimmed). */
  header: string[];
}

/** The value of `raw_partition`. */
export interface RawPartition {
  /** Identity of the bucket listed (see `Bucket.identity`). */
  bucket: string;
  /** The listed prefix, `YYYY/MM/DD/`. */
  prefix: string;
  /** CSV objects in processing (lexicographic key) order. */
  objects: RawObject[];
}

/**
 * What `raw_partition` announces as each object lands in the cache, so a
 * downstream prefetch can start on it while others still download.
 */
export interface RawObjectReady {
  /** Position of the object in processing order. */
  index: number;
  /** The object, cached and header-read. */
  object: RawObject;
  /** Every CSV object of the day, in processing order. */
  listing: readonly ObjectInfo[];
}

/** What listing the prefix saw; kept in the manifest for `plan`. */
export interface Listing {
  /** Identity of the bucket listed (absent in entries cached before it was recorded). */
  bucket?: string;
  /** Prefix listed. */
  prefix: string;
  /** CSV objects in key order. */
  objects: ObjectInfo[];
  /** Other objects under the prefix, ignored. */
  ignored: string[];
}

const CSV_KEY = /\.csv(\.gz)?$/i;

/**
 * How to read a raw object's bytes: its file, and for one read in place the
 * version every read checks.
 *
 * @example
 * ```ts
 * import { rawObjectFile, type RawObject } from "./raw_partition.ts";
 * import { readObjectFile } from "../resources/object_file.ts";
 * declare const object: RawObject;
 * for await (const chunk of readObjectFile(rawObjectFile(object))) console.log(chunk.length);
 * ```
 */
export function rawObjectFile(object: RawObject): ObjectFile {
  return {
    path: object.path,
    gzip: object.gzip,
    key: object.key,
    version: object.inPlace ? object.etag : undefined,
  };
}

/** The listing prefix of a partition date: `2021-01-30` → `2021/01/30/`. */
export function datePrefix(date: string): string {
  return `${date.replaceAll("-", "/")}/`;
}

/**
 * Cache file name of an object: stable per (bucket, key, ETag), safe
 * whatever the key. The bucket is part of it because an ETag (or a folder's
 * size and mtime) only tells versions of one bucket's object apart: a copy
 * cached from another bucket is never taken for this one's.
 *
 * @example
 * ```ts
 * import { objectFileName } from "./raw_partition.ts";
 * objectFileName("file:///data/b", { key: "2021/01/30/a.csv", etag: "1", size: 1 });
 * // "objects/<32 hex>-<12 hex>.csv"
 * ```
 */
export function objectFileName(bucket: string, object: ObjectInfo): string {
  const ext = isGzipKey(object.key) ? ".csv.gz" : ".csv";
  return `objects/${sha256Hex(object.key).slice(0, 32)}-${
    sha256Hex(`${bucket}\n${object.etag}`).slice(0, 12)
  }${ext}`;
}

/**
 * The version text of a listing: the bucket's identity and the (key, ETag,
 * size) set. Two buckets whose objects agree on all three (folders with the
 * same sizes and mtimes, stores whose ETags are not content hashes) still
 * get different versions.
 *
 * @example
 * ```ts
 * import { listingVersion } from "./raw_partition.ts";
 * listingVersion({
 *   bucket: "s3://a@http://minio:9000/",
 *   prefix: "2021/01/30/",
 *   objects: [{ key: "2021/01/30/a.csv", etag: "e", size: 3 }],
 *   ignored: [],
 * }); // '{"bucket":"s3://a@http://minio:9000/","objects":[["2021/01/30/a.csv","e",3]]}'
 * ```
 */
export function listingVersion(listing: Listing): string {
  return JSON.stringify({
    bucket: listing.bucket,
    objects: listing.objects.map((o) => [o.key, o.etag, o.size]),
  });
}

/** At most this many keys of each kind are named by {@linkcode diffListings}. */
const NAMED_KEYS = 10;

/**
 * Lines `added: KEY`, then `changed: KEY`, then `removed: KEY` between two
 * listings, naming up to ten keys of each kind.
 *
 * @example
 * ```ts
 * import { diffListings } from "./raw_partition.ts";
 * diffListings(
 *   { prefix: "p/", ignored: [], objects: [{ key: "p/a.csv", etag: "1", size: 1 }] },
 *   { prefix: "p/", ignored: [], objects: [{ key: "p/b.csv", etag: "2", size: 1 }] },
 * ); // ["added: p/b.csv", "removed: p/a.csv"]
 * ```
 */
export function diffListings(previous: Listing | undefined, current: Listing): string[] {
  if (previous !== undefined && previous.bucket !== current.bucket) {
    return [
      previous.bucket === undefined
        ? `the cached listing does not name its bucket (now ${current.bucket})`
        : `bucket changed (${previous.bucket} -> ${current.bucket})`,
    ];
  }
  const before = new Map((previous?.objects ?? []).map((o) => [o.key, o.etag]));
  const after = new Map(current.objects.map((o) => [o.key, o.etag]));
  const kinds: Record<string, string[]> = { added: [], changed: [], removed: [] };
  for (const [key, etag] of after) {
    if (!before.has(key)) kinds.added.push(key);
    else if (before.get(key) !== etag) kinds.changed.push(key);
  }
  for (const key of before.keys()) if (!after.has(key)) kinds.removed.push(key);
  return Object.entries(kinds).flatMap(([kind, keys]) => [
    ...keys.slice(0, NAMED_KEYS).map((key) => `${kind}: ${escapeText(key)}`),
    ...(keys.length > NAMED_KEYS ? [`${kind}: ... and ${keys.length - NAMED_KEYS} more`] : []),
  ]);
}

/**
 * Lists a partition's prefix, splitting CSV objects from the rest; fails
 * when there is no CSV object.
 */
async function listPartition(
  bucket: { uri: string; identity: string; list(prefix: string): AsyncIterable<ObjectInfo> },
  date: string,
): Promise<Listing> {
  const prefix = datePrefix(date);
  const objects: ObjectInfo[] = [];
  const ignored: string[] = [];
  for await (const object of bucket.list(prefix)) {
    if (CSV_KEY.test(object.key)) objects.push(object);
    else ignored.push(object.key);
  }
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (objects.length === 0) {
    throw new StorageError(`no CSV objects under ${bucket.uri.replace(/\/$/, "")}/${prefix}`);
  }
  return { bucket: bucket.identity, prefix, objects, ignored };
}

/** The retry policy of a run, logging each retry. */
function retryPolicy(ctx: AssetContext): RetryPolicy {
  return {
    retries: ctx.params.retries,
    onRetry: ({ attempt, delayMs, error, what }) =>
      ctx.log.log(
        "warn",
        `retry ${attempt}/${ctx.params.retries} of ${what} in ${delayMs} ms: ${error.message}`,
      ),
  };
}

/** The `raw_partition` asset. */
export const rawPartition = defineAsset({
  name: "raw_partition",
  description: "every *.csv / *.csv.gz object under YYYY/MM/DD/, fetched and header-checked",
  deps: {},
  codeVersion: "1",
  io: {
    write(value: RawPartition, out) {
      out.setValue({ ...value, objects: value.objects.map(({ path: _, ...o }) => o) });
      return Promise.resolve();
    },
    read(entry) {
      const value = entry.manifest.value as RawPartition;
      return Promise.resolve({
        ...value,
        objects: value.objects.map((o) => ({
          ...o,
          path: o.inPlace ? localObjectPath(value.bucket, o.key) : entry.path(o.file),
        })),
      });
    },
  },
  // Whether a folder's objects are copied or read in place (S3 objects are
  // always fetched into the cache).
  params: (ctx) => ctx.resources.bucket.localPath ? { copyObjects: ctx.params.copyObjects } : {},
  async observe(ctx) {
    const listing = await listPartition(ctx.resources.bucket, ctx.partition);
    return { version: listingVersion(listing), detail: listing };
  },
  explain: (previous, current) => diffListings(previous, current),
  // An object that changes or vanishes while it is read: list anew, once.
  observeAgainOn: (error) =>
    error instanceof ObjectChangedError
      ? "again after listing anew; is something still writing?"
      : undefined,
  async compute(_deps, ctx: AssetContext<Listing, RawObjectReady>): Promise<RawPartition> {
    const listing = ctx.observation;
    const bucket = ctx.resources.bucket;
    const cached = new Map((ctx.previous?.manifest.files ?? []).map((f) => [f.name, f]));
    let downloaded = 0, reused = 0, bytes = 0, streamed = 0;
    const total = listing.objects.reduce((n, o) => n + o.size, 0);
    let finished = 0;
    const parts = new RankedLimiter(PARTS_IN_FLIGHT);
    // Ranged GETs in flight across the day, earlier parts of earlier objects
    // first, so objects land in processing order and parsing can start on the
    // first while the rest download.
    const onBytes = (n: number) => {
      streamed += n;
      ctx.progress({
        phase: "download",
        done: streamed,
        total,
        unit: "bytes",
        detail: `${finished}/${listing.objects.length} objects`,
      });
    };
    // A folder's objects are read where they lie unless asked to copy them.
    const inPlace = bucket.localPath !== undefined && !ctx.params.copyObjects;
    const objects = await mapConcurrent(
      listing.objects,
      ctx.params.downloadConcurrency,
      async (object, index): Promise<RawObject> => {
        const gzip = isGzipKey(object.key);
        let file = "", path: string;
        if (inPlace) {
          path = await bucket.localPath!(object.key, object.etag);
          finished++;
          onBytes(object.size);
        } else {
          file = objectFileName(bucket.identity, object);
          path = `${ctx.output.dir}/${file}`;
          const kept = cached.get(file);
          if (kept && kept.size === object.size) {
            ctx.output.keepFile(kept);
            reused++;
            finished++;
            onBytes(object.size);
          } else {
            const size = await downloadObject({
              out: ctx.output,
              bucket,
              object,
              index,
              file,
              onBytes,
              policy: retryPolicy(ctx),
              parts,
              partSize: ctx.params.downloadPartBytes,
            });
            downloaded++;
            bytes += size;
            await ctx.checkpoint(`downloaded:${object.key}`);
            finished++;
          }
        }
        const raw: RawObject = {
          ...object,
          file,
          path,
          gzip,
          header: [],
          inPlace: inPlace || undefined,
        };
        raw.header = await readHeader(
          readObjectFile({ ...rawObjectFile(raw), chunkSize: 64 * 1024 }),
        );
        ctx.announce({ index, object: raw, listing: listing.objects } satisfies RawObjectReady);
        return raw;
      },
    );
    ctx.record({
      objects: objects.length,
      objectsDownloaded: downloaded,
      objectsReused: reused,
      objectsReadInPlace: inPlace ? objects.length : 0,
      bytes: objects.reduce((n, o) => n + o.size, 0),
      bytesDownloaded: bytes,
      ignoredObjects: listing.ignored,
    });
    return { bucket: bucket.identity, prefix: listing.prefix, objects };
  },
  checks: [{
    name: "required_columns",
    severity: "error",
    evaluate(value: RawPartition) {
      for (const object of value.objects) {
        if (object.header.length === 0) continue; // a 0-byte file is empty
        try {
          resolveColumns(object.key, object.header);
        } catch (error) {
          return { passed: false, detail: (error as Error).message };
        }
      }
      return { passed: true, detail: `${value.objects.length} headers have the required columns` };
    },
  }],
});
