/**
 * Every column of the rows deduplication kept: the day's raw objects are
 * read again, in the same order and with the same record scanner, so that
 * record `r` of object `i` is row `objects[i].offset + r` of the day, and
 * only rows whose `kept` flag is set reach the visitor.
 *
 * @module
 */

import {
  createCsvScanner,
  type CsvRecord,
  fieldText,
  UnterminatedQuoteError,
} from "./csv_reader.ts";
import type { ObjectRows } from "./impression_day.ts";
import { escapeText } from "./escape_text.ts";

/** Receives one kept row: the record (valid only during the call) and its row number. */
export type KeptRowVisitor = (record: CsvRecord, row: number) => void;

/** An object read again does not have the rows it had when deduplicated. */
export class KeptRowsMismatchError extends Error {
  /** Builds the error for object `key`. */
  constructor(key: string, expected: number, found: number) {
    super(`${escapeText(key)}: read ${found} rows again, deduplication saw ${expected}`);
    this.name = "KeptRowsMismatchError";
  }
}

/** What {@linkcode visitKeptRows} needs of the deduplicated day. */
export interface KeptRowsDay {
  /** Per row: 1 when kept. */
  kept: Uint8Array;
  /** Per row: UTC hour 0-23, -1 for another date, -2 for invalid. */
  hours: Int8Array;
  /** Row ranges of each object, in processing order. */
  objects: readonly ObjectRows[];
}

/** Options for {@linkcode visitKeptRows}. */
export interface KeptRowsOptions {
  /** Only rows of the partition date (hour 0-23), as the counts; default `true`. */
  inDateOnly?: boolean;
}

/**
 * Reads each object of `day` from `open(index)` and calls the visitor that
 * `onObject` returns for its header (names trimmed) with every kept row.
 *
 * @example
 * ```ts
 * import { visitKeptRows } from "./kept_rows.ts";
 * import { fieldText } from "./csv_reader.ts";
 * const text = "IMPRESSION_ID,DEVICE_TYPE\na,Mobile\nb,TV\n";
 * const devices: string[] = [];
 * await visitKeptRows(
 *   {
 *     hours: new Int8Array([1, 2]),
 *     kept: new Uint8Array([0, 1]),
 *     objects: [{ key: "a.csv", offset: 0, rows: 2 }],
 *   },
 *   () => [new TextEncoder().encode(text)],
 *   (header) => (record) => devices.push(fieldText(record, header.indexOf("DEVICE_TYPE"))),
 * );
 * // devices is ["TV"]
 * ```
 */
export async function visitKeptRows(
  day: KeptRowsDay,
  open: (index: number) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onObject: (header: string[], key: string, index: number) => KeptRowVisitor,
  options: KeptRowsOptions = {},
): Promise<void> {
  const inDateOnly = options.inDateOnly ?? true;
  const { kept, hours } = day;
  for (let index = 0; index < day.objects.length; index++) {
    const { key, offset, rows } = day.objects[index];
    let visit: KeptRowVisitor | null = null;
    let record = 0;
    const scanner = createCsvScanner({
      onRecord(r) {
        if (visit === null) {
          const header: string[] = [];
          for (let i = 0; i < r.count; i++) header.push(fieldText(r, i).trim());
          visit = onObject(header, key, index);
          return;
        }
        const row = offset + record++;
        if (record <= rows && kept[row] === 1 && (!inDateOnly || hours[row] >= 0)) visit(r, row);
      },
    });
    for await (const chunk of open(index)) scanner.push(chunk);
    try {
      scanner.end();
    } catch (error) {
      // A quote left open to the end is one (invalid, never kept) row, as
      // deduplication counted it.
      if (!(error instanceof UnterminatedQuoteError) || visit === null) throw error;
      record++;
    }
    if (visit === null) onObject([], key, index);
    if (record !== rows) throw new KeptRowsMismatchError(key, rows, record);
  }
}
