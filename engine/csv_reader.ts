/**
 * A streaming RFC 4180 record scanner that works on bytes.
 *
 * It never builds a string per line: for each record it reports the byte
 * offsets of every field inside a buffer, and the caller decodes only the
 * fields it needs. Quoted fields may hold commas, doubled quotes and line
 * breaks; records end in LF or CRLF; completely empty lines are skipped; a
 * UTF-8 byte order mark at the start of the input is ignored. A quote inside
 * an unquoted field is kept as data (the ad server writes `55" TV`), but
 * anything other than a separator after a closing quote is an error.
 *
 * Once the caller limits the fields it reads ({@linkcode CsvScanner.limitFields},
 * up to 64), quote-free lines are indexed by a WebAssembly kernel
 * (`csv_kernel.ts`) 16 bytes at a time; lines holding a quote byte are still
 * parsed here, so the records are the same either way.
 *
 * @module
 */

import { CsvKernel, KERNEL_MAX_FIELDS, type KernelFields, KernelStop } from "./csv_kernel.ts";

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Flag set in {@linkcode CsvRecord.flags} for a field written in quotes. */
export const FIELD_QUOTED = 1;
/** Flag set in {@linkcode CsvRecord.flags} for a field holding `""` escapes. */
export const FIELD_ESCAPED = 2;

/**
 * One record, as offsets into {@linkcode CsvRecord.bytes}. The scanner reuses
 * the object for every record: read what you need inside the callback.
 */
export interface CsvRecord {
  /** The buffer holding the record; valid only during the callback. */
  bytes: Uint8Array;
  /** Offset of the record's first byte in `bytes`. */
  start: number;
  /** Number of fields in the record. */
  count: number;
  /** Offset of each field's content (after the opening quote if quoted). */
  starts: Int32Array;
  /** Exclusive end of each field's content (before the closing quote). */
  ends: Int32Array;
  /** {@linkcode FIELD_QUOTED} and {@linkcode FIELD_ESCAPED} per field. */
  flags: Uint8Array;
  /** Physical line (1-based) on which the record starts. */
  line: number;
}

/** A syntax error in the CSV input, with the physical line where it is. */
export class CsvSyntaxError extends Error {
  /** Physical line (1-based) of the error. */
  readonly line: number;
  /** Field number (1-based) in the record, when known. */
  readonly field: number;
  /** Builds the error; `reason` says what is wrong. */
  constructor(reason: string, line: number, field: number) {
    super(`${reason} (line ${line}, field ${field})`);
    this.name = "CsvSyntaxError";
    this.line = line;
    this.field = field;
  }
  /** What is wrong, without the location. */
  get reason(): string {
    return this.message.replace(/ \(line \d+, field \d+\)$/, "");
  }
}

/**
 * A quoted field still open at the end of the input (a file cut off
 * mid-field): every record before it was reported, and it runs from
 * {@linkcode CsvSyntaxError.line} to the end.
 */
export class UnterminatedQuoteError extends CsvSyntaxError {
  /** Builds the error for the quote opened on `line` in field `field`. */
  constructor(line: number, field: number) {
    super("unterminated quoted field", line, field);
    this.name = "UnterminatedQuoteError";
  }
}

/** Receives the scanner's input chunk by chunk. */
export interface CsvScanner {
  /** Feeds the next chunk of bytes; calls `onRecord` for each complete record. */
  push(chunk: Uint8Array): void;
  /**
   * Signals the end of input; reports the last record if it had no newline.
   * Throws {@linkcode UnterminatedQuoteError} if a quoted field is still open.
   */
  end(): void;
  /** Line breaks consumed so far (complete records and skipped empty lines). */
  readonly lines: number;
  /** Whether any field so far opened with a quote (it may span lines). */
  readonly sawQuotedField: boolean;
  /**
   * Records the offsets of the first `limit` fields only; later fields are
   * counted (`count` stays exact) but their offsets are not kept. With
   * `limit` up to 64 this turns on the WebAssembly fast path.
   */
  limitFields(limit: number): void;
  /**
   * With the fast path on (see {@linkcode CsvScanner.limitFields}), hands
   * each quote-free line whose required fields the kernel parsed whole (see
   * `CsvKernel.parse`) to `handler.onRows` instead of `onRecord`; every
   * other line still goes to `onRecord`. `null` turns this off.
   */
  fastRows(handler: FastRowHandler | null): void;
}

/** Receives the lines the kernel parsed whole; see {@linkcode CsvScanner.fastRows}. */
export interface FastRowHandler {
  /** The required fields and the field count a line must have. */
  fields: KernelFields;
  /**
   * Takes rows `from` on of the kernel's last parse, in line order among
   * all records, up to the first one the kernel did not parse whole (see
   * {@linkcode CsvKernel.parsed}) or `to`; returns the row it stopped at.
   * One call a run of rows, not one a row: most rows take this path.
   */
  onRows(kernel: CsvKernel, from: number, to: number): number;
}

