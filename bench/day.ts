/**
 * The benchmark's synthetic days on disk: generated once per size and
 * options, and reused from an earlier run (`--keep`) when the same.
 *
 * @module
 */

import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import { shortRows } from "./report.ts";

/** A synthetic day on disk. */
export interface Day {
  /** The folder playing the bucket. */
  root: string;
  /** Its files, in processing order. */
  files: string[];
  /** Data rows (duplicates included). */
  rows: number;
  /** Bytes of the files. */
  bytes: number;
  /** Rows that re-emit an earlier row. */
  duplicates: number;
  /** Original rows stamped on the previous day. */
  lateRows: number;
}

/** Options for {@linkcode ensureDay}. */
export interface DayOptions {
  /** The bench's work folder; the day goes to `day-<rows>-<files>[-iso]` in it. */
  dir: string;
  /** Data rows. */
  rows: number;
  /** Files. */
  files: number;
  /** ISO 8601 datetimes with a `Z`. */
  isoTimes: boolean;
  /** The partition date. */
  date: string;
  /** Receives progress lines. */
  progress?: (message: string) => void;
}

/**
 * Generates the day (seed 1, 5% duplicates), or reuses the one kept from an
 * earlier run with the same options when its files are all there.
 *
 * @example
 * ```ts
 * import { ensureDay } from "./day.ts";
 * const day = await ensureDay({
 *   dir: "bench/out",
 *   rows: 1000,
 *   files: 2,
 *   isoTimes: false,
 *   date: "2021-01-30",
 * });
 * // day.files holds 2 paths under bench/out/day-1000-2/
 * ```
 */
export async function ensureDay(options: DayOptions): Promise<Day> {
  const { dir, rows, files, isoTimes, date } = options;
  const progress = options.progress ?? (() => {});
  const root = `${dir}/day-${rows}-${files}${isoTimes ? "-iso" : ""}`;
  const metaPath = `${root}/bench-day.json`;
  const wanted = { rows, files, isoTimes, seed: 1, date };
  try {
    const meta = JSON.parse(await Deno.readTextFile(metaPath));
    if (JSON.stringify(meta.options) === JSON.stringify(wanted)) {
      let bytes = 0;
      for (const file of meta.day.files as string[]) bytes += (await Deno.stat(file)).size;
      if (bytes === meta.day.bytes) {
        progress(`${shortRows(rows)}: reusing the day kept in ${root}`);
        return meta.day as Day;
      }
    }
  } catch {
    // Nothing kept, or not usable: generate.
  }
  await Deno.remove(root, { recursive: true }).catch(() => {});
  await Deno.mkdir(root, { recursive: true });
  const started = performance.now();
  const result = await writeSyntheticDay({
    root,
    date,
    rows,
    files,
    duplicateShare: 0.05,
    seed: 1,
    isoTimes,
  });
  progress(
    `${shortRows(rows)}: generated ${(result.bytes / 1e6).toFixed(0)} MB in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s (${result.duplicates} duplicates, ${result.lateRows} late rows)`,
  );
  const day: Day = {
    root,
    files: result.files,
    rows: result.rows,
    bytes: result.bytes,
    duplicates: result.duplicates,
    lateRows: result.lateRows,
  };
  await Deno.writeTextFile(metaPath, JSON.stringify({ options: wanted, day }, null, 2));
  return day;
}
