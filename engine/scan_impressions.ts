/**
 * Scans one raw impressions file into compact per-row columns: a 128-bit key
 * hash, the UTC hour within the partition date, and a campaign index. Only
 * the three required columns are decoded; every other byte is skipped.
 *
 * @module
 */

import { parseCampaign } from "./campaign.ts";
import { resolveColumns } from "./columns.ts";
import {
  createCsvScanner,
  type CsvRecord,
  CsvSyntaxError,
  fieldLine,
  fieldText,
} from "./csv_reader.ts";
import { type Instant, parseDatetime, SECONDS_PER_DAY } from "./datetime.ts";
import { hashKey } from "./hash128.ts";

/** `hours` value of a row whose instant is on another UTC date. */
export const OTHER_DATE = -1;
/** `hours` value of a row that broke the contract (only with `onInvalid`). */
export const INVALID_ROW = -2;

/** A row that breaks the contract, located precisely. */
export interface InvalidRow {
  /** Object key. */
  key: string;
  /** Physical line in the file (the header is line 1). */
  line: number;
  /** Column name, or `*` for the whole record. */
  column: string;
  /** The offending value as written (trimmed). */
  value: string;
  /** What is wrong with it. */
  reason: string;
}

/** A row or file that breaks the input contract. */
export class ImpressionDataError extends Error {
  /** Where and what. */
  readonly detail: InvalidRow;
  /** Builds the error from the located problem. */
  constructor(detail: InvalidRow) {
    super(formatInvalidRow(detail));
    this.name = "ImpressionDataError";
    this.detail = detail;
  }
}

/** One line of text for an invalid row: object, line, column, value, reason. */
export function formatInvalidRow(row: InvalidRow): string {
  const where = row.column === "*" ? "" : `, column ${row.column}`;
  const value = row.value === "" ? "" : ` (value ${JSON.stringify(row.value)})`;
  return `${row.key} line ${row.line}${where}: ${row.reason}${value}`;
}

/** The columns scanned from one object. */
export interface ObjectScan {
  /** Object key. */
  key: string;
  /** Header names, trimmed (empty for a 0-byte file). */
  header: string[];
  /** Data rows scanned (empty lines are not rows). */
  rows: number;
  /** Four 32-bit hash lanes per row. */
  hashes: Uint32Array;
  /** UTC hour 0-23, {@linkcode OTHER_DATE} or {@linkcode INVALID_ROW}. */
  hours: Int8Array;
  /** Index into `campaignIds` per row. */
  campaigns: Uint32Array;
  /** Canonical campaign ids seen in this object (`""` is the empty one). */
  campaignIds: string[];
  /** Bytes read (after decompression). */
  bytes: number;
}

/** Options for {@linkcode scanImpressions}. */
export interface ScanOptions {
  /** Object key, for error messages. */
  key: string;
  /** The partition date as `YYYY-MM-DD`. */
  date: string;
  /**
   * Receives invalid rows instead of failing; such rows get
   * {@linkcode INVALID_ROW}. Without it, the first one throws
   * {@linkcode ImpressionDataError}.
   */
  onInvalid?: (row: InvalidRow) => void;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. */
export function epochDay(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000 / SECONDS_PER_DAY);
}

function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x09;
}

/**
 * Creates a scanner for one object: feed it decompressed chunks with `push`,
 * then call `finish` for the columns.
 *
 * @example
 * ```ts
 * import { createImpressionScan } from "./scan_impressions.ts";
 * const scan = createImpressionScan({ key: "2021/01/30/a.csv", date: "2021-01-30" });
 * scan.push(new TextEncoder().encode(
 *   "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\nx,2021-01-30 12:15:02,7\n",
 * ));
 * const result = scan.finish();
 * // result.rows is 1, result.hours[0] is 12, result.campaignIds is ["7"]
 * ```
 */