/** Options for {@linkcode createCsvScanner}. */
export interface CsvScannerOptions {
  /** Called once per record, with a reused {@linkcode CsvRecord}. */
  onRecord: (record: CsvRecord) => void;
  /** Whether a byte order mark may open the input (default true). */
  bom?: boolean;
  /**
   * The kernel instance for the fast path, which the caller keeps (by
   * default one is acquired and released): chunks read into its read
   * regions (`CsvKernel.region`) are scanned without a copy.
   */
  kernel?: CsvKernel;
}

// `ignoreBOM`: only the byte order mark at the very start of the input is
// dropped (by the scanner); a U+FEFF that begins a later field is data.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Decodes one field of a record as UTF-8 text, undoing `""` escapes.
 *
 * @example
 * ```ts
 * import { createCsvScanner, fieldText } from "./csv_reader.ts";
 * const values: string[] = [];
 * const scanner = createCsvScanner({
 *   onRecord: (r) => values.push(fieldText(r, 1)),
 * });
 * scanner.push(new TextEncoder().encode('a,"say ""hi"""\n'));
 * scanner.end();
 * // values is ['say "hi"']
 * ```
 */
export function fieldText(record: CsvRecord, index: number): string {
  const text = decoder.decode(
    record.bytes.subarray(record.starts[index], record.ends[index]),
  );
  return record.flags[index] & FIELD_ESCAPED ? text.replaceAll('""', '"') : text;
}

/** Physical line (1-based) on which field `index` of `record` starts. */
export function fieldLine(record: CsvRecord, index: number): number {
  let line = record.line;
  const bytes = record.bytes;
  for (let i = record.start; i < record.starts[index]; i++) {
    if (bytes[i] === LF) line++;
  }
  return line;
}

/**
 * Creates a streaming scanner. Chunks may split records anywhere, including
 * inside a quoted field or between CR and LF.
 *
 * @example
 * ```ts
 * import { createCsvScanner, fieldText } from "./csv_reader.ts";
 * const rows: string[][] = [];
 * const scanner = createCsvScanner({
 *   onRecord(record) {
 *     const row = [];
 *     for (let i = 0; i < record.count; i++) row.push(fieldText(record, i));
 *     rows.push(row);
 *   },
 * });
 * scanner.push(new TextEncoder().encode('id,note\r\n1,"a, b"\n'));
 * scanner.end();
 * // rows is [["id", "note"], ["1", "a, b"]]
 * ```
 */
