/**
 * One lock per partition date in the cache, so two processes never write
 * the same date at once. A lock whose process is gone is taken over.
 *
 * @module
 */

/** Another live process holds the date. */
export class LockedError extends Error {
  /** Builds the error naming the holder. */
  constructor(date: string, holder: LockInfo) {
    super(
      `date ${date} is locked by process ${holder.pid} on ${holder.host} since ${holder.since} ` +
        "(pass --wait to wait for it)",
    );
    this.name = "LockedError";
  }
}

/** What a lock file holds. */
export interface LockInfo {
  /** Process id. */
  pid: number;
  /** Host name. */
  host: string;
  /** When it was taken. */
  since: string;
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
  /** Whether a process is alive; replaced in tests. */
  isAlive?: (info: LockInfo) => boolean;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

function defaultIsAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true; // cannot tell: assume alive
  try {
    Deno.statSync(`/proc/${info.pid}`);
    return true;
  } catch (error) {
    // Without /proc (not Linux) we cannot tell either.
    return !(error instanceof Deno.errors.NotFound) || !existsProc();
  }
}

function existsProc(): boolean {
  try {
    return Deno.statSync("/proc/self").isDirectory;
  } catch {
    return false;
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
  const path = `${dir}/${options.date}.lock`;
  await Deno.mkdir(dir, { recursive: true });
  const isAlive = options.isAlive ?? defaultIsAlive;
  const mine: LockInfo = { pid: Deno.pid, host: hostname(), since: new Date().toISOString() };
  const text = JSON.stringify(mine);
  while (true) {
    try {
      await Deno.writeTextFile(path, text, { createNew: true });
      return async () => {
        try {
          if ((await Deno.readTextFile(path)) === text) await Deno.remove(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    let holder: LockInfo;
    let held: string;
    try {
      held = await Deno.readTextFile(path);
      holder = JSON.parse(held);
    } catch {
      // Being written, or released just now: look again shortly.
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    if (!isAlive(holder)) {
      // Stale: take it over. Renaming first makes the takeover single-winner.
      const claimed = `${path}.${Deno.pid}.stale`;
      try {
        await Deno.rename(path, claimed);
        if ((await Deno.readTextFile(claimed)) === held) await Deno.remove(claimed);
        else await Deno.link(claimed, path).finally(() => Deno.remove(claimed));
      } catch {
        // someone else took it over first
      }
      continue;
    }
    if (!options.wait) throw new LockedError(options.date, holder);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
