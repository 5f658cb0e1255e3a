/**
 * The storage interface shared by S3 and local-folder buckets.
 *
 * @module
 */

/** An object seen in a listing or a HEAD request. */
export interface ObjectInfo {
  /** Object key. */
  key: string;
  /** Version token: the S3 ETag (without quotes), or size and mtime. */
  etag: string;
  /** Size in bytes. */
  size: number;
}

/** The result of {@linkcode Bucket.head}. */
export interface ObjectHead extends ObjectInfo {
  /** Hex MD5 of the content when the store knows it, else `undefined`. */
  md5?: string;
  /** User metadata (`x-amz-meta-*`, names in lower case), where the store keeps it. */
  metadata?: Record<string, string>;
}

/** Options for {@linkcode Bucket.get}. */
export interface GetOptions {
  /** Fail with `ObjectChangedError` unless the object still has this ETag. */
  ifMatch?: string;
  /** Only bytes `start` to `end` (exclusive). */
  range?: { start: number; end: number };
  /** Abort the request. */
  signal?: AbortSignal;
}

/** Options for {@linkcode Bucket.put}. */
export interface PutOptions {
  /** MIME type of the body. */
  contentType?: string;
  /**
   * Write only if the object still has this ETag (`ObjectChangedError`
   * otherwise), where the store supports conditional writes.
   */
  ifMatch?: string;
  /** Write only if there is no object yet, where the store supports it. */
  ifNoneMatch?: boolean;
  /** User metadata stored with the object, where the store keeps it. */
  metadata?: Record<string, string>;
}

/** A bucket of objects: an S3 bucket or a local folder laid out like one. */
export interface Bucket {
  /** `s3://name` or `file:///absolute/path`, for messages and object URIs. */
  readonly uri: string;
  /**
   * Which bucket this is, without credentials: `s3://name` on AWS,
   * `s3://name@http://host:port/` on another endpoint (no user, password or
   * query), `file:///real/absolute/path` for a folder (symbolic links
   * resolved). Part of `raw_partition`'s data version and of every cache
   * entry that says where something is, so one cache never mixes buckets.
   */
  readonly identity: string;
  /** Lists every object under `prefix`, at any depth, across all pages. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * Local folders only: the file behind an object, after checking it still
   * has the ETag `ifMatch` (`ObjectChangedError` otherwise), so it can be
   * copied by the kernel instead of streamed.
   */
  localPath?(key: string, ifMatch: string): Promise<string>;
  /** Streams an object's bytes. */
  get(key: string, options?: GetOptions): Promise<ReadableStream<Uint8Array>>;
  /** Describes an object, or returns `null` when it does not exist. */
  head(key: string): Promise<ObjectHead | null>;
  /** Writes an object whole. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<ObjectInfo>;
  /** Deletes an object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Releases connections. */
  close(): void;
}

/** The URI of an object in a bucket. */
export function objectUri(bucket: Bucket, key: string): string {
  return `${bucket.uri.replace(/\/$/, "")}/${key}`;
}