export function createCsvScanner(options: CsvScannerOptions): CsvScanner {
  const onRecord = options.onRecord;
  const record: CsvRecord = {
    bytes: new Uint8Array(0),
    start: 0,
    count: 0,
    starts: new Int32Array(32),
    ends: new Int32Array(32),
    flags: new Uint8Array(32),
    line: 1,
  };
  let pending: Uint8Array | null = null; // bytes of an incomplete record
  let pendingChunks: Uint8Array[] = [];
  let pendingLength = 0;
  let line = 1;
  let atStart = options.bom ?? true;
  let fieldLimit = Infinity;
  let sawQuotedField = false;
  // The fast path, once the caller limits the fields it reads.
  let kernel: CsvKernel | null = null;
  const ownKernel = options.kernel === undefined;
  // Lines left to parse here before the kernel is tried again, after it
  // stopped on a quote (so quote-heavy input is not handed back and forth).
  let kernelHold = 0;
  let fastHandler: FastRowHandler | null = null;
  /** Set when a scan stopped because the kernel was switched on. */
  let stoppedForKernel = false;

  function grow(): void {
    const size = record.starts.length * 2;
    const starts = new Int32Array(size);
    starts.set(record.starts);
    const ends = new Int32Array(size);
    ends.set(record.ends);
    const flags = new Uint8Array(size);
    flags.set(record.flags);
    record.starts = starts;
    record.ends = ends;
    record.flags = flags;
  }

  /**
   * Scans `bytes` from the start, reporting complete records; returns where
   * the first incomplete one starts (or `bytes.length`). With `final`, the
   * end of the buffer ends the last record. With `untilKernel`, it also stops
   * right after a record that switched the kernel on (the header, once the
   * caller says which fields it reads), setting `stoppedForKernel`, so that
   * the rest of the chunk goes through the kernel.
   */
  function scan(bytes: Uint8Array, final: boolean, fast = false, untilKernel = false): number {
    const n = bytes.length;
    let pos = 0;
    if (atStart) {
      if (n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        pos = 3;
      } else if (!final && n < 3 && bytes[0] === 0xef) return 0;
      atStart = false;
    }
    record.bytes = bytes;
    while (pos < n) {
      if (fast) {
        if (kernelHold === 0) {
          pos = kernelRecords(bytes, pos, n);
          if (pos >= n) break;
          if (kernel!.stop === KernelStop.QUOTE) kernelHold = KERNEL_HOLD_LINES;
        } else kernelHold--;
      }
      const recordStart = pos;
      let recordLines = 0;
      let count = 0;
      let complete = false;
      // One field per iteration.
      while (true) {
        if (count === record.starts.length) grow();
        if (pos < n && bytes[pos] === QUOTE) {
          let flag = FIELD_QUOTED;
          sawQuotedField = true;
          const fieldStart = ++pos;
          let closed = -1;
          while (pos < n) {
            const b = bytes[pos];
            if (b === QUOTE) {
              if (pos + 1 < n && bytes[pos + 1] === QUOTE) {
                flag = FIELD_QUOTED | FIELD_ESCAPED;
                pos += 2;
                continue;
              }
              if (pos + 1 === n && !final) break; // need the next byte
              closed = pos;
              pos++;
              break;
            }
            if (b === LF) recordLines++;
            pos++;
          }
          if (closed < 0) {
            if (!final) return recordStart;
            throw new UnterminatedQuoteError(
              line + recordLines - countLf(bytes, fieldStart, n),
              count + 1,
            );
          }
          record.starts[count] = fieldStart;
          record.ends[count] = closed;
          record.flags[count] = flag;
          count++;
          if (pos === n) {
            if (!final) return recordStart;
            complete = true;
            break;
          }
          const next = bytes[pos];
          if (next === COMMA) {
            pos++;
            continue;
          }
          if (next === LF) {
            pos++;
            complete = true;
            break;
          }
          if (next === CR) {
            if (pos + 1 === n && !final) return recordStart;
            if (pos + 1 === n || bytes[pos + 1] === LF) {
              pos += 2;
              complete = true;
              break;
            }
          }
          throw new CsvSyntaxError(
            `unexpected ${describeByte(next)} after a closing quote`,
            line + recordLines,
            count,
          );
        }
        if (count >= fieldLimit) {
          // Past the fields the caller reads: only count the rest of the
          // line's fields, until a line break or a field that opens a quote.
          let quoteNext = false;
          while (pos < n) {
            const b = bytes[pos];
            if (b === COMMA) {
              count++;
              pos++;
              if (pos < n && bytes[pos] === QUOTE) {
                quoteNext = true;
                break;
              }
              continue;
            }
            if (b === LF) break;
            pos++;
          }
          if (quoteNext) continue;
          if (pos === n && !final) return recordStart;
          count++;
          if (pos < n) pos++;
          complete = true;
          break;
        }
        const fieldStart = pos;
        while (pos < n) {
          const b = bytes[pos];
          if (b === COMMA || b === LF) break;
          pos++;
        }
        if (pos === n && !final) return recordStart;
        record.starts[count] = fieldStart;
        record.flags[count] = 0;
        if (pos < n && bytes[pos] === COMMA) {
          record.ends[count] = pos;
          count++;
          pos++;
          continue;
        }
        // End of line (LF) or of input: drop a CR before the LF.
        const end = pos > fieldStart && bytes[pos - 1] === CR ? pos - 1 : pos;
        record.ends[count] = end;
        count++;
        if (pos < n) pos++;
        complete = true;
        break;
      }
      if (complete) {
        const empty = count === 1 && record.flags[0] === 0 &&
          record.ends[0] === record.starts[0];
        if (!empty) {
          record.start = recordStart;
          record.count = count;
          record.line = line;
          onRecord(record);
        }
        line += recordLines + 1;
        if (untilKernel && kernel !== null) {
          stoppedForKernel = true;
          return pos;
        }
      }
    }
    return n;
  }

  /**
   * Reports the quote-free complete lines from `pos` on, as the kernel
   * indexed them in `bytes` (its loaded data); returns where it stopped.
   */
  function kernelRecords(bytes: Uint8Array, pos: number, n: number): number {
    const k = kernel!;
    const limit = fieldLimit;
    const { starts, ends, flags } = record;
    const fast = fastHandler;
    while (true) {
      const rows = k.scan(pos, n, limit);
      if (fast !== null) k.parse(rows, fast.fields);
      for (let row = 0; row < rows; row++) {
        if (fast !== null) {
          const next = fast.onRows(k, row, rows);
          line += next - row;
          row = next;
          if (row === rows) break;
        }
        const lineEnd = k.rowEnd(row);
        const count = k.rowFields(row);
        const kept = count < limit ? count : limit;
        let start = k.fieldStart(row, 0);
        for (let f = 0; f < kept; f++) {
          const next = k.fieldStart(row, f + 1);
          starts[f] = start;
          if (f + 1 < count) ends[f] = next - 1;
          else ends[f] = lineEnd > start && bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
          flags[f] = 0;
          start = next;
        }
        if (count !== 1 || ends[0] !== starts[0]) {
          record.start = starts[0];
          record.count = count;
          record.line = line;
          onRecord(record);
        }
        line++;
      }
      pos = k.next;
      if (k.stop !== KernelStop.FULL) return pos;
    }
  }

  function flushPending(final: boolean): void {
    if (pendingChunks.length === 0) return;
    const buffer = concat(pendingChunks, pendingLength);
    pendingChunks = [];
    pendingLength = 0;
    const rest = scan(buffer, final);
    if (rest < buffer.length) {
      pending = buffer.subarray(rest);
      pendingChunks = [pending];
      pendingLength = pending.length;
    } else pending = null;
  }

  function push(chunk: Uint8Array): void {
    if (kernel === null || chunk.length <= KERNEL_PIECE) return pushPiece(chunk);
    // The kernel works on a copy: keep that copy small.
    for (let at = 0; at < chunk.length; at += KERNEL_PIECE) {
      pushPiece(chunk.subarray(at, Math.min(at + KERNEL_PIECE, chunk.length)));
    }
  }

  function pushPiece(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (pending !== null && pendingChunks.length === 1) {
      // Usually the incomplete record ends at the chunk's first line break:
      // finish it from a small joined buffer, then scan the rest in place.
      const lf = chunk.indexOf(LF);
      if (lf >= 0) {
        const head = concat([pending, chunk.subarray(0, lf + 1)], pending.length + lf + 1);
        const rest = scan(head, false);
        if (rest === head.length) {
          pending = null;
          pendingChunks = [];
          pendingLength = 0;
          pushPiece(chunk.subarray(lf + 1));
          return;
        }
        // A quoted field goes on past that line break: keep collecting.
        pending = head.subarray(rest);
        pendingChunks = [pending];
        pendingLength = pending.length;
        chunk = chunk.subarray(lf + 1);
        if (chunk.length === 0) return;
      }
    }
    if (pending !== null) {
      // Rescan an incomplete record only once enough new bytes arrived,
      // so a very long record costs linear, not quadratic, time.
      pendingLength += chunk.length;
      if (pendingLength < pending.length * 2) {
        // Copy: the caller may reuse its chunk buffer before the rescan.
        pendingChunks.push(chunk.slice());
        return;
      }
      // No copy needed: flushPending concatenates into a new buffer.
      pendingChunks.push(chunk);
      flushPending(false);
      return;
    }
    if (kernel === null) {
      // The first chunk: once its header has switched the kernel on, the
      // rest of it goes through the kernel too (a file of one chunk would
      // otherwise never reach it).
      stoppedForKernel = false;
      const at = scan(chunk, false, false, true);
      if (stoppedForKernel) {
        stoppedForKernel = false;
        pushPiece(chunk.subarray(at));
        return;
      }
      keepRest(chunk, at);
      return;
    }
    keepRest(chunk, scan(kernel.load(chunk), false, true));
  }

  /** Keeps the incomplete record from `at` on, if any, for the next chunk. */
  function keepRest(chunk: Uint8Array, at: number): void {
    if (at >= chunk.length) return;
    // Copy: the caller may reuse its chunk buffer.
    pending = chunk.slice(at);
    pendingChunks = [pending];
    pendingLength = pending.length;
  }

  return {
    push,
    end(): void {
      try {
        flushPending(true);
      } finally {
        pending = null;
        if (kernel !== null && ownKernel) CsvKernel.release(kernel);
        kernel = null;
      }
    },
    get lines(): number {
      return line - 1;
    },
    get sawQuotedField(): boolean {
      return sawQuotedField;
    },
    limitFields(limit: number): void {
      fieldLimit = Math.max(1, limit);
      if (fieldLimit <= KERNEL_MAX_FIELDS) {
        while (record.starts.length <= fieldLimit) grow();
        kernel ??= options.kernel ?? CsvKernel.acquire();
      } else if (kernel !== null) {
        if (ownKernel) CsvKernel.release(kernel);
        kernel = null;
      }
    },
    fastRows(handler: FastRowHandler | null): void {
      fastHandler = handler;
    },
  };
}

/** Bytes handed to the kernel at a time. */
const KERNEL_PIECE = 1 << 20;
/** Lines parsed without the kernel after it stops on a quote. */
const KERNEL_HOLD_LINES = 64;

function countLf(bytes: Uint8Array, from: number, to: number): number {
  let lines = 0;
  for (let i = from; i < to; i++) if (bytes[i] === LF) lines++;
  return lines;
}

function describeByte(b: number): string {
  if (b >= 0x20 && b < 0x7f) return `character '${String.fromCharCode(b)}'`;
  return `byte 0x${b.toString(16).padStart(2, "0")}`;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
