/**
 * Whether a day can be deduplicated incrementally: only the objects that
 * arrived since its previous entry are parsed, against the key records the
 * previous entry kept (see `engine/day_scan.ts`).
 *
 * That is exact only when the previous rows still come first, unchanged:
 * the listing has only grown (no object changed or vanished) and every new
 * key sorts after every processed one, so "the first row in processing
 * order wins" keeps the same rows. Anything else is a full run, with the
 * first reason found.
 *
 * @module
 */

import type { EntryReader } from "../materializer/cache.ts";
import { escapeText } from "../engine/escape_text.ts";
import type { ObjectInfo } from "../resources/storage.ts";
import type { DayBase } from "../engine/day_scan.ts";
import type { ObjectRows } from "../engine/impression_day.ts";
import type { InvalidRow } from "../engine/scan_impressions.ts";
import type { DayStats } from "../engine/impression_day.ts";

/** How a day is deduplicated: after its previous state, or from scratch and why. */
export type DayMode =
  | {
    incremental: true;
    /** Objects already processed (a prefix of the listing). */
    processed: number;
    /** The new objects, in processing order. */
    added: readonly ObjectInfo[];
  }
  | { incremental: false; reason: string };

/** Where the key records of a day's kept rows are, in its entry's value. */
export interface KeyState {
  /** Bucket identity the objects were read from. */
  bucket: string;
  /** Hash partitions of the segments. */
  partitions: number;
  /** Segment numbers: files `dedupe/keys-N.bin` and `dedupe/keys-N.index`. */
  segments: number[];
  /** Row chunks, in row order: the rows' files written with these segments (see `rowFiles`). */
  rows: number[];
}

/** What {@linkcode dayMode} reads of a previous `deduped_impressions` value. */
export interface PreviousDay {
  /** The objects processed, in order. */
  objects: readonly ObjectInfo[];
  /** Key records of the kept rows (absent in entries written before they were). */
  keys?: KeyState;
}

/** What the current run would compute with. */
export interface DayInputs {
  /** Bucket identity listed. */
  bucket: string;
  /** Every object of the day, in processing order. */
  objects: readonly ObjectInfo[];
  /** The asset's code version. */
  codeVersion: string;
  /** The asset's output-changing parameters. */
  params: Record<string, unknown>;
}

/**
 * Decides between an incremental and a full run of a day from its previous
 * entry (or `null`) and the current listing.
 *
 * @example
 * ```ts
 * import { dayMode } from "./_incremental.ts";
 * const mode = dayMode(null, {
 *   bucket: "file:///b",
 *   objects: [{ key: "2021/01/30/a.csv", etag: "1", size: 9 }],
 *   codeVersion: "3",
 *   params: {},
 * });
 * // mode is { incremental: false, reason: "no previous state" }
 * ```
 */
export function dayMode(previous: EntryReader | null, current: DayInputs): DayMode {
  const full = (reason: string): DayMode => ({ incremental: false, reason });
  if (!previous) return full("no previous state");
  const manifest = previous.manifest;
  if (manifest.codeVersion !== current.codeVersion) return full("code version changed");
  for (const [name, value] of Object.entries(current.params)) {
    if (JSON.stringify(manifest.inputs?.params[name]) !== JSON.stringify(value)) {
      return full(`parameter ${name} changed`);
    }
  }
  const value = manifest.value as PreviousDay | undefined;
  if (!value?.keys || !Array.isArray(value.objects)) return full("no key records cached");
  if (value.keys.bucket !== current.bucket) return full("bucket changed");
  const now = new Map(current.objects.map((o) => [o.key, o]));
  for (const object of value.objects) {
    const found = now.get(object.key);
    if (!found) return full(`${escapeText(object.key)} removed`);
    if (found.etag !== object.etag || found.size !== object.size) {
      return full(`${escapeText(object.key)} changed`);
    }
  }
  const processed = value.objects.length;
  const last = value.objects[processed - 1]?.key;
  const before = new Set(value.objects.map((o) => o.key));
  const added = current.objects.filter((o) => !before.has(o.key));
  const early = added.find((o) => last !== undefined && !(o.key > last));
  if (early) return full(`${escapeText(early.key)} is new and sorts before processed objects`);
  if (added.length === 0) return full("no new objects");
  return { incremental: true, processed, added };
}

/**
 * One line for `plan` and logs: `incremental: 2 new objects` or
 * `full: 2021/01/30/a.csv changed`.
 *
 * @example
 * ```ts
 * import { describeDayMode } from "./_incremental.ts";
 * describeDayMode({ incremental: false, reason: "no new objects" }); // "full: no new objects"
 * ```
 */
export function describeDayMode(mode: DayMode): string {
  if (!mode.incremental) return `full: ${mode.reason}`;
  const n = mode.added.length;
  return `incremental: ${n} new object${n === 1 ? "" : "s"} after ${mode.processed}`;
}

/** The small JSON part of a `deduped_impressions` value the base needs. */
interface BaseValue {
  rows: number;
  campaignIds: string[];
  dayObjects: ObjectRows[];
  invalid: InvalidRow[];
  stats: DayStats;
  keys: KeyState;
}

/** The segment file name (without extension) of segment `n`. */
export function keysName(n: number): string {
  return `dedupe/keys-${n}`;
}

/**
 * The files of the rows' hours, campaigns and kept flags written with
 * segment `n` (only the rows of its objects, unless it is 0: all rows).
 */
export function rowFiles(n: number): { hours: string; campaigns: string; kept: string } {
  return n === 0 ? { hours: "hours.bin", campaigns: "campaigns.bin", kept: "kept.bin" } : {
    hours: `rows/hours-${n}.bin`,
    campaigns: `rows/campaigns-${n}.bin`,
    kept: `rows/kept-${n}.bin`,
  };
}

/** The filter written with segment `n`. */
export function filterName(n: number): string {
  return `dedupe/filter-${n}.bin`;
}

/** The files of the key state `keys`: each segment's records and index, the last filter. */
export function keyStateFiles(keys: Pick<KeyState, "segments">): string[] {
  return [
    ...keys.segments.flatMap((n) => [`${keysName(n)}.bin`, `${keysName(n)}.index`]),
    filterName(Math.max(...keys.segments)),
  ];
}

/**
 * The day so far, from a previous entry that {@linkcode dayMode} found
 * incremental.
 *
 * @example
 * ```ts
 * import { dayBase } from "./_incremental.ts";
 * import type { EntryReader } from "../materializer/cache.ts";
 * declare const previous: EntryReader;
 * const base = await dayBase(previous);
 * ```
 */
export async function dayBase(previous: EntryReader): Promise<DayBase> {
  const v = previous.manifest.value as BaseValue;
  const segments = await Promise.all(v.keys.segments.map(async (n) => {
    const bytes = (await previous.readFile(`${keysName(n)}.index`)).slice();
    return { path: previous.path(`${keysName(n)}.bin`), index: new Float64Array(bytes.buffer) };
  }));
  return {
    rows: v.rows,
    campaignIds: v.campaignIds,
    objects: v.dayObjects,
    invalid: v.invalid,
    stats: v.stats,
    partitions: v.keys.partitions,
    files: {
      hours: v.keys.rows.map((n) => previous.path(rowFiles(n).hours)),
      campaigns: v.keys.rows.map((n) => previous.path(rowFiles(n).campaigns)),
      kept: v.keys.rows.map((n) => previous.path(rowFiles(n).kept)),
    },
    segments,
    filter: previous.path(filterName(Math.max(...v.keys.segments))),
  };
}
