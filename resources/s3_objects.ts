/**
 * Small JSON objects under one S3 prefix, read and written whole with
 * conditional PUTs (`If-Match`, `If-None-Match: *`), for the shared state.
 * Every response's `Date` header is kept, so callers can judge time by the
 * store's clock instead of their own; every request is counted.
 *
 * @module
 */

import { createS3Client } from "./s3_client.ts";
import type { S3Client } from "@aws-sdk/client-s3";
import { StorageError } from "./errors.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import { listingPages, storageError } from "./s3_bucket.ts";
import { loadPackage } from "./npm_package.ts";

/** A conditional write lost: the object changed (or exists) since it was read. */
export class PreconditionFailedError extends StorageError {
  /** Builds the error for the object's URI. */
  constructor(uri: string) {
    super(`conditional write of ${uri} failed: it changed since it was read`);
    this.name = "PreconditionFailedError";
  }
}

/** An object read whole. */
export interface StoredObject {
  /** Its bytes. */
  body: Uint8Array;
  /** Its ETag, without quotes. */
  etag: string;
  /** `Last-Modified`, by the store's clock, in ms since the epoch. */
  lastModified: number;
}

/** A key seen in a listing. */
export interface ListedKey {
  /** Key relative to the prefix. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** `Last-Modified` in ms since the epoch. */
  lastModified: number;
}

/** The precondition of a write. */
export type WriteCondition = { ifMatch: string } | { ifNoneMatch: true } | null;

/** Objects under `s3://BUCKET/PREFIX/`, with keys relative to the prefix. */
export interface ObjectStore {
  /** `s3://BUCKET/PREFIX`. */
  readonly uri: string;
  /** Reads an object whole, or `null`; fails when it is larger than `maxBytes`. */
  get(key: string, maxBytes: number): Promise<StoredObject | null>;
  /**
   * Writes an object; a failed condition is a {@linkcode PreconditionFailedError}.
   * `guard` runs before every attempt (a retry too) and may throw to stop
   * it (a fence). Returns the ETag.
   */
  put(
    key: string,
    body: Uint8Array,
    condition: WriteCondition,
    guard?: () => void,
  ): Promise<string>;
  /** Deletes an object (missing is fine). */
  delete(key: string): Promise<void>;
  /** Every key under `prefix`, at any depth. */
  list(prefix: string): AsyncIterable<ListedKey>;
  /** The "folders" directly under `prefix` (without the trailing `/`). */
  folders(prefix: string): Promise<string[]>;
  /** The store's clock now, in ms since the epoch: its last `Date` plus the time since. */
  storeNow(): number;
  /** Requests sent so far. */
  readonly requests: number;
  /** Releases connections. */
  close(): void;
}

/** Options for {@linkcode openObjectStore}. */
export interface ObjectStoreOptions {
  /** `s3://BUCKET/PREFIX` (the prefix may be empty). */
  uri: string;
  /** Endpoint of an S3-compatible store. */
  endpoint?: string;
  /** Region. */
  region?: string;
  /** Request timeout in ms. */
  timeoutMs?: number;
  /** Retries of transient failures. */
  retry?: RetryPolicy;
}

/**
 * Splits `s3://BUCKET/PREFIX` into bucket and prefix (no trailing `/`).
 *
 * @example
 * ```ts
 * import { parseStateUri } from "./s3_objects.ts";
 * parseStateUri("s3://team-bucket/impressions/state/");
 * // { bucket: "team-bucket", prefix: "impressions/state" }
 * ```
 */
export function parseStateUri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/(.*))?$/.exec(uri);
  const prefix = (match?.[3] ?? "").replace(/\/+$/, "");
  if (!match || prefix.split("/").some((p, i) => (p === "" && i > 0) || p === "..")) {
    throw new RangeError(
      `a state URI must look like s3://BUCKET/PREFIX, not ${JSON.stringify(uri)}`,
    );
  }
  return { bucket: match[1], prefix };
}

function unquote(etag: string | undefined): string {
  return (etag ?? "").replace(/^"|"$/g, "");
}

async function readAll(body: ReadableStream<Uint8Array>, max: number, what: string) {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) throw new StorageError(`${what} is larger than ${max} bytes; refused`);
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Opens the objects under a state URI. Nothing is requested until the
 * first operation.
 *
 * @example
 * ```ts
 * import { openObjectStore } from "./s3_objects.ts";
 * const store = await openObjectStore({ uri: "s3://team-bucket/state" });
 * const format = await store.get("format.json", 4096);
 * store.close();
 * ```
 */
