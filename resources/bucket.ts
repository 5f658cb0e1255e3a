/**
 * Opens the bucket a run names: `s3://name` or a bare name for S3,
 * `file:///abs/path` or a path (`./x`, `/x`) for a local folder.
 *
 * @module
 */

import { resolve } from "node:path";
import type { RetryPolicy } from "./retry.ts";
import type { Bucket } from "./storage.ts";

/** Options for {@linkcode openBucket}. */
export interface OpenBucketOptions {
  /** Bucket reference as given on the command line or in a profile. */
  bucket: string;
  /** S3-compatible endpoint; ignored for a local folder. */
  endpoint?: string;
  /** AWS region. */
  region?: string;
  /** Per-request timeout in milliseconds (S3 only). */
  timeoutMs?: number;
  /** Retries of transient failures (S3 only). */
  retry?: RetryPolicy;
}

/** Whether a bucket reference names a local folder. */
export function isLocalBucket(bucket: string): boolean {
  return bucket.startsWith("file://") || bucket.startsWith(".") ||
    bucket.startsWith("/");
}

/** The absolute folder a local bucket reference names. */
export function localBucketRoot(bucket: string): string {
  return bucket.startsWith("file://")
    ? decodeURIComponent(new URL(bucket).pathname)
    : resolve(bucket);
}

/**
 * Opens a bucket by reference.
 *
 * @example
 * ```ts
 * import { openBucket } from "./bucket.ts";
 * const bucket = await openBucket({ bucket: "./sample/bucket" });
 * console.log(bucket.uri); // file:///.../sample/bucket
 * ```
 */
export async function openBucket(options: OpenBucketOptions): Promise<Bucket> {
  if (isLocalBucket(options.bucket)) {
    const { openLocalBucket } = await import("./local_bucket.ts");
    return openLocalBucket({ root: localBucketRoot(options.bucket) });
  }
  const { openS3Bucket } = await import("./s3_bucket.ts");
  return openS3Bucket({
    bucket: options.bucket.replace(/^s3:\/\//, "").replace(/\/+$/, ""),
    endpoint: options.endpoint,
    region: options.region,
    timeoutMs: options.timeoutMs,
    retry: options.retry,
  });
}
