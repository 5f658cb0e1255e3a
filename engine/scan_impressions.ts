/**
 * Scans one raw impressions file into compact per-row columns: the key (the
 * `IMPRESSION_ID` as a value: unquoted, `""` undone, trimmed) and its 128-bit
 * hash with the instant, the UTC hour within the partition date, and a
 * campaign index. Only the three required columns are decoded; every other
 * byte is skipped.
 *
 * @module
 */

import { parseCampaign } from "./campaign.ts";
import { resolveColumns } from "./columns.ts";
import {
  createCsvScanner,
  type CsvRecord,
  CsvSyntaxError,
  FIELD_ESCAPED,
  fieldLine,
  fieldText,
  UnterminatedQuoteError,
} from "./csv_reader.ts";
import { type Instant, parseDatetime, SECONDS_PER_DAY } from "./datetime.ts";
import { hashWords } from "./hash128.ts";
import { packUuid, UUID_BYTES, UUID_KEY } from "./id_key.ts";
import { escapeText } from "./escape_text.ts";
import type { CsvKernel } from "./csv_kernel.ts";

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

/**
 * One line of text for an invalid row: object, line, column, value, reason;
 * the key, column and value escaped with {@linkcode escapeText}.
 */
export function formatInvalidRow(row: InvalidRow): string {
  const where = row.column === "*" ? "" : `, column ${escapeText(row.column)}`;
  const value = row.value === "" ? "" : ` (value "${escapeText(row.value)}")`;
  return `${escapeText(row.key)} line ${row.line}${where}: ${escapeText(row.reason)}${value}`;
}

/** A run of consecutive rows' columns, handed out as the scan goes. */
export interface RowBlock {
  /** Row number (within this scan) of the block's first row. */
  firstRow: number;
  /** Rows in the block. */
  rows: number;
  /** Four 32-bit hash lanes per row. */
  hashes: Uint32Array;
  /** The instant's seconds since 1970-01-01 UTC per row. */
  seconds: Float64Array;
  /** The instant's nanoseconds per row. */
  nanos: Uint32Array;
  /** UTC hour 0-23, {@linkcode OTHER_DATE} or {@linkcode INVALID_ROW}. */
  hours: Int8Array;
  /** Index into the scan's `campaignIds` per row. */
  campaigns: Uint32Array;
  /** The rows' `IMPRESSION_ID` values as key words (see `id_key.ts`), each from a word boundary. */
  keys: Uint32Array;
  /** Word offset in `keys` where each row's id starts; `rows + 1` entries. */
  keyStarts: Uint32Array;
  /** Length word of each row's id (see `id_key.ts`; 0 for an invalid row). */
  keyLengths: Uint32Array;
}

/**
 * Takes each valid row's key record as the row is scanned (see
 * `key_record.ts`): the hash's first lane, row number within the scan, the
 * id's length word and words at `ids[at..]`, and the instant.
 */
export interface RecordSink {
  /** Takes one row's record. */
  append(
    h0: number,
    row: number,
    lengthWord: number,
    ids: Uint32Array,
    at: number,
    seconds: number,
    nanos: number,
  ): void;
}

/** Where a scan's rows go; see {@linkcode createImpressionScan}. */
export interface ScanOutput {
  /** Rows a block holds at most. */
  blockRows: number;
  /** Receives each block; its arrays are reused afterwards. */
  onBlock: (block: RowBlock) => void;
  /**
   * Takes each valid row's key record as it is scanned. A block's `hashes`,
   * `seconds`, `nanos`, `keys` and `keyLengths` are then not to be read: rows the WebAssembly
   * kernel parsed whole skip them.
   */
  records?: RecordSink;
}

/** What a whole scan saw. */
export interface ScanSummary {
  /** Object key. */
  key: string;
  /** Header names, trimmed (empty for a 0-byte file or a later range). */
  header: string[];
  /** Data rows scanned (empty lines are not rows). */
  rows: number;
  /** Line breaks consumed, header included. */
  lines: number;
  /** Canonical campaign ids seen (`""` is the empty one). */
  campaignIds: string[];
  /** Bytes read (after decompression). */
  bytes: number;
  /** Whether a field opened with a quote (so it may have held a line break). */
  sawQuotedField: boolean;
}

