/**
 * An S3 bucket through `@aws-sdk/client-s3`, with the standard credential
 * chain. The SDK is imported when a bucket is opened, so local runs never
 * load it. With an endpoint URL (an S3-compatible store) requests use
 * path-style addressing and checksums only where required.
 *
 * @module
 */

import type { S3Client } from "@aws-sdk/client-s3";
import {
  AccessDeniedError,
  BucketNotFoundError,
  CredentialsError,
  ObjectChangedError,
  StorageError,
} from "./errors.ts";
import type { Bucket, ObjectHead, ObjectInfo } from "./storage.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import { publicUrl, redact } from "./secrets.ts";
import { createS3Client } from "./s3_client.ts";
import { escapeText } from "../engine/escape_text.ts";
import { loadPackage } from "./npm_package.ts";

/** Options for {@linkcode openS3Bucket}. */
export interface S3BucketOptions {
  /** Bucket name. */
  bucket: string;
  /** Endpoint of an S3-compatible store; `undefined` for AWS. */
  endpoint?: string;
  /** Region; defaults to the SDK's resolution, then `us-east-1`. */
  region?: string;
  /** A ready client (tests pass a mocked one). */
  client?: S3Client;
  /** Request timeout in milliseconds. */
  timeoutMs?: number;
  /** Retries of transient failures; none by default. */
  retry?: RetryPolicy;
}

const TRANSIENT_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "InternalError",
  "ServiceUnavailable",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNREFUSED",
  "TimeoutError",
  "AbortError",
]);

/**
 * The pages of a `ListObjectsV2` listing of `uri`: `fetch` gets the page
 * after `token` (none for the first). A page that says it is truncated but
 * gives no token to go on, or a token already handed out (an endpoint that
 * would make the listing skip objects or never end), fails with a
 * `StorageError` naming `uri`, instead of a day listed short or a run that
 * hangs.
 *
 * @example
 * ```ts
 * import { listingPages } from "./s3_bucket.ts";
 * const pages = listingPages("s3://b/2021/", (token) =>
 *   Promise.resolve({ IsTruncated: token === undefined, NextContinuationToken: "t1" }));
 * for await (const page of pages) console.log(page.IsTruncated); // true, then false
 * ```
 */
export async function* listingPages<
  Page extends { IsTruncated?: boolean; NextContinuationToken?: string },
>(uri: string, fetch: (token: string | undefined) => Promise<Page>): AsyncGenerator<Page> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await fetch(token);
    yield page;
    if (!page.IsTruncated) return;
    token = page.NextContinuationToken;
    if (!token) {
      throw new StorageError(`listing ${uri} is truncated but gives no continuation token`);
    }
    if (seen.has(token)) {
      throw new StorageError(
        `listing ${uri} does not advance: continuation token ${escapeText(token)} came back`,
      );
    }
    seen.add(token);
  } while (true);
}

/**
 * Turns an SDK failure into a one-line {@linkcode StorageError}.
 *
 * @example
 * ```ts
 * import { storageError } from "./s3_bucket.ts";
 * storageError({ name: "NoSuchBucket" }, "ListObjectsV2", "impressions", "2021/01/30/");
 * // BucketNotFoundError: bucket not found: s3://impressions
 * ```
 */
export function storageError(
  error: unknown,
  operation: string,
  bucket: string,
  key: string,
): StorageError {
  if (error instanceof StorageError) return error;
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e?.name ?? "";
  const status = e?.$metadata?.httpStatusCode ?? 0;
  const target = `s3://${bucket}/${key}`;
  if (name === "NoSuchBucket") return new BucketNotFoundError(`s3://${bucket}`);
  if (name === "AccessDenied" || name === "Forbidden" || status === 403) {
    return new AccessDeniedError(operation, target);
  }
  if (name === "CredentialsProviderError" || /credential/i.test(e?.message ?? "")) {
    return new CredentialsError(String(e?.message ?? name).split("\n")[0]);
  }
  if (name === "PreconditionFailed" || status === 412 || name === "NoSuchKey") {
    return new ObjectChangedError(target);
  }
  const transient = status >= 500 || status === 429 || TRANSIENT_CODES.has(name) ||
    TRANSIENT_CODES.has(e?.code ?? "") ||
    /socket|reset|premature|ended|timed? ?out|aborted/i.test(e?.message ?? "");
  const detail = (e?.message ?? String(error)).split("\n")[0];
  return new StorageError(
    `${operation} ${target} failed: ${name || "error"}${
      status ? ` (HTTP ${status})` : ""
    }: ${detail}`,
    { transient, cause: error },
  );
}