export async function openObjectStore(
  options: ObjectStoreOptions & { client?: S3Client },
): Promise<ObjectStore> {
  const { bucket, prefix } = parseStateUri(options.uri);
  const sdk = await loadPackage(() => import("@aws-sdk/client-s3"));
  const client = options.client ??
    await createS3Client({ ...options, timeoutMs: options.timeoutMs ?? 30_000 });
  let requests = 0;
  let storeDate = Date.now();
  let storeDateAt = performance.now();
  // Next to the handler: sees every raw response, errors (412) included.
  client.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string> })?.headers;
      const date = headers?.date ?? headers?.Date;
      const parsed = date ? Date.parse(date) : NaN;
      if (Number.isFinite(parsed)) {
        storeDate = parsed;
        storeDateAt = performance.now();
      }
      return result;
    },
    { step: "deserialize", priority: "low", name: "impressionsStoreClock" },
  );
  const policy = options.retry ?? { retries: 2 };
  const full = (key: string) => (prefix ? `${prefix}/${key}` : key);
  const uriOf = (key: string) => `s3://${bucket}/${full(key)}`;
  const call = <T>(operation: string, key: string, run: () => Promise<T>, guard?: () => void) =>
    withRetries(`${operation} ${uriOf(key)}`, policy, async () => {
      guard?.();
      try {
        return await run();
      } catch (error) {
        const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        const status = e?.$metadata?.httpStatusCode;
        // A conditional PUT on an object that is gone fails too (404 on AWS).
        const conditional = operation === "PutObject" &&
          (e?.name === "NoSuchKey" || status === 404);
        if (e?.name === "PreconditionFailed" || status === 412 || conditional) {
          throw new PreconditionFailedError(uriOf(key));
        }
        throw storageError(error, operation, bucket, full(key));
      }
    });
  // Every page of a listing under `under` (with `delimiter`: folders too).
  function pages(under: string, delimiter?: string) {
    return listingPages(uriOf(under), (token) =>
      call("ListObjectsV2", under, () =>
        client.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: full(under),
            Delimiter: delimiter,
            ContinuationToken: token,
          }),
        )));
  }
  return {
    uri: `s3://${bucket}${prefix ? `/${prefix}` : ""}`,
    get(key, maxBytes) {
      return call("GetObject", key, async () => {
        try {
          const response = await client.send(
            new sdk.GetObjectCommand({ Bucket: bucket, Key: full(key) }),
          );
          if ((response.ContentLength ?? 0) > maxBytes) {
            throw new StorageError(`${uriOf(key)} is larger than ${maxBytes} bytes; refused`);
          }
          const stream = (response.Body as { transformToWebStream(): ReadableStream<Uint8Array> })
            .transformToWebStream();
          return {
            body: await readAll(stream, maxBytes, uriOf(key)),
            etag: unquote(response.ETag),
            lastModified: response.LastModified?.getTime() ?? 0,
          };
        } catch (error) {
          const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
          if (e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404) return null;
          throw error;
        }
      });
    },
    async put(key, body, condition, guard) {
      const response = await call("PutObject", key, () =>
        client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: full(key),
            Body: body,
            ContentType: "application/json",
            IfMatch: condition && "ifMatch" in condition ? `"${condition.ifMatch}"` : undefined,
            IfNoneMatch: condition && "ifNoneMatch" in condition ? "*" : undefined,
          }),
        ), guard);
      return unquote(response.ETag);
    },
    async delete(key) {
      await call(
        "DeleteObject",
        key,
        () => client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: full(key) })),
      );
    },
    async *list(under) {
      for await (const page of pages(under)) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          yield {
            key: prefix ? object.Key.slice(prefix.length + 1) : object.Key,
            size: object.Size ?? 0,
            lastModified: object.LastModified?.getTime() ?? 0,
          };
        }
      }
    },
    async folders(under) {
      const out: string[] = [];
      for await (const page of pages(under, "/")) {
        for (const p of page.CommonPrefixes ?? []) {
          if (p.Prefix) out.push(p.Prefix.slice(full(under).length).replace(/\/$/, ""));
        }
      }
      return out;
    },
    storeNow: () => storeDate + (performance.now() - storeDateAt),
    get requests() {
      return requests;
    },
    close() {
      if (!options.client) client.destroy();
    },
  };
}
