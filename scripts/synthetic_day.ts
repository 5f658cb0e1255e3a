/**
 * Seeded generator of one day of raw ad-impression CSV files, laid out like
 * the export bucket: `<root>/YYYY/MM/DD/part-0000.csv`, `part-0001.csv`, ...
 *
 * The output is deterministic for a given set of options. Lines are encoded
 * by hand into one large byte buffer per block of rows, so the generator
 * runs at well over 100 MB/s and holds only a few MiB in memory whatever
 * the number of rows.
 *
 * Run as a script:
 *
 * ```sh
 * deno run -A scripts/synthetic_day.ts --root /tmp/bucket --date 2021-01-30 --rows 1000000 [--files 4] [--seed 1] [--iso-times] [--duplicate-share 0.05]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The 19 columns of the ad-server export, in export order. */
export const RAW_COLUMNS = [
  "AGENCY_ID",
  "ADVERTISER_ID",
  "ORDER_ID",
  "CAMPAIGN_ID",
  "IMPRESSION_ID",
  "IMPRESSION_DATE",
  "IMPRESSION_DATETIME",
  "AD_ID",
  "CREATIVE_ID",
  "CREATIVE_TYPE",
  "CREATIVE_SIZE",
  "SITE_ID",
  "PLACEMENT_ID",
  "DEVICE_TYPE",
  "OS_NAME",
  "BROWSER_NAME",
  "COUNTRY_CODE",
  "REGION_CODE",
  "IMPRESSION",
] as const;

/** Options for {@linkcode writeSyntheticDay}. */
export interface SyntheticDayOptions {
  /** Folder playing the bucket; files go to `<root>/YYYY/MM/DD/`. */
  root: string;
  /** The day, as `YYYY-MM-DD`. */
  date: string;
  /** Number of data rows to write (header rows not counted). */
  rows: number;
  /** Number of `part-NNNN.csv` files. Defaults to 4. */
  files?: number;
  /** Share of rows that re-emit an earlier row. Defaults to 0.05. */
  duplicateShare?: number;
  /** Seed of the generator. Defaults to 1. */
  seed?: number;
  /**
   * Write IMPRESSION_DATETIME as `2021-01-30T12:15:02.123Z` (random
   * milliseconds) instead of `2021-01-30 12:15:02.000`. Defaults to false.
   */
  isoTimes?: boolean;
}

/** What {@linkcode writeSyntheticDay} wrote. */
export interface SyntheticDayResult {
  /** Paths of the written files, in part order. */
  files: string[];
  /** Number of data rows written, duplicates included. */
  rows: number;
  /** Number of bytes written, headers included. */
  bytes: number;
  /** How many of the rows are re-emissions of an earlier row. */
  duplicates: number;
  /** How many original rows have a datetime on the previous day. */
  lateRows: number;
}

/** Rows generated in one go and written to one file. */
const BLOCK_ROWS = 4096;
/** Upper bound of one line's length in bytes (checked at start-up). */
const MAX_LINE = 256;
/** Number of earlier lines kept to re-emit as duplicates. */
const RESERVOIR_SLOTS = 8192;
/** One original row in this many is copied into the reservoir. */
const RESERVOIR_EVERY = 4;
/** Share of original rows stamped 23:5x on the previous day. */
const LATE_SHARE = 0.001;
/** Relative traffic per UTC hour (US evening peak around 01:00-03:00 UTC). */
const HOUR_WEIGHTS = [
  9.0,
  9.5,
  9.0,
  8.0,
  6.5,
  5.0,
  3.8,
  3.0,
  2.6,
  2.5,
  2.8,
  3.4,
  4.2,
  5.0,
  5.6,
  6.0,
  6.3,
  6.6,
  6.9,
  7.2,
  7.6,
  8.0,
  8.4,
  8.8,
];

/**
 * A xorshift128 pseudo-random generator: 32-bit unsigned outputs, period
 * 2^128 - 1. The four state words live in a typed array, which keeps the
 * hot path free of heap numbers.
 */
class Xorshift128 {
  readonly state = new Uint32Array(4);

