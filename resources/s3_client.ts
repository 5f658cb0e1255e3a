/**
 * The one way this tool makes an S3 client, for buckets and for shared
 * state alike: Deno's fetch underneath (far less CPU per byte than the Node
 * http layer), path-style addressing and checksums only when required on a
 * custom endpoint, no SDK retries (ours are counted, logged and bounded),
 * and keys sent literally (`a/../b.csv` is its own object, never `b.csv`).
 *
 * @module
 */

import type { S3Client } from "@aws-sdk/client-s3";
import { literalKeyMiddleware } from "./literal_key_path.ts";
import { loadPackage } from "./npm_package.ts";

/** Options for {@linkcode createS3Client}. */
export interface S3ClientOptions {
  /** AWS region; `us-east-1` by default. */
  region?: string;
  /** An S3-compatible endpoint (path-style), or AWS when absent. */
  endpoint?: string;
  /** Per-request timeout in milliseconds; none when absent. */
  timeoutMs?: number;
}

/**
 * Makes a client; the SDK is loaded only when one is made.
 *
 * @example
 * ```ts
 * import { createS3Client } from "./s3_client.ts";
 * const client = await createS3Client({ endpoint: "http://127.0.0.1:9000", timeoutMs: 30_000 });
 * client.destroy();
 * ```
 */
export async function createS3Client(options: S3ClientOptions): Promise<S3Client> {
  const sdk = await loadPackage(() => import("@aws-sdk/client-s3"));
  const { FetchHttpHandler } = await loadPackage(() => import("@smithy/fetch-http-handler"));
  const client = new sdk.S3Client({
    region: options.region ?? "us-east-1",
    ...(options.endpoint
      ? {
        endpoint: options.endpoint,
        forcePathStyle: true,
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }
      : {}),
    maxAttempts: 1,
    requestHandler: new FetchHttpHandler({ requestTimeout: options.timeoutMs }),
  });
  client.middlewareStack.add(literalKeyMiddleware(options.endpoint !== undefined), {
    step: "build",
    name: "literalKeyPath",
    override: true,
  });
  return client;
}
