/**
 * The version of a local file as a folder bucket gives it (its "ETag"):
 * size and modification time in nanoseconds. A file read in place, where
 * it lies in the folder, is checked against the version its listing said
 * before and after every read, so a file written meanwhile fails the read
 * instead of mixing two versions.
 *
 * @module
 */

import { stat } from "node:fs/promises";
import { ObjectChangedError } from "./errors.ts";

/**
 * A file's version and size, or `null` when there is no such regular file.
 *
 * @example
 * ```ts
 * import { fileVersion } from "./file_version.ts";
 * const v = await fileVersion("/tmp/bucket/2021/01/30/a.csv");
 * // { etag: "1234-1700000000123456789", size: 1234 } or null
 * ```
 */
export async function fileVersion(path: string): Promise<{ etag: string; size: number } | null> {
  try {
    const info = await stat(path, { bigint: true });
    if (!info.isFile()) return null;
    return { etag: `${info.size}-${info.mtimeNs}`, size: Number(info.size) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
}

/**
 * Fails with `ObjectChangedError` naming `file://PATH` unless the file
 * still has version `etag`.
 *
 * @example
 * ```ts
 * import { checkFileVersion } from "./file_version.ts";
 * await checkFileVersion("/tmp/bucket/2021/01/30/a.csv", "1234-1700000000123456789");
 * ```
 */
export async function checkFileVersion(path: string, etag: string): Promise<void> {
  if ((await fileVersion(path))?.etag !== etag) throw new ObjectChangedError(`file://${path}`);
}
