/**
 * The header of a raw impressions file: columns are found by name, in any
 * order, after trimming spaces (a byte order mark is removed by the reader).
 *
 * @module
 */

import { escapeText } from "./escape_text.ts";

/** Columns every raw file must have. */
export const REQUIRED_COLUMNS = [
  "IMPRESSION_ID",
  "IMPRESSION_DATETIME",
  "CAMPAIGN_ID",
] as const;

/** Positions of the required columns in a file's header. */
export interface ImpressionColumns {
  /** Position of `IMPRESSION_ID`. */
  id: number;
  /** Position of `IMPRESSION_DATETIME`. */
  datetime: number;
  /** Position of `CAMPAIGN_ID`. */
  campaign: number;
  /** Every header name, trimmed, in file order. */
  names: string[];
}

/** A header that lacks a required column or names one twice. */
export class HeaderError extends Error {
  /** Key of the object whose header is wrong. */
  readonly key: string;
  /** Builds the error for object `key`. */
  constructor(key: string, reason: string) {
    super(`${escapeText(key)}: ${reason}`);
    this.name = "HeaderError";
    this.key = key;
  }
}

/**
 * Finds the required columns in a header, or throws {@linkcode HeaderError}
 * naming the object and the column.
 *
 * @example
 * ```ts
 * import { resolveColumns } from "./columns.ts";
 * const columns = resolveColumns("2021/01/30/a.csv", [
 *   " CAMPAIGN_ID",
 *   "IMPRESSION_ID ",
 *   "IMPRESSION_DATETIME",
 * ]);
 * // columns.id is 1, columns.datetime is 2, columns.campaign is 0
 * ```
 */
export function resolveColumns(
  key: string,
  header: readonly string[],
): ImpressionColumns {
  const names = header.map((name) => name.trim());
  const find = (column: string): number => {
    const at = names.indexOf(column);
    if (at < 0) {
      throw new HeaderError(
        key,
        `missing column ${column} (header: "${escapeText(names.join(","))}")`,
      );
    }
    if (names.indexOf(column, at + 1) >= 0) {
      throw new HeaderError(key, `column ${column} appears more than once`);
    }
    return at;
  };
  return {
    id: find("IMPRESSION_ID"),
    datetime: find("IMPRESSION_DATETIME"),
    campaign: find("CAMPAIGN_ID"),
    names,
  };
}
