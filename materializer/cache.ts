/**
 * Cache entries: one folder per partition and asset, holding data files and
 * a `manifest.json` written last. Every file is written under a temporary
 * name and renamed; the manifest lists each file with its size and (for
 * derived data) its SHA-256, verified when the entry is read, so a crash or
 * a damaged file never yields an entry that looks valid.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { temporaryPath, writeFileAtomic } from "../resources/atomic_file.ts";
import { localIoError, withLocalIo } from "../resources/local_io.ts";
import type { CheckResult } from "./asset.ts";
import { mapConcurrent } from "./concurrency.ts";

/** A data file of an entry. */
export interface FileRecord {
  /** Name relative to the entry folder (may contain `/`). */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Hex SHA-256 of the content, when it is verified on read. */
  sha256?: string;
}

/** The manifest of a cache entry; `manifest.json` in the entry folder. */
export interface Manifest {
  /** Manifest format version. */
  format: 1;
  /** Asset name. */
  asset: string;
  /** Partition date. */
  partition: string;
  /** Data version the entry holds. */
  dataVersion: string;
  /** Code version of the asset that wrote it. */
  codeVersion: string;
  /** When it was written (ISO 8601). */
  createdAt: string;
  /** Figures recorded by the asset (rows, bytes, duration, ...). */
  metadata: Record<string, unknown>;
  /** A source's observation (e.g. the listing), for `plan`'s reasons. */
  observation?: unknown;
  /** Small JSON part of the value. */
  value?: unknown;
  /** Parameters and upstream data versions the data version came from. */
  inputs?: { params: Record<string, unknown>; upstream: Record<string, string> };
  /** Check results when the entry was written. */
  checks?: CheckResult[];
  /** Data files. */
  files: FileRecord[];
}

/** Writes the files of an entry being materialized. */
export interface EntryWriter {
  /** The entry folder. */
  readonly dir: string;
  /** Writes a file atomically, with a checksum verified on read. */
  writeFile(name: string, data: Uint8Array): Promise<void>;
  /**
   * Streams a file in atomically. Verified on read by size only (large raw
   * objects), or also by SHA-256 with `checksum`. Returns the bytes written.
   */
  writeStream(
    name: string,
    stream: ReadableStream<Uint8Array>,
    options?: { checksum?: boolean; onBytes?: (n: number) => void },
  ): Promise<number>;
  /**
   * Copies a local file in atomically (by the kernel, no bytes through JS);
   * verified on read by size. Returns the bytes copied.
   */
  copyFile(name: string, source: string): Promise<number>;
  /**
   * Fills a file of known size from byte ranges fetched concurrently, then
   * renames it into place; verified on read by size. `attempt` wraps each
   * part (to retry it). Returns the bytes written.
   */
  writeRanges(name: string, size: number, options: RangeOptions): Promise<number>;
  /**
   * Has `fill` write a file at the temporary path it is given (by any
   * means: other threads, several handles; `path` is where it goes, for
   * messages), then renames it into place; verified on read by size.
   * Returns its size.
   */
  writeFileWith(
    name: string,
    fill: (temporary: string, path: string) => Promise<void>,
  ): Promise<number>;
  /** Keeps a file of the previous entry as it is. */
  keepFile(record: FileRecord): void;
  /** Sets the small JSON part of the value. */
  setValue(value: unknown): void;
  /** The files written or kept so far. */
  readonly files: readonly FileRecord[];
  /** The JSON value set so far. */
  readonly value: unknown;
}

/** How {@linkcode EntryWriter.writeRanges} fetches a file. */
export interface RangeOptions {
  /** Bytes per part. */
  partSize: number;
  /** Parts fetched at once. */
  concurrency: number;
  /** Streams bytes `start` to `end` (exclusive). */
  fetch(start: number, end: number): Promise<ReadableStream<Uint8Array>>;
  /** Called with the size of each chunk written (for progress). */
  onBytes?(n: number): void;
  /** Runs one part (once by default; pass a retrying or rate-limiting wrapper). */
  attempt?(run: () => Promise<void>, part: { start: number; end: number }): Promise<void>;
}

/** Reads a verified entry. */
export interface EntryReader {
  /** The entry folder. */
  readonly dir: string;
  /** Its manifest. */
  readonly manifest: Manifest;
  /** Absolute path of a data file. */
  path(name: string): string;
  /** Reads a data file whole. */
  readFile(name: string): Promise<Uint8Array>;
}

