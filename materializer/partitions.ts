/**
 * Daily partitions: the dates of a range.
 *
 * @module
 */

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** The most dates one range may hold (ten years). */
export const MAX_RANGE_DAYS = 3660;

/** A range of dates that is malformed, reversed or too long. */
export class DateRangeError extends RangeError {
  /** Builds the error; the message says what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "DateRangeError";
  }
}

/**
 * Every date (`YYYY-MM-DD`) from `from` to `to`, inclusive.
 *
 * @example
 * ```ts
 * import { datesBetween } from "./partitions.ts";
 * datesBetween("2021-01-30", "2021-02-01"); // ["2021-01-30", "2021-01-31", "2021-02-01"]
 * ```
 */
export function datesBetween(from: string, to: string, maxDays = MAX_RANGE_DAYS): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to)) {
    throw new DateRangeError(`dates must be YYYY-MM-DD, not ${JSON.stringify(`${from}..${to}`)}`);
  }
  if (Number.isNaN(start) || Number.isNaN(end)) {
    throw new DateRangeError(`invalid date in ${from}..${to}`);
  }
  if (end < start) throw new DateRangeError(`--to ${to} is before --from ${from}`);
  const days = (end - start) / DAY_MS + 1;
  if (days > maxDays) {
    throw new DateRangeError(`the range ${from}..${to} has more than ${maxDays} days`);
  }
  return Array.from(
    { length: days },
    (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10),
  );
}