/** The columns scanned from one object, all in memory. */
export interface ObjectScan extends ScanSummary {
  /** Four 32-bit hash lanes per row. */
  hashes: Uint32Array;
  /** The instant's seconds since 1970-01-01 UTC per row. */
  seconds: Float64Array;
  /** The instant's nanoseconds per row. */
  nanos: Uint32Array;
  /** UTC hour 0-23, {@linkcode OTHER_DATE} or {@linkcode INVALID_ROW}. */
  hours: Int8Array;
  /** Index into `campaignIds` per row. */
  campaigns: Uint32Array;
  /** The rows' `IMPRESSION_ID` values, as in {@linkcode RowBlock.keys}. */
  keys: Uint32Array;
  /** Word offset in `keys` of each row's id; `rows + 1` entries. */
  keyStarts: Uint32Array;
  /** Length word of each row's id (see `id_key.ts`). */
  keyLengths: Uint32Array;
}

/** Column positions given to a scan that starts after the header. */
export interface KnownColumns {
  /** Position of `IMPRESSION_ID`. */
  id: number;
  /** Position of `IMPRESSION_DATETIME`. */
  datetime: number;
  /** Position of `CAMPAIGN_ID`. */
  campaign: number;
  /** Header names, trimmed. */
  names: string[];
}

/** Options for {@linkcode createImpressionScan} and {@linkcode scanImpressions}. */
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
  /**
   * For a byte range after the header: the columns, and no header or byte
   * order mark is expected.
   */
  columns?: KnownColumns;
  /** The CSV kernel instance to scan with, kept by the caller (see `CsvScannerOptions.kernel`). */
  kernel?: CsvKernel;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. */
export function epochDay(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000 / SECONDS_PER_DAY);
}

const QUOTE = 0x22;
/** Slots of a scan's cache of recent campaigns by number (a power of two). */
const RECENT_CAMPAIGNS = 1024;

function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x09;
}

/** The arrays a scan fills its blocks in, for blocks of `capacity` rows. */
type BlockArrays = Omit<RowBlock, "firstRow" | "rows"> & { capacity: number };

/**
 * Block arrays of this thread's finished scans (at most two kept): a
 * thread scans one object after another, and fresh arrays for each (some 6
 * MiB for 65,536 rows) cost a page fault per 4 KiB, which on a day of many
 * small objects was most of a scan's setup.
 */
const spareBlockArrays: BlockArrays[] = [];

/** Arrays for blocks of `capacity` rows, spare ones if this thread has them. */
function blockArrays(capacity: number): BlockArrays {
  const at = spareBlockArrays.findIndex((a) => a.capacity === capacity);
  if (at >= 0) return spareBlockArrays.splice(at, 1)[0];
  if (spareBlockArrays.length > 2) spareBlockArrays.length = 0;
  return {
    capacity,
    hashes: new Uint32Array(capacity * 4),
    seconds: new Float64Array(capacity),
    nanos: new Uint32Array(capacity),
    hours: new Int8Array(capacity),
    campaigns: new Uint32Array(capacity),
    keys: new Uint32Array(capacity * 12),
    keyStarts: new Uint32Array(capacity + 1),
    keyLengths: new Uint32Array(capacity),
  };
}

/** A scan fed chunk by chunk. */
export interface ImpressionScan {
  /** Rows scanned so far. */
  readonly rows: number;
  /** Feeds decompressed bytes; blocks may be handed out. */
  push(chunk: Uint8Array): void;
  /** Ends the input; hands out the last block. */
  finish(): ScanSummary;
}

/** A scan's campaigns: each id once, by index, found by its text or its number. */
class CampaignDictionary {
  /** Campaign ids by index. */
  readonly ids: string[] = [];
  readonly #byText = new Map<string, number>();
  readonly #byNumber = new Map<number, number>();

  /** The index of campaign `id` (canonical), added if new. */
  index(id: string): number {
    let index = this.#byText.get(id);
    if (index === undefined) {
      index = this.ids.length;
      this.ids.push(id);
      this.#byText.set(id, index);
    }
    return index;
  }