  constructor(seed: number) {
    let s = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      // A splitmix-style hash, so that nearby seeds give unrelated states.
      s = (s + 0x9e3779b9) >>> 0;
      let t = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.state[i] = t ^ (t >>> 16);
    }
    this.state[3] |= 1;
  }

  /** Next unsigned 32-bit integer. */
  next(): number {
    const state = this.state;
    const x = state[0];
    const t = x ^ (x << 11);
    const w = state[3];
    state[0] = state[1];
    state[1] = state[2];
    state[2] = w;
    return (state[3] = w ^ (w >>> 19) ^ t ^ (t >>> 8)) >>> 0;
  }

  /** Uniform integer in `[0, n)` for `n` up to 2^16 or so. */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
}

/**
 * Byte strings stored back to back in one array, addressed by index; the
 * hot loop copies them into the output with a plain byte loop.
 */
class BytePool {
  bytes = new Uint8Array(1 << 16);
  offsets: number[] = [];
  lengths: number[] = [];
  #used = 0;

  add(text: string): number {
    const encoded = new TextEncoder().encode(text);
    while (this.#used + encoded.length > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(encoded, this.#used);
    this.offsets.push(this.#used);
    this.lengths.push(encoded.length);
    this.#used += encoded.length;
    return this.offsets.length - 1;
  }
}

/** A 65536-entry table mapping 16 random bits to an index by weight. */
function weightedTable(weights: readonly number[]): Uint16Array {
  const table = new Uint16Array(65536);
  const total = weights.reduce((sum, w) => sum + w, 0);
  let cumulative = 0;
  let start = 0;
  for (let i = 0; i < weights.length; i++) {
    cumulative += weights[i];
    const end = i === weights.length - 1 ? 65536 : Math.round((cumulative / total) * 65536);
    table.fill(i, start, end);
    start = Math.max(start, end);
  }
  return table;
}

/** Fixed dimension values: campaigns, creatives, sites, devices, geos. */
interface Dimensions {
  pool: BytePool;
  /** Pool index of `AGENCY,ADVERTISER,ORDER,CAMPAIGN,` by campaign. */
  campaignPrefix: Int32Array;
  /** 16 random bits to campaign (Zipf-like skew). */
  campaignTable: Uint16Array;
  /** Pool index of `AD,CREATIVE,TYPE,SIZE,`: campaign * 4 + creative. */
  creative: Int32Array;
  /** Pool index of `SITE,PLACEMENT,`. */
  sitePlacement: Int32Array;
  sitePlacementTable: Uint16Array;
  /** Pool index of `DEVICE,OS,BROWSER,`. */
  deviceTable: Uint16Array;
  device: Int32Array;
  /** Pool index of `COUNTRY,REGION,1\n`. */
  geoTable: Uint16Array;
  geo: Int32Array;
}

const CREATIVES_PER_CAMPAIGN = 4;

function buildDimensions(rng: Xorshift128): Dimensions {
  const pool = new BytePool();

  const campaignCount = 300 + rng.below(101);
  const campaignPrefix = new Int32Array(campaignCount);
  const campaignWeights: number[] = [];
  const creative = new Int32Array(campaignCount * CREATIVES_PER_CAMPAIGN);
  const creativeTypes = [
    ["Display", ["300x250", "728x90", "160x600", "320x50", "300x600"]],
    ["Video", ["1920x1080", "1280x720", "640x360"]],
    ["Native", ["1200x627", "600x600"]],
    ["Rich Media", ["970x250", "300x250"]],
  ] as const;
  const usedCampaignIds = new Set<number>();
  for (let c = 0; c < campaignCount; c++) {
    const agency = 100 + rng.below(40);
    const advertiser = 10000 + agency * 37 + rng.below(30);
    const order = 500000 + rng.below(400000);
    let campaignId: number;
    do {
      campaignId = 1000 + rng.below(98000);
    } while (usedCampaignIds.has(campaignId));
    usedCampaignIds.add(campaignId);
    campaignPrefix[c] = pool.add(
      `${agency},${advertiser},${order},${campaignId},`,
    );
    // Zipf-like: a few campaigns get most of the traffic.
    campaignWeights.push(1 / Math.pow(c + 1, 1.1));
    for (let k = 0; k < CREATIVES_PER_CAMPAIGN; k++) {
      const [type, sizes] = creativeTypes[rng.below(creativeTypes.length)];
      const size = sizes[rng.below(sizes.length)];
      const ad = 7000000 + c * 16 + k;
      const creativeId = 30000000 + rng.below(9000000);
      creative[c * CREATIVES_PER_CAMPAIGN + k] = pool.add(
        `${ad},${creativeId},${type},${size},`,
      );
    }
  }

  const siteCount = 600;
  const sitePlacementIds: number[] = [];
  const siteWeights: number[] = [];
  for (let s = 0; s < siteCount; s++) {
    const site = 200000 + s * 13 + rng.below(13);
    for (let p = 0; p < 3; p++) {
      const placement = site * 10 + p;
      sitePlacementIds.push(pool.add(`${site},${placement},`));
      siteWeights.push(1 / Math.pow(s + 1, 0.8) / (p + 1));
    }
  }

  const devices: [string, string, string, number][] = [
    ["Desktop", "Windows", "Chrome", 18],
    ["Desktop", "Windows", "Edge", 6],
    ["Desktop", "Windows", "Firefox", 2],
    ["Desktop", "macOS", "Safari", 5],
    ["Desktop", "macOS", "Chrome", 5],
    ["Desktop", "Linux", "Chrome", 1],
    ["Desktop", "Chrome OS", "Chrome", 1],
    ["Mobile", "iOS", "Safari", 20],
    ["Mobile", "iOS", "Chrome", 3],
    ["Mobile", "Android", "Chrome", 17],
    ["Mobile", "Android", "Samsung Internet", 4],
    ["Mobile", "Android", "Facebook App", 2],
    ["Tablet", "iPadOS", "Safari", 4],
    ["Tablet", "Android", "Chrome", 2],
    ["CTV", "Roku OS", "Unknown", 4],
    ["CTV", "tvOS", "Unknown", 2],
    ["CTV", "Fire OS", "Unknown", 2],
    ["CTV", "Tizen", "Unknown", 2],
  ];
  const device = Int32Array.from(
    devices.map(([type, os, browser]) => pool.add(`${type},${os},${browser},`)),
  );

  const geos: [string, string, number][] = [
    ["US", "CA", 12],
    ["US", "TX", 9],
    ["US", "FL", 7],
    ["US", "NY", 7],
    ["US", "PA", 4],
    ["US", "IL", 4],
    ["US", "OH", 4],
    ["US", "GA", 3],
    ["US", "NC", 3],
    ["US", "MI", 3],
    ["US", "WA", 3],
    ["US", "AZ", 2],
    ["CA", "ON", 4],
    ["CA", "QC", 2],
    ["CA", "BC", 2],
    ["GB", "ENG", 4],
    ["GB", "SCT", 1],
    ["DE", "BY", 2],
    ["DE", "NW", 2],
    ["FR", "IDF", 2],
    ["AU", "NSW", 1],
    ["MX", "CMX", 1],
    ["BR", "SP", 1],
  ];
  const geo = Int32Array.from(
    geos.map(([country, region]) => pool.add(`${country},${region},1\n`)),
  );

  return {
    pool,
    campaignPrefix,
    campaignTable: weightedTable(campaignWeights),
    creative,
    sitePlacement: Int32Array.from(sitePlacementIds),
    sitePlacementTable: weightedTable(siteWeights),
    deviceTable: weightedTable(devices.map((d) => d[3])),
    device,
    geoTable: weightedTable(geos.map((g) => g[2])),
    geo,
  };
}

/** Parses `YYYY-MM-DD` strictly into its UTC midnight, or throws. */
function parseDay(date: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const day = match ? new Date(Date.UTC(+match[1], +match[2] - 1, +match[3])) : undefined;
  if (!day || day.toISOString().slice(0, 10) !== date) {
    throw new RangeError(`Invalid date "${date}": expected YYYY-MM-DD`);
  }
  return day;
}

/** Encodes ASCII text, one byte per character. */
function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Writes all of `bytes` to `file`. */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(bytes.subarray(written));
  }
}

