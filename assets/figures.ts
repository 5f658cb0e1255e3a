/**
 * The figures each asset of the pipeline records (`ctx.record`), typed, and
 * read back from manifests and run records in one place, so that the
 * report, insights and checks never guess metadata keys or repeat a formula.
 *
 * Recorded metadata comes from files another process or version wrote: each
 * reader checks every field and returns `undefined` for what is missing or
 * not a finite number.
 *
 * @module
 */

/** What `raw_partition` records. */
export interface RawFigures {
  /** Objects of the day. */
  objects?: number;
  /** Their bytes. */
  bytes?: number;
}

/** What `deduped_impressions` records. */
export interface DedupeFigures {
  /** Rows read from the day's files, invalid ones included. */
  rowsIn?: number;
  /** Rows kept after removing duplicates. */
  rowsOut?: number;
  /** Duplicate rows removed. */
  duplicates?: number;
  /** Kept rows whose instant is on another date. */
  lateRows?: number;
  /** Rows left out as invalid. */
  invalidRows?: number;
}

/** What `hourly_campaign_counts` records. */
export interface CountFigures {
  /** Impressions counted for the date. */
  impressions?: number;
  /** Distinct campaigns. */
  campaigns?: number;
  /** (campaign, hour) pairs with impressions. */
  groups?: number;
}

function pick<K extends string>(
  metadata: unknown,
  keys: readonly K[],
): { [P in K]?: number } {
  const out: { [P in K]?: number } = {};
  if (metadata === null || typeof metadata !== "object") return out;
  for (const key of keys) {
    const value = (metadata as Record<string, unknown>)[key];
    if (typeof value === "number" && Number.isFinite(value)) out[key] = value;
  }
  return out;
}

/**
 * `raw_partition`'s figures from recorded metadata.
 *
 * @example
 * ```ts
 * import { rawFigures } from "./figures.ts";
 * rawFigures({ objects: 4, bytes: "lots" }); // { objects: 4 }
 * ```
 */
export function rawFigures(metadata: unknown): RawFigures {
  return pick(metadata, ["objects", "bytes"]);
}

/**
 * `deduped_impressions`' figures from recorded metadata.
 *
 * @example
 * ```ts
 * import { dedupeFigures } from "./figures.ts";
 * dedupeFigures({ rowsIn: 10, duplicates: 2 }); // { rowsIn: 10, duplicates: 2 }
 * ```
 */
export function dedupeFigures(metadata: unknown): DedupeFigures {
  return pick(metadata, ["rowsIn", "rowsOut", "duplicates", "lateRows", "invalidRows"]);
}

/**
 * `hourly_campaign_counts`' figures from recorded metadata.
 *
 * @example
 * ```ts
 * import { countFigures } from "./figures.ts";
 * countFigures({ impressions: 7, groups: 3 }); // { impressions: 7, groups: 3 }
 * ```
 */
export function countFigures(metadata: unknown): CountFigures {
  return pick(metadata, ["impressions", "campaigns", "groups"]);
}

/**
 * The share of duplicates among valid rows: duplicates ÷ (rows read −
 * invalid rows), 0 for a day without valid rows; `undefined` when the
 * figures are missing. The `duplicate_share` check, the report and insights
 * all use this.
 *
 * @example
 * ```ts
 * import { duplicateShare } from "./figures.ts";
 * duplicateShare({ rowsIn: 110, invalidRows: 10, duplicates: 5 }); // 0.05
 * ```
 */
export function duplicateShare(figures: DedupeFigures): number | undefined {
  if (figures.rowsIn === undefined || figures.duplicates === undefined) return undefined;
  const valid = figures.rowsIn - (figures.invalidRows ?? 0);
  return valid === 0 ? 0 : figures.duplicates / valid;
}