  /** The index of the campaign written as the plain number `value`, added if new. */
  indexOfNumber(value: number): number {
    let index = this.#byNumber.get(value);
    if (index === undefined) {
      index = this.index(String(value));
      this.#byNumber.set(value, index);
    }
    return index;
  }
}

/** A row's UTC hour on the day starting at `dayStart` (seconds), or {@linkcode OTHER_DATE}. */
function hourOf(seconds: number, dayStart: number): number {
  const offset = seconds - dayStart;
  return offset >= 0 && offset < SECONDS_PER_DAY ? Math.floor(offset / 3600) : OTHER_DATE;
}

/**
 * Takes a scan's rows that the WebAssembly kernel parsed whole (see
 * `csv_kernel.wat`: a lowercase UUID id, a plain datetime and campaign, the
 * right field count) into its block, doing for each what the scan's
 * `onRecord` does for such a row, hash included.
 *
 * It is a class, not one more closure of {@linkcode createImpressionScan}:
 * V8 optimizes a function object by object, so a closure made per scan
 * (per parse task) was compiled again for every task, and again each time
 * it left an inner loop it had been compiled in the middle of, some 0.4 s
 * of compiling on a 10M-row day. A method is one function object a thread.
 */
class FastRowWriter {
  /** After {@linkcode FastRowWriter.take}: the block's next row. */
  at = 0;
  readonly #arrays: BlockArrays;
  readonly #sink: RecordSink | null;
  readonly #dayStart: number;
  readonly #campaigns: CampaignDictionary;
  // The campaigns last seen by number, direct-mapped by their low bits: a
  // day has a few hundred campaigns, and a look here costs a quarter of a
  // Map's for a number that large (not a small integer).
  readonly #recentValues = new Float64Array(RECENT_CAMPAIGNS).fill(NaN);
  readonly #recentIndexes = new Int32Array(RECENT_CAMPAIGNS);

  constructor(
    arrays: BlockArrays,
    sink: RecordSink | null,
    dayStart: number,
    campaigns: CampaignDictionary,
  ) {
    this.#arrays = arrays;
    this.#sink = sink;
    this.#dayStart = dayStart;
    this.#campaigns = campaigns;
  }

  /**
   * Takes the kernel's parsed rows `row` to `last` (exclusive) into the
   * block from its row `at` and id word `word` on, up to the first row the
   * kernel did not parse whole; returns the row it stopped at, with the
   * block's next row in {@linkcode FastRowWriter.at}. `firstRow` is the
   * block's first row in the scan; without a sink, the block's `keys` must
   * have room for the rows' ids.
   */
  take(
    kernel: CsvKernel,
    row: number,
    last: number,
    at: number,
    word: number,
    firstRow: number,
  ): number {
    const words = kernel.parsedWords, floats = kernel.parsedFloats;
    const unsigned = new Uint32Array(words.buffer, words.byteOffset, words.length);
    const { hashes, seconds, nanos, hours, campaigns, keyStarts, keyLengths, keys: ids } =
      this.#arrays;
    const sink = this.#sink, dayStart = this.#dayStart;
    const recentValues = this.#recentValues, recentIndexes = this.#recentIndexes;
    for (; row < last; row++) {
      const w = row * 16;
      if (words[w] !== 1) break;
      const value = floats[row * 8 + 6];
      const slot = (value >>> 0) & (RECENT_CAMPAIGNS - 1);
      let campaign: number;
      if (recentValues[slot] === value) campaign = recentIndexes[slot];
      else {
        campaign = this.#campaigns.indexOfNumber(value);
        recentValues[slot] = value;
        recentIndexes[slot] = campaign;
      }
      const second = floats[row * 8 + 5];
      if (sink !== null) {
        // Straight from the kernel's words: hash lanes at 1, id at 5,
        // nanoseconds at 9.
        sink.append(
          unsigned[w + 1],
          firstRow + at,
          UUID_KEY,
          unsigned,
          w + 5,
          second,
          unsigned[w + 9],
        );
        keyStarts[at + 1] = word;
      } else {
        ids[word] = unsigned[w + 5];
        ids[word + 1] = unsigned[w + 6];
        ids[word + 2] = unsigned[w + 7];
        ids[word + 3] = unsigned[w + 8];
        word += UUID_BYTES / 4;
        keyLengths[at] = UUID_KEY;
        keyStarts[at + 1] = word;
        const h = at * 4;
        hashes[h] = unsigned[w + 1];
        hashes[h + 1] = unsigned[w + 2];
        hashes[h + 2] = unsigned[w + 3];
        hashes[h + 3] = unsigned[w + 4];
        seconds[at] = second;
        nanos[at] = unsigned[w + 9];
      }
      hours[at] = hourOf(second, dayStart);
      campaigns[at] = campaign;
      at++;
    }
    this.at = at;
    return row;
  }
}

