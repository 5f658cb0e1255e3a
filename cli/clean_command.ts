/**
 * `clean`: removes cached date folders, and nothing else.
 *
 * @module
 */

import { resolve, sep } from "node:path";
import { UsageError } from "./errors.ts";

/** Options for {@linkcode cleanCache}. */
export interface CleanOptions {
  /** Cache root. */
  cacheDir: string;
  /** Remove this date's folder. */
  date?: string;
  /** Remove date folders not modified for this many milliseconds. */
  olderThanMs?: number;
  /** Say what would go without removing it. */
  dryRun?: boolean;
  /** What "now" is. */
  now?: Date;
}

/**
 * Parses an age like `30d` or `12h` into milliseconds.
 *
 * @example
 * ```ts
 * import { parseAge } from "./clean_command.ts";
 * parseAge("2d"); // 172800000
 * ```
 */
export function parseAge(text: string): number {
  const match = /^(\d+)(h|d)$/.exec(text);
  if (!match) {
    throw new UsageError(`--older-than must look like 30d or 12h, not ${JSON.stringify(text)}`);
  }
  return +match[1] * (match[2] === "d" ? 86_400_000 : 3_600_000);
}

/**
 * Removes date folders (`YYYY-MM-DD`) directly under the cache dir; returns
 * the dates removed. Run records, locks and the warehouse stay.
 */
export async function cleanCache(options: CleanOptions): Promise<string[]> {
  const root = resolve(options.cacheDir);
  const now = (options.now ?? new Date()).getTime();
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(root));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory || !/^\d{4}-\d{2}-\d{2}$/.test(entry.name)) continue;
    const path = resolve(root, entry.name);
    if (!path.startsWith(root + sep)) continue;
    let match = false;
    if (options.date !== undefined) match = entry.name === options.date;
    else if (options.olderThanMs !== undefined) {
      const info = await Deno.lstat(path);
      match = now - (info.mtime?.getTime() ?? now) > options.olderThanMs;
    }
    if (!match) continue;
    if (!options.dryRun) await Deno.remove(path, { recursive: true });
    removed.push(entry.name);
  }
  return removed;
}
