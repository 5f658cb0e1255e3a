/**
 * The CSV scanner's fast path: a small WebAssembly module
 * (`csv_kernel.wat`) that finds line ends and field starts 16 bytes at a
 * time with SIMD compares, for lines without a quote byte. The scanner in
 * `csv_reader.ts` loads each chunk into the kernel's memory (in place when
 * the chunk was read into one of the instance's read regions, else as a
 * copy), lets it index the quote-free lines, and parses any line holding a
 * quote itself.
 *
 * @module
 */

import { CSV_KERNEL_WASM_BASE64 } from "./csv_kernel_wasm.ts";

/** Most leading fields whose starts the kernel reports per row. */
export const KERNEL_MAX_FIELDS = 64;

/** Why {@linkcode CsvKernel.scan} stopped. */
export const KernelStop = {
  /** No complete line left before the end. */
  END: 0,
  /** The next line holds a quote byte. */
  QUOTE: 1,
  /** The row buffer is full. */
  FULL: 2,
} as const;

/** Rows indexed per call. */
const ROWS_PER_CALL = 2048;
const PAGE = 65536;
/** The row buffer, at address 0. */
const ROW_BASE = 0;
/** Then the parsed rows, 64 bytes each. */
const PARSED_BASE = ROW_BASE + ROWS_PER_CALL * (KERNEL_MAX_FIELDS + 3) * 4;
/** Bytes of a parsed row. */
const PARSED_BYTES = 64;
/** Bytes of a read region (see {@linkcode CsvKernel.region}). */
export const REGION_BYTES = 1 << 20;
/** Read regions an instance has. */
export const REGIONS = 3;
/** Then the read regions (page aligned), each with room for the kernel's overread. */
const REGION_BASE = Math.ceil((PARSED_BASE + ROWS_PER_CALL * PARSED_BYTES) / PAGE) * PAGE;
const REGION_STRIDE = REGION_BYTES + PAGE;
/** Then the data copied in by {@linkcode CsvKernel.load} (page aligned). */
const DATA_BASE = REGION_BASE + REGIONS * REGION_STRIDE;

/** The required fields {@linkcode CsvKernel.parse} reads, and the field count a row must have. */
export interface KernelFields {
  /** Position of `IMPRESSION_ID`. */
  id: number;
  /** Position of `IMPRESSION_DATETIME`. */
  datetime: number;
  /** Position of `CAMPAIGN_ID`. */
  campaign: number;
  /** Fields a row must have. */
  count: number;
}
/** The kernel reads up to 31 bytes past the end of the data. */
const SLACK = 32;