/**
 * Creates a scanner for one object (or one byte range of it, starting at a
 * line): feed it chunks with `push`; every `blockRows` rows, and at
 * `finish`, it hands the rows' columns to `onBlock`. The block's arrays are
 * reused afterwards: copy what you keep.
 *
 * @example
 * ```ts
 * import { createImpressionScan } from "./scan_impressions.ts";
 * const hours: number[] = [];
 * const scan = createImpressionScan(
 *   { key: "2021/01/30/a.csv", date: "2021-01-30" },
 *   { blockRows: 1024, onBlock: (block) => hours.push(...block.hours) },
 * );
 * scan.push(new TextEncoder().encode(
 *   "IMPRESSION_ID,IMPRESSION_DATETIME,CAMPAIGN_ID\nx,2021-01-30 12:15:02,7\n",
 * ));
 * const summary = scan.finish();
 * // summary.rows is 1, hours is [12], summary.campaignIds is ["7"]
 * ```
 */
export function createImpressionScan(
  options: ScanOptions,
  output: ScanOutput,
): ImpressionScan {
  const { key, onInvalid } = options;
  const dayStart = epochDay(options.date) * SECONDS_PER_DAY;
  const capacity = Math.max(1, output.blockRows);
  const sink = output.records ?? null;
  const arrays = blockArrays(capacity);
  const { hashes, seconds, nanos, hours, campaigns, keyStarts, keyLengths } = arrays;
  // The block's ids, each from a word boundary and zero-padded to a whole
  // word, so that key records copy and compare them a word at a time.
  let keys = arrays.keys;
  let keyBytes = new Uint8Array(keys.buffer);
  const dictionary = new CampaignDictionary();
  const campaignIds = dictionary.ids;
  const fast = new FastRowWriter(arrays, sink, dayStart, dictionary);
  let header: string[] | null = options.columns ? options.columns.names : null;
  let idColumn = options.columns?.id ?? 0;
  let datetimeColumn = options.columns?.datetime ?? 0;
  let campaignColumn = options.columns?.campaign ?? 0;
  let fieldCount = options.columns?.names.length ?? 0;
  let rows = 0; // rows scanned in all
  let filled = 0; // rows in the current block
  let bytes = 0;
  const instant: Instant = { seconds: 0, nanos: 0 };

  function flush(): void {
    if (filled === 0) return;
    output.onBlock({
      firstRow: rows - filled,
      rows: filled,
      hashes: hashes.subarray(0, filled * 4),
      seconds: seconds.subarray(0, filled),
      nanos: nanos.subarray(0, filled),
      hours: hours.subarray(0, filled),
      campaigns: campaigns.subarray(0, filled),
      keys: keys.subarray(0, keyStarts[filled]),
      keyStarts: keyStarts.subarray(0, filled + 1),
      keyLengths: keyLengths.subarray(0, filled),
    });
    filled = 0;
  }

  /**
   * Writes the id in `buf[from:to]` (trimmed field content) into the block's
   * keys as its value: `""` becomes `"` in a field written with escapes; a
   * lowercase UUID is packed (see `id_key.ts`). Returns its length word.
   */
  function putKey(buf: Uint8Array, from: number, to: number, escaped: boolean): number {
    const word = keyStarts[filled];
    if (((word + 4) << 2) + (to - from) > keyBytes.length) growKeys(word, to - from);
    if (!escaped && packUuid(buf, from, to, keys, word)) {
      keyLengths[filled] = UUID_KEY;
      keyStarts[filled + 1] = word + UUID_BYTES / 4;
      return UUID_KEY;
    }
    const at = word << 2;
    let end = at;
    if (escaped) {
      for (let i = from; i < to; i++) {
        keyBytes[end++] = buf[i];
        if (buf[i] === QUOTE && i + 1 < to && buf[i + 1] === QUOTE) i++;
      }
    } else if (to - from <= 64) {
      for (let i = from; i < to; i++) keyBytes[end++] = buf[i];
    } else {
      keyBytes.set(buf.subarray(from, to), at);
      end += to - from;
    }
    const length = end - at;
    while ((end & 3) !== 0) keyBytes[end++] = 0;
    keyLengths[filled] = length;
    keyStarts[filled + 1] = end >> 2;
    return length;
  }

  /** Makes room in `keys` for `bytes` more after word `word`. */
  function growKeys(word: number, bytes: number): void {
    const grown = new Uint32Array(Math.max(keys.length * 2, word + (bytes >> 2) + 8));
    grown.set(keys.subarray(0, word));
    keys = arrays.keys = grown;
    keyBytes = new Uint8Array(grown.buffer);
  }

  /**
   * The rows from `from` on that the WebAssembly kernel parsed whole (see
   * `csv_kernel.wat`: a lowercase UUID id, a plain datetime and campaign,
   * the right field count), up to the first it did not, or `to`; returns
   * where it stopped. For each it does what `onRecord` does for such a
   * row, hash included.
   */
  function onFastRows(kernel: CsvKernel, from: number, to: number): number {
    let row = from;
    while (row < to) {
      // The rows that fit in the block.
      const last = Math.min(to, row + capacity - filled);
      const word = keyStarts[filled];
      if (sink === null && ((word + 4 * (last - row)) << 2) > keyBytes.length) {
        growKeys(word, UUID_BYTES * (last - row));
      }
      const stop = fast.take(kernel, row, last, filled, word, rows - filled);
      rows += fast.at - filled;
      filled = fast.at;
      if (filled === capacity) flush();
      if (stop < last) return stop; // a row the kernel left to JS
      row = stop;
    }
    return row;
  }

  /**
   * Ends the block's current row, whose key is in place: its instant, its
   * UTC hour (or {@linkcode OTHER_DATE}) and its campaign.
   */
  function endRow(instant: Instant, campaign: number): void {
    if (sink !== null) {
      sink.append(
        hashes[filled * 4],
        rows,
        keyLengths[filled],
        keys,
        keyStarts[filled],
        instant.seconds,
        instant.nanos,
      );
    }
    seconds[filled] = instant.seconds;
    nanos[filled] = instant.nanos;
    hours[filled] = hourOf(instant.seconds, dayStart);
    campaigns[filled] = campaign;
    rows++;
    if (++filled === capacity) flush();
  }

  function invalid(
    record: CsvRecord,
    column: number,
    reason: string,
    value: string,
  ): void {
    reject({
      key,
      line: column < 0 ? record.line : fieldLine(record, column),
      column: column < 0 ? "*" : header![column],
      value,
      reason,
    });
  }

  /** Leaves one row out as invalid (with `onInvalid`), else throws. */
  function reject(detail: InvalidRow): void {
    if (!onInvalid) throw new ImpressionDataError(detail);
    onInvalid(detail);
    hours[filled] = INVALID_ROW;
    hashes.fill(0, filled * 4, filled * 4 + 4);
    seconds[filled] = 0;
    nanos[filled] = 0;
    campaigns[filled] = 0;
    keyLengths[filled] = 0;
    keyStarts[filled + 1] = keyStarts[filled];
    rows++;
    if (++filled === capacity) flush();
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
      readOnlyRequiredFields();
      return;
    }
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
    if (ie - is >= UUID_KEY) {
      // Its length would read as a packed UUID's (see id_key.ts).
      return invalid(record, idColumn, "IMPRESSION_ID is 2 GiB or longer", "");
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
      if (value >= 0) campaign = dictionary.indexOfNumber(value);
    }
    if (campaign < 0) {
      const text = fieldText(record, campaignColumn).trim();
      const parsed = parseCampaign(text);
      if ("error" in parsed) {
        return invalid(record, campaignColumn, parsed.error, text);
      }
      campaign = dictionary.index(parsed.id);
    }
    // The key is the id's value: its bytes after unquoting and trimming.
    const keyAt = keyStarts[filled];
    const lengthWord = putKey(buf, is, ie, (record.flags[idColumn] & FIELD_ESCAPED) !== 0);
    const keyLength = lengthWord === UUID_KEY ? UUID_BYTES : lengthWord;
    hashWords(keys, keyAt, keyLength, instant.seconds, instant.nanos, hashes, filled * 4);
    endRow(instant, campaign);
  }

  const scanner = createCsvScanner({
    onRecord,
    bom: options.columns === undefined,
    kernel: options.kernel,
  });
  /** Past the last required column, the scanner only counts fields. */
  function readOnlyRequiredFields(): void {
    scanner.limitFields(Math.max(idColumn, datetimeColumn, campaignColumn) + 1);
    scanner.fastRows({
      fields: {
        id: idColumn,
        datetime: datetimeColumn,
        campaign: campaignColumn,
        count: fieldCount,
      },
      onRows: onFastRows,
    });
  }
  if (options.columns) readOnlyRequiredFields();
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
    get rows(): number {
      return rows;
    },
    push(chunk: Uint8Array): void {
      bytes += chunk.length;
      try {
        scanner.push(chunk);
      } catch (error) {
        throw located(error);
      }
    },
    finish(): ScanSummary {
      try {
        scanner.end();
      } catch (error) {
        // A file cut off inside a quoted field: the rest of it is one invalid
        // row, from the quote's line on (the rows before it still count).
        if (!(error instanceof UnterminatedQuoteError && onInvalid && header !== null)) {
          throw located(error);
        }
        const detail = (located(error) as ImpressionDataError).detail;
        reject({ ...detail, reason: `${detail.reason} (runs to the end of the object)` });
      }
      flush();
      // The blocks are handed out: the next scan of this thread may reuse them.
      spareBlockArrays.push(arrays);
      return {
        key,
        header: options.columns ? [] : header ?? [],
        rows,
        lines: scanner.lines,
        campaignIds,
        bytes,
        sawQuotedField: scanner.sawQuotedField,
      };
    },
  };
}