/** `body`, failing with a transient error when no bytes arrive for `ms`. */
function idleLimited(
  body: ReadableStream<Uint8Array>,
  ms: number,
  what: string,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Reject before cancelling: cancelling ends the pending read as if the body were done.
          reject(new StorageError(`${what}: no bytes for ${ms} ms`, { transient: true }));
          reader.cancel().catch(() => {});
        }, ms);
      });
      try {
        const { done, value } = await Promise.race([reader.read(), idle]);
        if (done) controller.close();
        else controller.enqueue(value);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * The identity of an S3 bucket: `s3://name` on AWS, else `s3://name@` and
 * the endpoint without user, password, query or fragment.
 *
 * @example
 * ```ts
 * import { s3Identity } from "./s3_bucket.ts";
 * s3Identity("impressions", "http://alice:pw@minio:9000/?token=t");
 * // "s3://impressions@http://minio:9000/"
 * ```
 */
export function s3Identity(bucket: string, endpoint?: string): string {
  if (endpoint === undefined) return `s3://${bucket}`;
  return `s3://${bucket}@${publicUrl(endpoint) ?? redact(endpoint)}`;
}

/** A key from a listing made with `EncodingType=url` (S3 writes a space as `+`). */
function decodeListedKey(key: string, bucket: string): string {
  try {
    return decodeURIComponent(key.replaceAll("+", " "));
  } catch {
    throw new StorageError(
      `ListObjectsV2 s3://${bucket}: a listed key is not URL-encoded as asked: ${escapeText(key)}`,
    );
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? "").replace(/^"|"$/g, "");
}

/**
 * Opens an S3 bucket. Nothing is requested until the first operation.
 *
 * @example
 * ```ts
 * import { openS3Bucket } from "./s3_bucket.ts";
 * const bucket = await openS3Bucket({ bucket: "impressions" });
 * for await (const object of bucket.list("2021/01/30/")) console.log(object.key);
 * ```
 */
export async function openS3Bucket(options: S3BucketOptions): Promise<Bucket> {
  const sdk = await loadPackage(() => import("@aws-sdk/client-s3"));
  const name = options.bucket;
  const client = options.client ?? await createS3Client(options);
  const policy = options.retry ?? { retries: 0 };
  const call = <T>(operation: string, key: string, run: () => Promise<T>) =>
    withRetries(`${operation} s3://${name}/${key}`, policy, async () => {
      try {
        return await run();
      } catch (error) {
        throw storageError(error, operation, name, key);
      }
    });
  return {
    uri: `s3://${name}`,
    identity: s3Identity(name, options.endpoint),
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      const pages = listingPages(
        `s3://${name}/${escapeText(prefix)}`,
        (token) =>
          call("ListObjectsV2", prefix, () =>
            client.send(
              new sdk.ListObjectsV2Command({
                Bucket: name,
                Prefix: prefix,
                ContinuationToken: token,
                // A key may hold bytes that XML 1.0 cannot carry.
                EncodingType: "url",
              }),
            )),
      );
      for await (const page of pages) {
        const encoded = page.EncodingType === "url";
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          const key = encoded ? decodeListedKey(object.Key, name) : object.Key;
          yield { key, etag: unquote(object.ETag), size: object.Size ?? 0 };
        }
      }
    },
    async get(key, getOptions) {
      const response = await call("GetObject", key, () =>
        client.send(
          new sdk.GetObjectCommand({
            Bucket: name,
            Key: key,
            IfMatch: getOptions?.ifMatch === undefined ? undefined : `"${getOptions.ifMatch}"`,
            Range: getOptions?.range
              ? `bytes=${getOptions.range.start}-${getOptions.range.end - 1}`
              : undefined,
          }),
          { abortSignal: getOptions?.signal },
        ));
      const sdkBody = response.Body as
        | { transformToWebStream(): ReadableStream<Uint8Array> }
        | undefined;
      if (!sdkBody) return new Blob([]).stream();
      // With the fetch handler this is fetch's own body stream, unwrapped.
      const body = sdkBody.transformToWebStream();
      // The handler's timeout ends at the headers; a body that stalls is
      // cut by an idle timeout of the same length.
      return options.timeoutMs
        ? idleLimited(body, options.timeoutMs, `GetObject s3://${name}/${key}`)
        : body;
    },
    head(key): Promise<ObjectHead | null> {
      return call("HeadObject", key, async () => {
        try {
          const response = await client.send(new sdk.HeadObjectCommand({ Bucket: name, Key: key }));
          const etag = unquote(response.ETag);
          return {
            key,
            etag,
            size: response.ContentLength ?? 0,
            md5: /^[0-9a-f]{32}$/.test(etag) ? etag : undefined,
            metadata: response.Metadata,
          };
        } catch (error) {
          const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
          const missing = e?.name === "NotFound" || e?.name === "NoSuchKey" ||
            e?.$metadata?.httpStatusCode === 404;
          if (missing && e?.name !== "NoSuchBucket") return null;
          throw error;
        }
      });
    },
    async put(key, body, putOptions) {
      const response = await call("PutObject", key, () =>
        client.send(
          new sdk.PutObjectCommand({
            Bucket: name,
            Key: key,
            Body: body,
            ContentType: putOptions?.contentType,
            IfMatch: putOptions?.ifMatch === undefined ? undefined : `"${putOptions.ifMatch}"`,
            IfNoneMatch: putOptions?.ifNoneMatch ? "*" : undefined,
            Metadata: putOptions?.metadata,
          }),
        ));
      return { key, etag: unquote(response.ETag), size: body.length };
    },
    async delete(key) {
      await call(
        "DeleteObject",
        key,
        () => client.send(new sdk.DeleteObjectCommand({ Bucket: name, Key: key })),
      );
    },
    close() {
      if (!options.client) client.destroy();
    },
  };
}