/** Splits `rows` over `files` parts; the first parts get one more if needed. */
function rowsPerFile(rows: number, files: number): number[] {
  const base = Math.floor(rows / files);
  return Array.from(
    { length: files },
    (_, i) => base + (i < rows % files ? 1 : 0),
  );
}

/** Fills byte buffers with CSV lines, keeping what it needs for duplicates. */
interface LineSource {
  /** Writes `count` lines at the start of `buffer`; returns the byte count. */
  fill(buffer: Uint8Array, count: number): number;
  /** Lines written so far that re-emit an earlier line. */
  readonly duplicates: number;
  /** Original lines written so far that are stamped on the previous day. */
  readonly lateRows: number;
}

function createLineSource(options: {
  date: string;
  seed: number;
  duplicateShare: number;
  isoTimes: boolean;
}): LineSource {
  const { date, duplicateShare, isoTimes } = options;
  const day = parseDay(date);
  const previousDate = new Date(day.getTime() - 86_400_000).toISOString()
    .slice(0, 10);

  const rng = new Xorshift128(options.seed);
  const dims = buildDimensions(rng);
  const poolBytes = dims.pool.bytes;
  const poolOffsets = Int32Array.from(dims.pool.offsets);
  const poolLengths = Int32Array.from(dims.pool.lengths);

  // Longest possible line: the longest piece of each kind plus the fixed part
  // (id, two dates, a datetime, separators).
  const longest = (indexes: ArrayLike<number>) => {
    let max = 0;
    for (let i = 0; i < indexes.length; i++) {
      max = Math.max(max, poolLengths[indexes[i]]);
    }
    return max;
  };
  const maxLine = longest(dims.campaignPrefix) + longest(dims.creative) +
    longest(dims.sitePlacement) + longest(dims.device) + longest(dims.geo) +
    36 + 1 + 10 + 1 + 24 + 1;
  if (maxLine > MAX_LINE) throw new Error(`Line too long: ${maxLine}`);

  const dayBytes = ascii(`${date},${date}`);
  const previousDayBytes = ascii(`${previousDate},${previousDate}`);
  const hex = ascii("0123456789abcdef");
  const hourTable = weightedTable(HOUR_WEIGHTS);
  const timeSeparator = isoTimes ? 0x54 /* T */ : 0x20 /* space */;
  const lateThreshold = Math.floor(LATE_SHARE * 4294967296);
  const duplicateThreshold = Math.floor(duplicateShare * 4294967296);

  const reservoir = new Uint8Array(RESERVOIR_SLOTS * MAX_LINE);
  const reservoirLengths = new Int32Array(RESERVOIR_SLOTS);
  let reservoirFilled = 0;
  let reservoirNext = 0;
  let duplicates = 0;
  let lateRows = 0;

  /** Copies pool piece `piece` to `buffer` at `p`; returns the new end. */
  const copyPiece = (buffer: Uint8Array, p: number, piece: number) => {
    const end = poolOffsets[piece] + poolLengths[piece];
    for (let i = poolOffsets[piece]; i < end; i++) buffer[p++] = poolBytes[i];
    return p;
  };

  const fill = (buffer: Uint8Array, count: number): number => {
    let p = 0;
    for (let r = 0; r < count; r++) {
      // Re-emit an earlier line as it was.
      if (reservoirFilled > 0 && rng.next() < duplicateThreshold) {
        const from = rng.below(reservoirFilled) * MAX_LINE;
        buffer.set(
          reservoir.subarray(from, from + reservoirLengths[from / MAX_LINE]),
          p,
        );
        p += reservoirLengths[from / MAX_LINE];
        duplicates++;
        continue;
      }

      const start = p;
      const r0 = rng.next();
      const r1 = rng.next();
      const r2 = rng.next();
      const r3 = rng.next();

      // AGENCY_ID,ADVERTISER_ID,ORDER_ID,CAMPAIGN_ID,
      const campaign = dims.campaignTable[r0 >>> 16];
      p = copyPiece(buffer, p, dims.campaignPrefix[campaign]);

      // IMPRESSION_ID: a random lowercase UUID, version 4, variant 10xx.
      // Four words give the 8-4-4-4-12 hex digits.
      for (let k = 0; k < 4; k++) {
        let word = rng.next();
        if (k === 1) word = (word & 0xffff0fff) | 0x4000;
        else if (k === 2) word = (word & 0x3fffffff) | 0x80000000;
        for (let shift = 28; shift >= 0; shift -= 4) {
          buffer[p++] = hex[(word >>> shift) & 15];
          if (shift === 16 && (k === 1 || k === 2)) buffer[p++] = 0x2d; // -
        }
        if (k < 2) buffer[p++] = 0x2d;
      }
      buffer[p++] = 0x2c;

      // IMPRESSION_DATE,IMPRESSION_DATETIME,
      const late = r1 < lateThreshold;
      const hour = late ? 23 : hourTable[r1 >>> 16];
      const minute = late ? 50 + ((r1 >>> 16) % 10) : (r1 & 0xffff) % 60;
      const second = (r2 >>> 16) % 60;
      if (late) lateRows++;
      const dateBytes = late ? previousDayBytes : dayBytes;
      for (let i = 0; i < dateBytes.length; i++) buffer[p++] = dateBytes[i];
      buffer[p++] = timeSeparator;
      buffer[p++] = 0x30 + ((hour / 10) | 0);
      buffer[p++] = 0x30 + (hour % 10);
      buffer[p++] = 0x3a; // :
      buffer[p++] = 0x30 + ((minute / 10) | 0);
      buffer[p++] = 0x30 + (minute % 10);
      buffer[p++] = 0x3a;
      buffer[p++] = 0x30 + ((second / 10) | 0);
      buffer[p++] = 0x30 + (second % 10);
      buffer[p++] = 0x2e; // .
      if (isoTimes) {
        const ms = rng.next() % 1000;
        buffer[p++] = 0x30 + ((ms / 100) | 0);
        buffer[p++] = 0x30 + (((ms / 10) | 0) % 10);
        buffer[p++] = 0x30 + (ms % 10);
        buffer[p++] = 0x5a; // Z
      } else {
        buffer[p++] = 0x30;
        buffer[p++] = 0x30;
        buffer[p++] = 0x30;
      }
      buffer[p++] = 0x2c;

      // AD_ID,CREATIVE_ID,CREATIVE_TYPE,CREATIVE_SIZE,
      p = copyPiece(
        buffer,
        p,
        dims.creative[
          campaign * CREATIVES_PER_CAMPAIGN +
          (r0 & (CREATIVES_PER_CAMPAIGN - 1))
        ],
      );
      // SITE_ID,PLACEMENT_ID,
      p = copyPiece(
        buffer,
        p,
        dims.sitePlacement[dims.sitePlacementTable[r2 & 0xffff]],
      );
      // DEVICE_TYPE,OS_NAME,BROWSER_NAME,
      p = copyPiece(buffer, p, dims.device[dims.deviceTable[r3 >>> 16]]);
      // COUNTRY_CODE,REGION_CODE,IMPRESSION and the line end.
      p = copyPiece(buffer, p, dims.geo[dims.geoTable[r3 & 0xffff]]);

      // Keep some original lines to re-emit later.
      if (((r0 >>> 2) & (RESERVOIR_EVERY - 1)) === 0) {
        reservoir.set(buffer.subarray(start, p), reservoirNext * MAX_LINE);
        reservoirLengths[reservoirNext] = p - start;
        reservoirNext = (reservoirNext + 1) % RESERVOIR_SLOTS;
        if (reservoirFilled < RESERVOIR_SLOTS) reservoirFilled++;
      }
    }
    return p;
  };

  return {
    fill,
    get duplicates() {
      return duplicates;
    },
    get lateRows() {
      return lateRows;
    },
  };
}