export function createImpressionScan(options: ScanOptions): {
  push(chunk: Uint8Array): void;
  finish(): ObjectScan;
} {
  const { key, onInvalid } = options;
  const dayStart = epochDay(options.date) * SECONDS_PER_DAY;
  let capacity = 1024;
  let hashes = new Uint32Array(capacity * 4);
  let hours = new Int8Array(capacity);
  let campaigns = new Uint32Array(capacity);
  const campaignIds: string[] = [];
  const byText = new Map<string, number>();
  const byNumber = new Map<number, number>();
  let header: string[] | null = null;
  let idColumn = 0, datetimeColumn = 0, campaignColumn = 0, fieldCount = 0;
  let rows = 0;
  let bytes = 0;
  const instant: Instant = { seconds: 0, nanos: 0 };

  function growRows(): void {
    capacity *= 2;
    const h = new Uint32Array(capacity * 4);
    h.set(hashes);
    hashes = h;
    const hr = new Int8Array(capacity);
    hr.set(hours);
    hours = hr;
    const c = new Uint32Array(capacity);
    c.set(campaigns);
    campaigns = c;
  }

  function campaignIndex(id: string): number {
    let index = byText.get(id);
    if (index === undefined) {
      index = campaignIds.length;
      campaignIds.push(id);
      byText.set(id, index);
    }
    return index;
  }

  function invalid(
    record: CsvRecord,
    column: number,
    reason: string,
    value: string,
  ): void {
    const detail: InvalidRow = {
      key,
      line: column < 0 ? record.line : fieldLine(record, column),
      column: column < 0 ? "*" : header![column],
      value,
      reason,
    };
    if (!onInvalid) throw new ImpressionDataError(detail);
    onInvalid(detail);
    hours[rows] = INVALID_ROW;
    hashes.fill(0, rows * 4, rows * 4 + 4);
    campaigns[rows] = 0;
    rows++;
  }

  function onRecord(record: CsvRecord): void {
    if (header === null) {
      const names: string[] = [];
      for (let i = 0; i < record.count; i++) names.push(fieldText(record, i));
      const columns = resolveColumns(key, names);
      header = columns.names;
      idColumn = columns.id;
      datetimeColumn = columns.datetime;
      campaignColumn = columns.campaign;
      fieldCount = names.length;
      return;
    }
    if (rows === capacity) growRows();
    if (record.count !== fieldCount) {
      return invalid(
        record,
        -1,
        `expected ${fieldCount} fields, found ${record.count}`,
        "",
      );
    }
    const buf = record.bytes;
    const starts = record.starts, ends = record.ends;
    // IMPRESSION_ID, trimmed.
    let is = starts[idColumn], ie = ends[idColumn];
    while (is < ie && isBlank(buf[is])) is++;
    while (ie > is && isBlank(buf[ie - 1])) ie--;
    if (is === ie) {
      return invalid(record, idColumn, "missing IMPRESSION_ID", "");
    }
    // IMPRESSION_DATETIME, trimmed.
    let ds = starts[datetimeColumn], de = ends[datetimeColumn];
    while (ds < de && isBlank(buf[ds])) ds++;
    while (de > ds && isBlank(buf[de - 1])) de--;
    const problem = parseDatetime(buf, ds, de, instant);
    if (problem !== null) {
      return invalid(
        record,
        datetimeColumn,
        problem,
        fieldText(record, datetimeColumn).trim(),
      );
    }
    // CAMPAIGN_ID, trimmed: plain integers without leading zeros take a
    // fast path that decodes no string.
    let cs = starts[campaignColumn], ce = ends[campaignColumn];
    while (cs < ce && isBlank(buf[cs])) cs++;
    while (ce > cs && isBlank(buf[ce - 1])) ce--;
    let campaign = -1;
    if (ce - cs > 0 && ce - cs <= 15 && (buf[cs] !== 0x30 || ce - cs === 1)) {
      let value = 0;
      for (let i = cs; i < ce; i++) {
        const d = buf[i] - 0x30;
        if (d < 0 || d > 9) {
          value = -1;
          break;
        }
        value = value * 10 + d;
      }
      if (value >= 0) {
        const known = byNumber.get(value);
        if (known !== undefined) campaign = known;
        else {
          campaign = campaignIndex(String(value));
          byNumber.set(value, campaign);
        }
      }
    }
    if (campaign < 0) {
      const text = fieldText(record, campaignColumn).trim();
      const parsed = parseCampaign(text);
      if ("error" in parsed) {
        return invalid(record, campaignColumn, parsed.error, text);
      }
      campaign = campaignIndex(parsed.id);
    }
    hashKey(buf, is, ie, instant.seconds, instant.nanos, hashes, rows * 4);
    const offset = instant.seconds - dayStart;
    hours[rows] = offset >= 0 && offset < SECONDS_PER_DAY ? Math.floor(offset / 3600) : OTHER_DATE;
    campaigns[rows] = campaign;
    rows++;
  }

  const scanner = createCsvScanner({ onRecord });
  function located(error: unknown): unknown {
    if (!(error instanceof CsvSyntaxError)) return error;
    const column = header?.[error.field - 1] ?? `field ${error.field}`;
    return new ImpressionDataError({
      key,
      line: error.line,
      column,
      value: "",
      reason: error.reason,
    });
  }
  return {
    push(chunk: Uint8Array): void {
      bytes += chunk.length;
      try {
        scanner.push(chunk);
      } catch (error) {
        throw located(error);
      }
    },
    finish(): ObjectScan {
      try {
        scanner.end();
      } catch (error) {
        throw located(error);
      }
      return {
        key,
        header: header ?? [],
        rows,
        hashes: hashes.subarray(0, rows * 4),
        hours: hours.subarray(0, rows),
        campaigns: campaigns.subarray(0, rows),
        campaignIds,
        bytes,
      };
    },
  };
}

/**
 * Scans a whole object from its (decompressed) chunks.
 *
 * @example
 * ```ts
 * import { scanImpressions } from "./scan_impressions.ts";
 * const text = "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\nx,2021-01-30 01:00:00,\n";
 * const scan = await scanImpressions([new TextEncoder().encode(text)], {
 *   key: "a.csv",
 *   date: "2021-01-30",
 * });
 * // scan.campaignIds is [""]
 * ```
 */
export async function scanImpressions(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ScanOptions,
): Promise<ObjectScan> {
  const scan = createImpressionScan(options);
  for await (const chunk of chunks) scan.push(chunk);
  return scan.finish();
}
