/**
 * Request paths that reach an S3 key literally. S3 keys are plain strings,
 * so `2021/01/30/sub/../x.csv` is a key of its own; but a URL parser (the
 * one behind `fetch` among them) resolves `.` and `..` segments, even
 * percent-encoded ones, and would request another object, possibly in
 * another bucket. Percent-encoding the separator after such a segment
 * (`sub/..%2Fx.csv`) leaves no dot segment to resolve; S3 decodes `%2F`
 * back to `/`, so the key is the same. The rewritten path is the one
 * signed and the one sent.
 *
 * @module
 */

import { escapeText } from "../engine/escape_text.ts";
import { StorageError } from "./errors.ts";

/** A key that no request path can name literally. */
export class UnreadableKeyError extends StorageError {
  /** Builds the error for `key`. */
  constructor(key: string) {
    super(
      `cannot request the object ${
        escapeText(key)
      } literally: its key ends in a "." or ".." segment`,
    );
    this.name = "UnreadableKeyError";
  }
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Rewrites an encoded request path so that no URL parser resolves its dot
 * segments: the `/` after each `.` or `..` segment becomes `%2F` (the `/`
 * before, for a last segment). Returns `null` when that cannot work: the
 * path ends in a dot segment that follows the bucket or the root.
 *
 * @example
 * ```ts
 * import { literalKeyPath } from "./literal_key_path.ts";
 * literalKeyPath("/impressions/2021/01/30/sub/../x.csv");
 * // "/impressions/2021/01/30/sub/..%2Fx.csv"
 * ```
 */
export function literalKeyPath(path: string, rootSegments = 0): string | null {
  const parts = path.split("/");
  const last = parts.length - 1;
  let out = parts[0];
  for (let i = 1; i <= last; i++) {
    const joined = (DOT_SEGMENT.test(parts[i - 1]) && i - 1 > 0) ||
      (i === last && DOT_SEGMENT.test(parts[i]));
    if (joined && i - 1 <= rootSegments) return null;
    out += (joined ? "%2F" : "/") + parts[i];
  }
  // Whatever the rewrite missed, the URL parser must leave the path alone.
  return new URL(`http://h${out}`).pathname === out ? out : null;
}

/**
 * A build-step middleware for an `S3Client` that gives every request on a
 * key a {@linkcode literalKeyPath}, or refuses it with
 * {@linkcode UnreadableKeyError} before anything is sent. `pathStyle`:
 * whether the bucket is the first path segment.
 *
 * @example
 * ```ts
 * import { S3Client } from "@aws-sdk/client-s3";
 * import { literalKeyMiddleware } from "./literal_key_path.ts";
 * const client = new S3Client({ region: "us-east-1" });
 * client.middlewareStack.add(literalKeyMiddleware(false), {
 *   step: "build",
 *   name: "literalKeyPath",
 * });
 * ```
 */
export function literalKeyMiddleware(pathStyle: boolean) {
  return <O>(next: (args: { input: object; request: unknown }) => Promise<O>) =>
  (args: { input: object; request: unknown }): Promise<O> => {
    const key = (args.input as { Key?: unknown }).Key;
    const request = args.request as { path?: unknown };
    if (typeof key === "string" && typeof request?.path === "string") {
      const path = literalKeyPath(request.path, pathStyle ? 1 : 0);
      if (path === null) throw new UnreadableKeyError(key);
      request.path = path;
    }
    return next(args);
  };
}