/**
 * Writes one synthetic day of raw impression files under
 * `<root>/YYYY/MM/DD/part-NNNN.csv`, replacing any `part-NNNN.csv` already
 * in that folder (other files are left alone).
 *
 * Rows go to the files in round-robin blocks of 4096 rows; each file gets
 * `rows / files` rows (±1). About `duplicateShare` of the rows are exact
 * copies of an earlier row (same IMPRESSION_ID and IMPRESSION_DATETIME,
 * usually in another file), and about 0.1% of the original rows are "late":
 * stamped 23:5x on the previous day. The same options give the same bytes.
 *
 * @example Write 10,000 rows into a temporary folder
 * ```ts
 * import { writeSyntheticDay } from "./synthetic_day.ts";
 *
 * const root = await Deno.makeTempDir();
 * const result = await writeSyntheticDay({
 *   root,
 *   date: "2021-01-30",
 *   rows: 10_000,
 *   seed: 7,
 * });
 * console.log(result.files.length, result.rows, result.bytes); // 4 10000 ...
 * ```
 *
 * @param options Where, which day, how many rows, and how.
 * @returns The written file paths, the row count and the byte count.
 */
export async function writeSyntheticDay(
  options: SyntheticDayOptions,
): Promise<SyntheticDayResult> {
  const {
    root,
    date,
    rows,
    files: fileCount = 4,
    duplicateShare = 0.05,
    seed = 1,
    isoTimes = false,
  } = options;
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new RangeError(`"rows" must be a non-negative integer: ${rows}`);
  }
  if (!Number.isSafeInteger(fileCount) || fileCount < 1 || fileCount > 9999) {
    throw new RangeError(`"files" must be an integer in 1..9999: ${fileCount}`);
  }
  if (!(duplicateShare >= 0 && duplicateShare < 1)) {
    throw new RangeError(
      `"duplicateShare" must be in [0, 1): ${duplicateShare}`,
    );
  }
  const lines = createLineSource({ date, seed, duplicateShare, isoTimes });

  const folder = `${root}/${date.slice(0, 4)}/${date.slice(5, 7)}/${date.slice(8, 10)}`;
  await Deno.mkdir(folder, { recursive: true });
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile && /^part-\d{4}\.csv$/.test(entry.name)) {
      await Deno.remove(`${folder}/${entry.name}`);
    }
  }
  const paths = Array.from(
    { length: fileCount },
    (_, i) => `${folder}/part-${String(i).padStart(4, "0")}.csv`,
  );

  const handles: Deno.FsFile[] = [];
  // Two buffers: one is filled while the other is being written.
  const buffers = [0, 1].map(() => new Uint8Array(BLOCK_ROWS * MAX_LINE));
  let pending: Promise<void> | undefined;
  let bytes = 0;
  try {
    const header = ascii(RAW_COLUMNS.join(",") + "\n");
    for (const path of paths) {
      const file = await Deno.open(path, {
        write: true,
        create: true,
        truncate: true,
      });
      handles.push(file);
      await writeAll(file, header);
      bytes += header.length;
    }

    const remaining = rowsPerFile(rows, fileCount);
    let left = rows;
    let part = 0;
    for (let turn = 0; left > 0; turn ^= 1) {
      while (remaining[part] === 0) part = (part + 1) % fileCount;
      const count = Math.min(BLOCK_ROWS, remaining[part]);
      const buffer = buffers[turn];
      const length = lines.fill(buffer, count);
      await pending;
      pending = writeAll(handles[part], buffer.subarray(0, length));
      bytes += length;
      remaining[part] -= count;
      left -= count;
      part = (part + 1) % fileCount;
    }
    await pending;
  } finally {
    await pending?.catch(() => {});
    for (const file of handles) file.close();
  }
  return {
    files: paths,
    rows,
    bytes,
    duplicates: lines.duplicates,
    lateRows: lines.lateRows,
  };
}