/**
 * Scans a whole object from its (decompressed) chunks, keeping every row's
 * columns in memory: the simple path, for small inputs and tests.
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
  const blocks: RowBlock[] = [];
  const scan = createImpressionScan(options, {
    blockRows: 1 << 16,
    onBlock: (b) =>
      blocks.push({
        ...b,
        hashes: b.hashes.slice(),
        seconds: b.seconds.slice(),
        nanos: b.nanos.slice(),
        hours: b.hours.slice(),
        campaigns: b.campaigns.slice(),
        keys: b.keys.slice(),
        keyStarts: b.keyStarts.slice(),
        keyLengths: b.keyLengths.slice(),
      }),
  });
  for await (const chunk of chunks) scan.push(chunk);
  const summary = scan.finish();
  const hashes = new Uint32Array(summary.rows * 4);
  const seconds = new Float64Array(summary.rows);
  const nanos = new Uint32Array(summary.rows);
  const hours = new Int8Array(summary.rows);
  const campaigns = new Uint32Array(summary.rows);
  const keys = new Uint32Array(blocks.reduce((n, b) => n + b.keys.length, 0));
  const keyStarts = new Uint32Array(summary.rows + 1);
  const keyLengths = new Uint32Array(summary.rows);
  let keyWords = 0;
  for (const block of blocks) {
    hashes.set(block.hashes, block.firstRow * 4);
    seconds.set(block.seconds, block.firstRow);
    nanos.set(block.nanos, block.firstRow);
    hours.set(block.hours, block.firstRow);
    campaigns.set(block.campaigns, block.firstRow);
    keys.set(block.keys, keyWords);
    for (let r = 0; r <= block.rows; r++) {
      keyStarts[block.firstRow + r] = keyWords + block.keyStarts[r];
    }
    keyLengths.set(block.keyLengths, block.firstRow);
    keyWords += block.keys.length;
  }
  return { ...summary, hashes, seconds, nanos, hours, campaigns, keys, keyStarts, keyLengths };
}
