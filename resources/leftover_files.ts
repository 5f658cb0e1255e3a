/**
 * Temporary files that a killed process left behind (a download cut off by
 * SIGKILL leaves a full-size `*.tmp`), told apart by the writer their name
 * carries (host and pid) and removed by the next run of their date.
 *
 * @module
 */

import { hostTag, temporaryOwner } from "./atomic_file.ts";

/** Options for {@linkcode removeLeftoverTemporaries}. */
export interface LeftoverOptions {
  /**
   * Whether process `pid` of this machine runs: `true`, `false`, or
   * `undefined` when that cannot be told; default {@linkcode processRunning}.
   */
  isRunning?: (pid: number) => Promise<boolean | undefined>;
}

/**
 * Whether process `pid` runs on this machine, from `/proc/PID/stat` (a
 * zombie does not run); `undefined` when `/proc` cannot be read (not Linux,
 * or Deno's permissions short of `--allow-all`, which guard `/proc`).
 *
 * @example
 * ```ts
 * import { processRunning } from "./leftover_files.ts";
 * await processRunning(Deno.pid); // true, or undefined without access to /proc
 * ```
 */
export async function processRunning(pid: number): Promise<boolean | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // `PID (COMMAND) STATE ...`: the command may hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return undefined;
    try {
      await Deno.stat("/proc/self");
      return false; // /proc answers, and the process is not in it
    } catch {
      return undefined;
    }
  }
}

/**
 * Removes, under `dir` (at any depth), the temporary files (named by
 * `temporaryPath` of `atomic_file.ts`) that dead processes left behind. Call it while
 * holding the lock of the folder's date and before writing there: then no
 * process is writing in the folder, and every such file is a leftover. As a
 * second guard, a file whose writer is another process of this machine
 * known to be running is kept. One of this very process is removed: it
 * has not written there yet, so the file is a dead run's that had the same
 * pid (usual in containers). Returns the paths removed.
 *
 * @example
 * ```ts
 * import { removeLeftoverTemporaries } from "./leftover_files.ts";
 * // after acquireLock({ cacheDir: ".cache", date: "2021-01-30", wait: false }):
 * const removed = await removeLeftoverTemporaries(".cache/2021-01-30");
 * ```
 */
export async function removeLeftoverTemporaries(
  dir: string,
  options: LeftoverOptions = {},
): Promise<string[]> {
  const isRunning = options.isRunning ?? processRunning;
  const host = hostTag();
  const removed: string[] = [];
  const running = new Map<number, Promise<boolean | undefined>>();
  async function walk(folder: string): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${folder}/${entry.name}`;
      if (entry.isDirectory) {
        await walk(path);
        continue;
      }
      const owner = entry.isFile ? temporaryOwner(entry.name) : null;
      if (owner === null) continue;
      if (owner.host === host && owner.pid !== Deno.pid) {
        if (!running.has(owner.pid)) running.set(owner.pid, isRunning(owner.pid));
        if ((await running.get(owner.pid)) === true) continue;
      }
      try {
        await Deno.remove(path);
        removed.push(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  }
  await walk(dir);
  return removed;
}