function usage(): string {
  return "Usage: deno run -A scripts/synthetic_day.ts --root DIR --date YYYY-MM-DD --rows N [--files 4] [--seed 1] [--duplicate-share 0.05] [--iso-times]";
}

/** Parses a whole non-negative number given on the command line. */
function parseCount(name: string, text: string | undefined): number {
  const digits = (text ?? "").replaceAll("_", "");
  if (!/^\d+$/.test(digits)) {
    throw new RangeError(`--${name} must be a whole number: ${text}`);
  }
  return Number(digits);
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      root: { type: "string" },
      date: { type: "string" },
      rows: { type: "string" },
      files: { type: "string", default: "4" },
      seed: { type: "string", default: "1" },
      "duplicate-share": { type: "string", default: "0.05" },
      "iso-times": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.error(usage());
    return 0;
  }
  if (!values.root || !values.date || !values.rows) {
    console.error(usage());
    return 2;
  }
  const started = performance.now();
  const result = await writeSyntheticDay({
    root: values.root,
    date: values.date,
    rows: parseCount("rows", values.rows),
    files: parseCount("files", values.files),
    seed: parseCount("seed", values.seed),
    duplicateShare: Number(values["duplicate-share"]),
    isoTimes: values["iso-times"],
  });
  const seconds = (performance.now() - started) / 1000;
  const megabytes = result.bytes / 1e6;
  console.error(
    `synthetic_day: ${result.rows} rows (${result.duplicates} duplicates, ${result.lateRows} late) in ${result.files.length} files, ${
      megabytes.toFixed(1)
    } MB in ${seconds.toFixed(2)} s (${(megabytes / seconds).toFixed(0)} MB/s) -> ${values.root}/${
      values.date.replaceAll("-", "/")
    }/`,
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(
      `synthetic_day: ${error instanceof Error ? error.message : error}`,
    );
    Deno.exit(1);
  }
}
