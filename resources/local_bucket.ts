/**
 * A local folder laid out like a bucket: the key `2021/01/30/a.csv` is the
 * file `<root>/2021/01/30/a.csv`. An object's version token (its "ETag") is
 * its size and modification time in nanoseconds.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { BucketNotFoundError, ObjectChangedError, StorageError } from "./errors.ts";
import type { Bucket, ObjectHead, ObjectInfo } from "./storage.ts";
import { writeFileAtomic } from "./atomic_file.ts";
import { escapeText } from "../engine/escape_text.ts";
import { fileVersion as version } from "./file_version.ts";

/** Options for {@linkcode openLocalBucket}. */
export interface LocalBucketOptions {
  /** Absolute path of the folder that stands for the bucket. */
  root: string;
}

/**
 * The identity of a folder bucket: `file://` and its real absolute path
 * (symbolic links resolved, so two names of one folder are one bucket).
 *
 * @example
 * ```ts
 * import { localIdentity } from "./local_bucket.ts";
 * localIdentity("/data/impressions"); // "file:///data/impressions"
 * ```
 */
export function localIdentity(realPath: string): string {
  return `file://${encodeURI(realPath.replace(/\/+$/, "") || "/")}`;
}

/**
 * The file of object `key` in the folder bucket whose identity is
 * `identity` (see {@linkcode localIdentity}): where a cache entry made by
 * reading a folder's objects in place finds them again. Fails with a
 * `StorageError` for another kind of bucket or a key that would not name a
 * file inside the folder literally.
 *
 * @example
 * ```ts
 * import { localObjectPath } from "./local_bucket.ts";
 * localObjectPath("file:///data/impressions", "2021/01/30/a.csv");
 * // "/data/impressions/2021/01/30/a.csv"
 * ```
 */
export function localObjectPath(identity: string, key: string): string {
  if (!identity.startsWith("file:///")) {
    throw new StorageError(`not a folder bucket: ${escapeText(identity)}`);
  }
  checkKey(key);
  let root: string;
  try {
    root = decodeURI(identity.slice("file://".length));
  } catch {
    throw new StorageError(`not a folder bucket: ${escapeText(identity)}`);
  }
  return root === "/" ? `/${key}` : `${root}/${key}`;
}

/**
 * Refuses keys that would not name the file `<root>/<key>` literally.
 * Control characters are legal in file names, and messages escape them.
 */
function checkKey(key: string): void {
  const parts = key.split("/");
  if (
    key === "" || key.startsWith("/") || key.includes("\\") ||
    parts.some((p) => p === "" || p === "." || p === "..") || key.includes("\0")
  ) throw new StorageError(`unsafe object key for a local bucket: ${escapeText(key)}`);
}

/**
 * Opens a local folder as a bucket. Fails with `BucketNotFoundError` when the
 * folder does not exist.
 *
 * @example
 * ```ts
 * import { openLocalBucket } from "./local_bucket.ts";
 * const bucket = await openLocalBucket({ root: "/tmp/bucket" });
 * for await (const object of bucket.list("2021/01/30/")) console.log(object.key);
 * ```
 */
export async function openLocalBucket(options: LocalBucketOptions): Promise<Bucket> {
  const root = options.root.replace(/\/+$/, "") || "/";
  const uri = `file://${root}`;
  let real: string;
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new BucketNotFoundError(uri);
    real = await Deno.realPath(root);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new BucketNotFoundError(uri);
    throw error;
  }
  const pathOf = (key: string) => {
    checkKey(key);
    return `${root}/${key}`;
  };

  async function* walk(dir: string, keyPrefix: string): AsyncGenerator<string> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory) yield* walk(`${dir}/${entry.name}`, `${key}/`);
      else if (entry.isFile) yield key;
    }
  }

  return {
    uri,
    identity: localIdentity(real),
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      // Walk from the deepest folder the prefix names, then filter by prefix.
      const folder = prefix.slice(0, prefix.lastIndexOf("/") + 1);
      const keys: string[] = [];
      for await (const key of walk(`${root}/${folder}`.replace(/\/$/, ""), folder)) {
        if (key.startsWith(prefix)) keys.push(key);
      }
      keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const key of keys) {
        const v = await version(`${root}/${key}`);
        if (v !== null) yield { key, ...v };
      }
    },
    async localPath(key, ifMatch) {
      const path = pathOf(key);
      if ((await version(path))?.etag !== ifMatch) throw new ObjectChangedError(`${uri}/${key}`);
      return path;
    },
    async get(key, getOptions) {
      const path = pathOf(key);
      const changed = () => new ObjectChangedError(`${uri}/${key}`);
      if (
        getOptions?.ifMatch !== undefined &&
        (await version(path))?.etag !== getOptions.ifMatch
      ) throw changed();
      try {
        return (await Deno.open(path)).readable;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) throw changed();
        throw error;
      }
    },
    async head(key): Promise<ObjectHead | null> {
      const path = pathOf(key);
      const v = await version(path);
      if (v === null) return null;
      const md5 = createHash("md5").update(await Deno.readFile(path)).digest("hex");
      return { key, ...v, md5 };
    },
    async put(key, body) {
      const path = pathOf(key);
      await writeFileAtomic(path, body);
      const v = await version(path);
      return { key, etag: v!.etag, size: body.length };
    },
    async delete(key) {
      await Deno.remove(pathOf(key)).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
    close() {},
  };
}