const MANIFEST = "manifest.json";

/** Hex SHA-256 of bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Bytes read at a time by {@linkcode sha256File}. */
const HASH_READ = 4 << 20;

/**
 * Hex SHA-256 of a file, read 4 MiB at a time into one buffer (a file's
 * readable stream hands out 64 KiB chunks, each a trip through the stream
 * machinery: most of a no-change rerun's time went there).
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  try {
    const buffer = new Uint8Array(HASH_READ);
    while (true) {
      const n = await file.read(buffer);
      if (n === null) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

function safeName(name: string): string {
  if (
    name === "" || name.startsWith("/") || name.split("/").includes("..") ||
    name === MANIFEST
  ) throw new Error(`unsafe cache file name: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Starts writing an entry into `dir`; nothing is visible until
 * {@linkcode commitEntry}.
 *
 * @example
 * ```ts
 * import { commitEntry, createEntryWriter } from "./cache.ts";
 * const out = createEntryWriter("/tmp/cache/2021-01-30/demo");
 * await out.writeFile("data.bin", new Uint8Array([1, 2, 3]));
 * await commitEntry(out, {
 *   asset: "demo", partition: "2021-01-30", dataVersion: "v", codeVersion: "1",
 *   metadata: {},
 * });
 * ```
 */
export function createEntryWriter(
  dir: string,
  options: { checkpoint?: (file: string) => Promise<void> } = {},
): EntryWriter {
  const files = new Map<string, FileRecord>();
  let value: unknown = undefined;
  /**
   * Has `fill` write the file `name` at a temporary path next to it, then
   * renames it into place; a failure removes the temporary file.
   */
  async function intoPlace<T>(
    name: string,
    fill: (temporary: string, path: string) => Promise<T>,
  ): Promise<T> {
    const path = `${dir}/${safeName(name)}`;
    await makeFolder(path.slice(0, path.lastIndexOf("/")));
    const temporary = temporaryPath(path);
    try {
      const result = await fill(temporary, path);
      await withLocalIo("rename into", path, () => Deno.rename(temporary, path));
      return result;
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
  }
  return {
    dir,
    async writeFile(name, data) {
      let sha256 = "";
      await intoPlace(name, async (temporary, path) => {
        const writing = withLocalIo("write", path, () => Deno.writeFile(temporary, data));
        // Hashed here while the runtime's I/O thread writes the bytes: at
        // the end of a 10M-row day, the 18 MB of kept flags and index took
        // some 20 ms to hash after their write.
        try {
          sha256 = sha256Hex(data);
        } finally {
          await writing;
        }
      });
      files.set(name, { name, size: data.length, sha256 });
    },
    async writeStream(name, stream, streamOptions) {
      let size = 0;
      const hash = streamOptions?.checksum ? createHash("sha256") : null;
      const counter = new TransformStream<Uint8Array, Uint8Array>({
        async transform(chunk, controller) {
          if (size > 0) await options.checkpoint?.(name); // mid-file
          size += chunk.length;
          streamOptions?.onBytes?.(chunk.length);
          hash?.update(chunk);
          controller.enqueue(chunk);
        },
      });
      await intoPlace(name, async (temporary, path) => {
        // Written here, not by Deno.writeFile: an error of the source stream
        // (a body cut short) must stay apart from one of the disk.
        const file = await withLocalIo(
          "create",
          temporary,
          () => Deno.open(temporary, { write: true, create: true, truncate: true }),
        );
        try {
          for await (const chunk of stream.pipeThrough(counter)) await writeAll(file, chunk, path);
        } finally {
          file.close();
        }
      });
      files.set(name, hash ? { name, size, sha256: hash.digest("hex") } : { name, size });
      return size;
    },
    async writeFileWith(name, fill) {
      const size = await intoPlace(name, async (temporary, path) => {
        await fill(temporary, path);
        const { size } = await withLocalIo("stat", temporary, () => Deno.stat(temporary));
        await options.checkpoint?.(name); // written, not yet in place
        return size;
      });
      files.set(name, { name, size });
      return size;
    },
    async copyFile(name, source) {
      const size = await intoPlace(name, async (temporary, path) => {
        await withLocalIo(`copy ${source} to`, path, () => Deno.copyFile(source, temporary));
        await options.checkpoint?.(name); // copied, not yet in place
        return (await Deno.stat(temporary)).size;
      });
      files.set(name, { name, size });
      return size;
    },
    async writeRanges(name, size, ranges) {
      const parts: { start: number; end: number }[] = [];
      for (let start = 0; start < size; start += ranges.partSize) {
        parts.push({ start, end: Math.min(size, start + ranges.partSize) });
      }
      const attempt = ranges.attempt ?? ((run: () => Promise<void>) => run());
      await intoPlace(name, async (temporary, path) => {
        await withLocalIo("create", temporary, async () => {
          await Deno.writeFile(temporary, new Uint8Array(0));
          await Deno.truncate(temporary, size);
        });
        let done = 0;
        await mapConcurrent(parts, ranges.concurrency, ({ start, end }) =>
          attempt(async () => {
            const file = await withLocalIo("open", temporary, async () => {
              const file = await Deno.open(temporary, { write: true });
              await file.seek(start, Deno.SeekMode.Start);
              return file;
            });
            try {
              let position = start;
              for await (const chunk of await ranges.fetch(start, end)) {
                if (position + chunk.length > end) throw new Error("a part is longer than asked");
                await writeAll(file, chunk, path);
                position += chunk.length;
                ranges.onBytes?.(chunk.length);
              }
              if (position !== end) {
                throw new Error(`a part ended at byte ${position}, expected ${end}`);
              }
            } finally {
              file.close();
            }
          }, { start, end }).then(() => {
            if (++done === 1 && parts.length > 1) return options.checkpoint?.(name); // mid-file
          }));
      });
      files.set(name, { name, size });
      return size;
    },
    keepFile(record) {
      files.set(record.name, record);
    },
    setValue(v) {
      value = v;
    },
    get files() {
      return [...files.values()];
    },
    get value() {
      return value;
    },
  };
}

/** Creates a folder (and its parents); a file-system error names it. */
function makeFolder(path: string): Promise<void> {
  return withLocalIo("create folder", path, () => Deno.mkdir(path, { recursive: true }));
}

/** Writes all of `chunk`; a file-system error names `path` (the file being written). */
async function writeAll(file: Deno.FsFile, chunk: Uint8Array, path: string): Promise<void> {
  let written = 0;
  try {
    while (written < chunk.length) written += await file.write(chunk.subarray(written));
  } catch (error) {
    throw localIoError(error, "write", path);
  }
}

/** The manifest fields a caller supplies to {@linkcode commitEntry}. */
export type ManifestFields = Omit<Manifest, "format" | "files" | "createdAt" | "value">;

/**
 * Makes an entry visible: writes its manifest atomically (last), then
 * removes files no longer listed.
 */
export async function commitEntry(
  out: EntryWriter,
  fields: ManifestFields,
): Promise<Manifest> {
  const manifest = buildManifest(out, fields);
  await writeFileAtomic(
    `${out.dir}/${MANIFEST}`,
    new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"),
  );
  await removeUnlistedFiles(out.dir, manifest);
  return manifest;
}

/** The manifest of an entry written so far, stamped now. */
export function buildManifest(out: EntryWriter, fields: ManifestFields): Manifest {
  return {
    format: 1,
    ...fields,
    createdAt: new Date().toISOString(),
    value: out.value,
    files: [...out.files],
  };
}

/** Removes the files of an entry folder its manifest no longer lists. */
export async function removeUnlistedFiles(dir: string, manifest: Manifest): Promise<void> {
  const keep = new Set(manifest.files.map((f) => f.name));
  await removeUnlisted(dir, "", keep).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/**
 * Checks a manifest read from somewhere untrusted: its shape, that it is the
 * entry asked for, and that every file name stays inside its entry folder.
 * Returns why it is not acceptable, or `undefined`.
 *
 * @example
 * ```ts
 * import { manifestProblem } from "./cache.ts";
 * manifestProblem({ format: 1 }, "2021-01-30", "raw_partition"); // "its manifest is malformed"
 * ```
 */
export function manifestProblem(
  value: unknown,
  partition: string,
  asset: string,
): string | undefined {
  const m = value as Partial<Manifest> | null;
  if (m === null || typeof m !== "object") return "its manifest is malformed";
  if (typeof m.format === "number" && m.format > 1) {
    return `its manifest has format ${m.format}, newer than this tool reads (1)`;
  }
  const files = Array.isArray(m.files) ? m.files : null;
  const ok = m.format === 1 && m.asset === asset && m.partition === partition &&
    typeof m.dataVersion === "string" && typeof m.codeVersion === "string" &&
    typeof m.createdAt === "string" && m.metadata !== null && typeof m.metadata === "object" &&
    files !== null &&
    files.every((f) =>
      f !== null && typeof f === "object" && typeof f.name === "string" &&
      f.name.length <= 1024 && Number.isSafeInteger(f.size) && f.size >= 0 &&
      (f.sha256 === undefined || (typeof f.sha256 === "string" && /^[0-9a-f]{64}$/.test(f.sha256)))
    );
  if (!ok) return "its manifest is malformed";
  try {
    for (const f of files!) safeName(f.name);
  } catch {
    return "its manifest names a file outside its entry";
  }
  return undefined;
}

/**
 * Checks an entry's files on this machine against its manifest: `undefined`
 * when every file is there with its size (and checksum, with `verify`),
 * else the first problem.
 */
export async function filesProblem(
  dir: string,
  manifest: Manifest,
  verify: boolean,
): Promise<string | undefined> {
  for (const file of manifest.files) {
    const path = `${dir}/${safeName(file.name)}`;
    try {
      const info = await Deno.stat(path);
      if (info.size !== file.size) return `cached file ${file.name} has the wrong size`;
      if (verify && file.sha256 !== undefined && (await sha256File(path)) !== file.sha256) {
        return `cached file ${file.name} fails its checksum`;
      }
    } catch {
      return `cached file ${file.name} is missing`;
    }
  }
  return undefined;
}

/** A reader over an entry folder with a manifest already read. */
export function entryReader(dir: string, manifest: Manifest): EntryReader {
  return {
    dir,
    manifest,
    path: (name) => `${dir}/${safeName(name)}`,
    readFile: (name) => Deno.readFile(`${dir}/${safeName(name)}`),
  };
}

async function removeUnlisted(dir: string, prefix: string, keep: Set<string>): Promise<void> {
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const name = prefix + entry.name;
    if (entry.isDirectory) await removeUnlisted(dir, `${name}/`, keep);
    else if (name !== MANIFEST && !keep.has(name) && !name.endsWith(".tmp")) {
      await Deno.remove(`${dir}/${name}`).catch(() => {});
    }
  }
}

/** The outcome of {@linkcode openEntry}. */
export type OpenedEntry =
  | {
    entry: EntryReader;
    problem?: undefined;
    /**
     * Set by a shared state when the manifest is current but its files are
     * not on this machine (why): the entry decides "up to date", and its
     * value is recomputed here only if something needs to read it.
     */
    missing?: string;
  }
  | { entry: null; problem: string; missing?: undefined };

/**
 * Opens the entry in `dir` and verifies it: the manifest parses, every file
 * exists with its size, and checksummed files match. Returns the problem
 * when it does not verify (or `never materialized` when there is none).
 */
export async function openEntry(dir: string, verify = true): Promise<OpenedEntry> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(`${dir}/${MANIFEST}`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { entry: null, problem: "never materialized" };
    }
    return { entry: null, problem: "its cache manifest is unreadable" };
  }
  if (manifest.format !== 1 || !Array.isArray(manifest.files)) {
    return { entry: null, problem: "its cache manifest is unreadable" };
  }
  for (const file of manifest.files) {
    const path = `${dir}/${file.name}`;
    try {
      const info = await Deno.stat(path);
      if (info.size !== file.size) {
        return { entry: null, problem: `cached file ${file.name} has the wrong size` };
      }
      if (verify && file.sha256 !== undefined) {
        if ((await sha256File(path)) !== file.sha256) {
          return { entry: null, problem: `cached file ${file.name} fails its checksum` };
        }
      }
    } catch {
      return { entry: null, problem: `cached file ${file.name} is missing` };
    }
  }
  return {
    entry: {
      dir,
      manifest,
      path: (name) => `${dir}/${safeName(name)}`,
      readFile: (name) => Deno.readFile(`${dir}/${safeName(name)}`),
    },
  };
}
