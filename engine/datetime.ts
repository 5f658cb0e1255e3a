/**
 * Parses `IMPRESSION_DATETIME` values from bytes into an exact instant.
 *
 * Accepted: `YYYY-MM-DD HH:MM:SS`, with `T` instead of the space, an optional
 * fraction of 1 to 9 digits, and an optional `Z` or `±HH:MM` offset (none
 * means UTC). Out-of-range parts (hour 25, minute 60, 2021-02-30) are
 * rejected, never rolled over.
 *
 * @module
 */

/** An instant: whole seconds since 1970-01-01T00:00:00Z plus nanoseconds. */
export interface Instant {
  /** Seconds since the Unix epoch (may be negative). */
  seconds: number;
  /** Nanoseconds within the second, 0 to 999,999,999. */
  nanos: number;
}

/** Seconds in a day. */
export const SECONDS_PER_DAY = 86_400;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const SCALE = [
  1,
  100_000_000,
  10_000_000,
  1_000_000,
  100_000,
  10_000,
  1_000,
  100,
  10,
  1,
];

/** Days from 1970-01-01 to the given proleptic Gregorian date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Number of days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
}

let lastYear = -1, lastMonth = -1, lastDay = -1, lastDays = 0;

/** Two ASCII digits as a number, or -1. */
function two(bytes: Uint8Array, at: number): number {
  const hi = bytes[at] - 0x30, lo = bytes[at + 1] - 0x30;
  return (hi >>> 0) > 9 || (lo >>> 0) > 9 ? -1 : hi * 10 + lo;
}

function digits(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Parses a datetime from `bytes[start:end]` (already trimmed) into `out`.
 * Returns `null` on success or the reason it is invalid.
 *
 * @example
 * ```ts
 * import { parseDatetime, type Instant } from "./datetime.ts";
 * const out: Instant = { seconds: 0, nanos: 0 };
 * const text = new TextEncoder().encode("2021-01-30 12:15:02.000");
 * parseDatetime(text, 0, text.length, out); // null: valid
 * // out.seconds is 1612008902, out.nanos is 0
 * ```
 */
export function parseDatetime(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Instant,
): string | null {
  const length = end - start;
  if (length < 19) return "not a datetime like 2021-01-30 12:15:02";
  const b = start;
  if (
    bytes[b + 4] !== 0x2d || bytes[b + 7] !== 0x2d ||
    (bytes[b + 10] !== 0x20 && bytes[b + 10] !== 0x54) ||
    bytes[b + 13] !== 0x3a || bytes[b + 16] !== 0x3a
  ) return "not a datetime like 2021-01-30 12:15:02";
  const year = digits(bytes, b, 4);
  const month = two(bytes, b + 5);
  const day = two(bytes, b + 8);
  const hour = two(bytes, b + 11);
  const minute = two(bytes, b + 14);
  const second = two(bytes, b + 17);
  if ((year | month | day | hour | minute | second) < 0) {
    return "not a datetime like 2021-01-30 12:15:02";
  }
  if (month < 1 || month > 12) return `month ${month} is out of range`;
  if (day < 1 || day > daysInMonth(year, month)) {
    return `day ${day} is out of range for ${year}-${pad2(month)}`;
  }
  if (hour > 23) return `hour ${hour} is out of range`;
  if (minute > 59) return `minute ${minute} is out of range`;
  if (second > 59) return `second ${second} is out of range`;
  let pos = b + 19;
  let nanos = 0;
  if (pos < end && bytes[pos] === 0x2e) {
    pos++;
    const fractionStart = pos;
    while (pos < end && bytes[pos] >= 0x30 && bytes[pos] <= 0x39) pos++;
    const count = pos - fractionStart;
    if (count < 1 || count > 9) return "the fraction must have 1 to 9 digits";
    nanos = digits(bytes, fractionStart, count) * SCALE[count];
  }
  let offset = 0;
  if (pos < end) {
    const sign = bytes[pos];
    if (sign === 0x5a && pos + 1 === end) {
      pos++;
    } else if ((sign === 0x2b || sign === 0x2d) && end - pos === 6) {
      const oh = digits(bytes, pos + 1, 2);
      const om = digits(bytes, pos + 4, 2);
      if (oh < 0 || om < 0 || bytes[pos + 3] !== 0x3a || oh > 23 || om > 59) {
        return "the offset must look like +HH:MM";
      }
      offset = (oh * 3600 + om * 60) * (sign === 0x2b ? 1 : -1);
      pos = end;
    } else return "unexpected text after the time";
  }
  // Rows of a day share their date: remember the last one converted.
  if (year !== lastYear || month !== lastMonth || day !== lastDay) {
    lastYear = year;
    lastMonth = month;
    lastDay = day;
    lastDays = daysFromCivil(year, month, day);
  }
  out.seconds = lastDays * SECONDS_PER_DAY +
    hour * 3600 + minute * 60 + second - offset;
  out.nanos = nanos;
  return null;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}
