/**
 * One lock per partition date in the cache, so two processes never write
 * the same date at once. The lock is an exclusive `flock` on
 * `<cache dir>/locks/<date>.lock`: the kernel releases it when its process
 * ends in any way (even SIGKILL), so a dead holder's lock is taken over at
 * once. The file also names the holder, for the message others see.
 *
 * @module
 */

import { withLocalIo } from "../resources/local_io.ts";

/** Another live process holds the date. */
export class LockedError extends Error {
  /** Builds the error naming the holder. */
  constructor(date: string, holder: LockInfo | null) {
    const who = holder
      ? `${
        holder.runId ? `run ${holder.runId}, ` : ""
      }process ${holder.pid} on ${holder.host} since ${holder.since}${
        holder.expiresAt ? ` (lease expires ${holder.expiresAt} unless renewed)` : ""
      }`
      : "another process";
    super(`date ${date} is locked by ${who} (pass --wait to wait for it)`);
    this.name = "LockedError";
  }
}

/** What a lock file says about its holder. */
export interface LockInfo {
  /** Process id. */
  pid: number;
  /** Host name. */
  host: string;
  /** When it was taken. */
  since: string;
  /** The holder's run id (leases). */
  runId?: string;
  /** When its lease expires unless renewed (leases). */
  expiresAt?: string;
}

/** Options for {@linkcode acquireLock}. */
export interface LockOptions {
  /** Cache root. */
  cacheDir: string;
  /** Partition date. */
  date: string;
  /** Wait for the holder instead of failing. */
  wait: boolean;
  /** Poll interval while waiting, in ms. */
  pollMs?: number;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

async function readHolder(file: Deno.FsFile): Promise<LockInfo | null> {
  try {
    await file.seek(0, Deno.SeekMode.Start);
    const buffer = new Uint8Array(1024);
    const n = await file.read(buffer);
    return n ? JSON.parse(new TextDecoder().decode(buffer.subarray(0, n))) : null;
  } catch {
    return null;
  }
}

/**
 * Takes the lock of a date; returns a function that releases it.
 *
 * @example
 * ```ts
 * import { acquireLock } from "./lock.ts";
 * const release = await acquireLock({ cacheDir: ".cache", date: "2021-01-30", wait: false });
 * try {
 *   // materialize the date
 * } finally {
 *   await release();
 * }
 * ```
 */
export async function acquireLock(options: LockOptions): Promise<() => Promise<void>> {
  const dir = `${options.cacheDir}/locks`;
  await withLocalIo("create folder", dir, () => Deno.mkdir(dir, { recursive: true }));
  const path = `${dir}/${options.date}.lock`;
  const file = await withLocalIo(
    "open",
    path,
    () => Deno.open(path, { read: true, write: true, create: true }),
  );
  try {
    while (!(await file.tryLock(true))) {
      if (!options.wait) throw new LockedError(options.date, await readHolder(file));
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }
    const mine: LockInfo = { pid: Deno.pid, host: hostname(), since: new Date().toISOString() };
    await file.truncate(0);
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(new TextEncoder().encode(JSON.stringify(mine)));
  } catch (error) {
    file.close();
    throw error;
  }
  return async () => {
    try {
      await file.truncate(0);
      await file.unlock();
    } finally {
      file.close();
    }
  };
}
