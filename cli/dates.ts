/**
 * Partition dates on the command line: `YYYY-MM-DD`, `today`, `yesterday`
 * (UTC), and inclusive ranges.
 *
 * @module
 */

import { DateRangeError, datesBetween, DAY_MS } from "../materializer/partitions.ts";
import { UsageError } from "./errors.ts";

/**
 * Parses one date; `now` fixes what `today` means (for tests).
 *
 * @example
 * ```ts
 * import { parseDate } from "./dates.ts";
 * parseDate("2021-01-30"); // "2021-01-30"
 * parseDate("yesterday", new Date("2021-01-31T05:00:00Z")); // "2021-01-30"
 * ```
 */
export function parseDate(text: string, now: Date = new Date()): string {
  if (text === "today") return new Date(now).toISOString().slice(0, 10);
  if (text === "yesterday") {
    return new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10);
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match) {
    const date = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
    if (date.toISOString().slice(0, 10) === text) return text;
  }
  throw new UsageError(
    `invalid date ${JSON.stringify(text)}: use YYYY-MM-DD (a real date), today or yesterday`,
  );
}

/** Every date from `from` to `to`, inclusive; a bad range is a usage error. */
export function dateRange(from: string, to: string): string[] {
  try {
    return datesBetween(from, to);
  } catch (error) {
    if (error instanceof DateRangeError) throw new UsageError(error.message);
    throw error;
  }
}
