/**
 * Errors raised by storage resources. Each message is one line that names
 * the bucket, the operation and the key involved; control characters (in
 * a key, or in a store's reply) are escaped with `escapeText`.
 *
 * @module
 */

import { escapeText } from "../engine/escape_text.ts";

/** A storage operation failed; the run fails with exit code 1. */
export class StorageError extends Error {
  /** Whether retrying the same request may succeed. */
  readonly transient: boolean;
  /** Builds the error; `transient` marks throttling, 5xx and resets. */
  constructor(message: string, options?: { transient?: boolean; cause?: unknown }) {
    super(escapeText(message), { cause: options?.cause });
    this.name = "StorageError";
    this.transient = options?.transient ?? false;
  }
}

/** The bucket does not exist. */
export class BucketNotFoundError extends StorageError {
  /** Builds the error for `bucket`. */
  constructor(bucket: string) {
    super(`bucket not found: ${bucket}`);
    this.name = "BucketNotFoundError";
  }
}

/** The credentials in use may not perform an operation. */
export class AccessDeniedError extends StorageError {
  /** Builds the error for `operation` on `target`. */
  constructor(operation: string, target: string) {
    super(`access denied: ${operation} ${target}`);
    this.name = "AccessDeniedError";
  }
}

/** No credentials could be found for S3. */
export class CredentialsError extends StorageError {
  /** Builds the error with a hint on how to set credentials. */
  constructor(detail: string) {
    super(
      `no AWS credentials found (${detail}); set AWS_ACCESS_KEY_ID and ` +
        "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials",
    );
    this.name = "CredentialsError";
  }
}

/** An object changed or vanished between listing and reading. */
export class ObjectChangedError extends StorageError {
  /** The object's URI. */
  readonly target: string;

  /** Builds the error for the object `target`. */
  constructor(target: string) {
    super(`object changed or disappeared while reading: ${target}`);
    this.name = "ObjectChangedError";
    this.target = target;
  }
}