interface KernelExports {
  memory: WebAssembly.Memory;
  next: WebAssembly.Global;
  stop: WebAssembly.Global;
  scan(pos: number, end: number, limit: number, out: number, maxRows: number): number;
  parse(
    rows: number,
    limit: number,
    out: number,
    id: number,
    datetime: number,
    campaign: number,
    fields: number,
    dst: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;

/** Instances given back on this thread (see `CsvKernel.acquire`). */
const spareKernels: CsvKernel[] = [];

function kernelModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const text = atob(CSV_KERNEL_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  compiled = new WebAssembly.Module(bytes);
  return compiled;
}

/**
 * One kernel instance with its own memory; positions are offsets into the
 * data last {@linkcode CsvKernel.load}ed.
 *
 * @example
 * ```ts
 * import { CsvKernel } from "./csv_kernel.ts";
 * const kernel = new CsvKernel();
 * const data = kernel.load(new TextEncoder().encode("a,b\nc,d\n"));
 * const rows = kernel.scan(0, data.length, 2);
 * // rows is 2; row 1 ends at kernel.rowEnd(1) === 7 with kernel.rowFields(1) === 2
 * // fields starting at kernel.fieldStart(1, 0) === 4 and kernel.fieldStart(1, 1) === 6
 * ```
 */
export class CsvKernel {
  #exports: KernelExports;
  #out: Int32Array;
  #data: Uint8Array;
  #parsed: Int32Array;
  #parsedFloats: Float64Array;
  #stride = 0;
  #limit = 0;
  /** Address of the data last loaded (a read region, or the data area). */
  #base = DATA_BASE;

  /**
   * An instance this thread's finished scanners gave back (see
   * {@linkcode CsvKernel.release}), or a fresh one: a new instance's memory
   * costs a page fault per 4 KiB as it fills, which on a day of many small
   * objects was much of each scan's setup.
   */
  static acquire(): CsvKernel {
    return spareKernels.pop() ?? new CsvKernel();
  }

  /** Gives back an instance no longer used, for {@linkcode CsvKernel.acquire} (two are kept). */
  static release(kernel: CsvKernel): void {
    if (spareKernels.length < 2 && !spareKernels.includes(kernel)) spareKernels.push(kernel);
  }

  /** A fresh instance. */
  constructor() {
    const instance = new WebAssembly.Instance(kernelModule(), {});
    this.#exports = instance.exports as unknown as KernelExports;
    this.#out = new Int32Array(0);
    this.#data = new Uint8Array(0);
    this.#parsed = new Int32Array(0);
    this.#parsedFloats = new Float64Array(0);
    this.#reserve(0);
  }

  /** Grows the memory to hold `bytes` of data. */
  #reserve(bytes: number): void {
    const memory = this.#exports.memory;
    const needed = DATA_BASE + bytes + SLACK;
    if (memory.buffer.byteLength < needed) {
      memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
    }
    if (this.#out.buffer !== memory.buffer) this.#views();
  }

  #views(): void {
    const buffer = this.#exports.memory.buffer;
    this.#out = new Int32Array(buffer, ROW_BASE, (PARSED_BASE - ROW_BASE) / 4);
    this.#data = new Uint8Array(buffer, DATA_BASE);
    this.#parsed = new Int32Array(buffer, PARSED_BASE, (ROWS_PER_CALL * PARSED_BYTES) / 4);
    this.#parsedFloats = new Float64Array(buffer, PARSED_BASE, (ROWS_PER_CALL * PARSED_BYTES) / 8);
  }

  /**
   * Read region `index` (below {@linkcode REGIONS}) of this instance's
   * memory, {@linkcode REGION_BYTES} long: bytes read into it are loaded
   * without a copy. The view is valid until the memory grows, which only a
   * {@linkcode CsvKernel.load} of more than the data area holds does.
   */
  region(index: number): Uint8Array {
    if (!(index >= 0 && index < REGIONS)) throw new RangeError(`no read region ${index}`);
    const buffer = this.#exports.memory.buffer;
    return new Uint8Array(buffer, REGION_BASE + index * REGION_STRIDE, REGION_BYTES);
  }

  /**
   * Makes `chunk` the data that positions refer to and returns it as the
   * kernel sees it: in place when it lies in one of the read regions, else
   * copied into the kernel's memory.
   */
  load(chunk: Uint8Array): Uint8Array {
    const at = chunk.byteOffset - REGION_BASE;
    if (
      chunk.buffer === this.#exports.memory.buffer && at >= 0 &&
      at < REGIONS * REGION_STRIDE && (at % REGION_STRIDE) + chunk.length <= REGION_BYTES
    ) {
      this.#base = chunk.byteOffset;
      return chunk;
    }
    this.#reserve(chunk.length);
    this.#data.set(chunk);
    this.#base = DATA_BASE;
    return this.#data.subarray(0, chunk.length);
  }

  /**
   * Indexes the quote-free complete lines in `[from, to)` of the loaded
   * data, at most {@linkcode ROWS_PER_CALL}, recording the starts of the
   * first `fields` fields (and of the one after); returns the rows indexed.
   */
  scan(from: number, to: number, fields: number): number {
    this.#stride = fields + 3;
    this.#limit = fields;
    const base = this.#base;
    return this.#exports.scan(base + from, base + to, fields, ROW_BASE, ROWS_PER_CALL);
  }

  /**
   * Reads the required fields of the `rows` rows the last scan indexed
   * (whose `fields` must include them): each row that takes the fast path
   * (see `csv_kernel.wat`: a lowercase UUID id, a plain datetime, a plain
   * campaign number, `count` fields) gets its packed id, instant, campaign
   * and key hash; {@linkcode CsvKernel.parsed} says which did.
   */
  parse(rows: number, fields: KernelFields): void {
    this.#exports.parse(
      rows,
      this.#limit,
      ROW_BASE,
      fields.id,
      fields.datetime,
      fields.campaign,
      fields.count,
      PARSED_BASE,
    );
  }

  /** Whether row `row` of the last {@linkcode CsvKernel.parse} took the fast path. */
  parsed(row: number): boolean {
    return this.#parsed[row * (PARSED_BYTES / 4)] === 1;
  }

  /**
   * The parsed rows as 32-bit words, 16 a row: [1..4] the key hash lanes,
   * [5..8] the packed id, [9] nanoseconds, then (as 64-bit floats, see
   * {@linkcode CsvKernel.parsedFloats}) seconds at float 5 and campaign at 6.
   */
  get parsedWords(): Int32Array {
    return this.#parsed;
  }

  /** The parsed rows as 64-bit floats, 8 a row: [5] seconds, [6] campaign. */
  get parsedFloats(): Float64Array {
    return this.#parsedFloats;
  }

  /** Where the last scan stopped: the first byte not indexed. */
  get next(): number {
    return (this.#exports.next.value as number) - this.#base;
  }

  /** Why the last scan stopped, a {@linkcode KernelStop} value. */
  get stop(): number {
    return this.#exports.stop.value as number;
  }

  /** Offset of row `row`'s line feed. */
  rowEnd(row: number): number {
    return this.#out[row * this.#stride] - this.#base;
  }

  /** Number of fields in row `row`. */
  rowFields(row: number): number {
    return this.#out[row * this.#stride + 1];
  }

  /** Offset of the first byte of field `field` (at most `fields`) in row `row`. */
  fieldStart(row: number, field: number): number {
    return this.#out[row * this.#stride + 2 + field] - this.#base;
  }
}
