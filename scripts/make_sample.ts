/**
 * Writes the small committed sample bucket `sample/bucket/2021/01/30/` and
 * the output the pipeline is expected to publish for it,
 * `sample/expected_daily_agg_20210130.csv`.
 *
 * The output is deterministic: running the script again deletes that date
 * folder and writes the same bytes. The sample packs the awkward cases of
 * the real export into a few hundred rows:
 *
 * - `part-0000.csv`: LF line endings; quoted fields with commas, doubled
 *   quotes and a line break; one row duplicated within the file.
 * - `part-0001.csv`: CRLF line endings; duplicates of rows of part-0000,
 *   one written `12:15:02` where part-0000 has `12:15:02.000`; the one late
 *   row (2021-01-29 23:58).
 * - `part-0002.csv`: a UTF-8 BOM, columns in another order and spaces around
 *   the header names; a duplicate whose IMPRESSION_ID has spaces around it.
 * - `part-0003.csv.gz`: a few gzip-compressed rows, one a duplicate.
 * - `_SUCCESS`: an empty marker object, not data.
 *
 * Across the files CAMPAIGN_ID 9624 is written `9624`, `9624.0` and `09624`,
 * and some rows have an empty CAMPAIGN_ID.
 *
 * The expected output is computed from the rows held in memory, not by
 * parsing the files: rows are deduplicated on (trimmed IMPRESSION_ID,
 * instant), rows whose instant is not on 2021-01-30 UTC are dropped, and the
 * rest are counted per (canonical CAMPAIGN_ID or empty, UTC hour 0-23).
 *
 * ```sh
 * deno run -A scripts/make_sample.ts
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { RAW_COLUMNS } from "./synthetic_day.ts";

/** The 19 columns of the ad-server export, in export order. */
const COLUMNS = RAW_COLUMNS;

type Column = typeof COLUMNS[number];

/** The day the sample holds. */
const DAY = "2021-01-30";
const DAY_START = Date.UTC(2021, 0, 30);

/** One written row: the text of each field, plus what it means. */
interface SampleRow {
  /** Field texts as written (before CSV quoting). */
  fields: Record<Column, string>;
  /** The instant of IMPRESSION_DATETIME, in ms since the epoch (UTC). */
  instant: number;
  /** CAMPAIGN_ID as an integer, or null when empty. */
  campaign: number | null;
}

/** One file of the sample and how it is written. */
interface SampleFile {
  name: string;
  rows: SampleRow[];
  columns: readonly Column[];
  lineEnding: "\n" | "\r\n";
  bom?: boolean;
  /** Header cells as written; defaults to the column names. */
  headerCells?: string[];
  gzip?: boolean;
}

/** What {@linkcode makeSample} wrote. */
export interface SampleResult {
  /** Paths of the files written in the date folder, `_SUCCESS` included. */
  files: string[];
  /** Path of the expected published output. */
  expectedPath: string;
  /** Contents of the expected published output. */
  expected: string;
}

/** A mulberry32 pseudo-random generator returning floats in [0, 1). */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds the rows of the sample from a seeded generator. */
function createRowFactory(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const hex = (digits: number) => {
    let text = "";
    for (let i = 0; i < digits; i++) text += int(0, 15).toString(16);
    return text;
  };
  const uuid = () =>
    `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`;

  // Campaign -> [agency, advertiser, order]; null is the empty campaign.
  const campaigns = new Map<number | null, [number, number, number]>([
    [77, [101, 10422, 551203]],
    [1203, [101, 10422, 551877]],
    [4410, [117, 13009, 602114]],
    [9624, [124, 14530, 734090]],
    [15001, [131, 15562, 800415]],
    [null, [117, 13011, 0]],
  ]);
  const campaignWeights: [number | null, number][] = [
    [9624, 30],
    [1203, 20],
    [4410, 15],
    [77, 10],
    [15001, 15],
    [null, 10],
  ];
  const hours = [0, 2, 5, 9, 12, 15, 19, 23];
  const creatives = [
    ["Display", "300x250"],
    ["Display", "728x90"],
    ["Video", "1920x1080"],
    ["Native", "1200x627"],
    ["Rich Media", "970x250"],
  ];
  const devices = [
    ["Desktop", "Windows", "Chrome"],
    ["Desktop", "macOS", "Safari"],
    ["Mobile", "iOS", "Safari"],
    ["Mobile", "Android", "Chrome"],
    ["Tablet", "iPadOS", "Safari"],
    ["CTV", "Roku OS", "Unknown"],
  ];
  const geos = [["US", "CA"], ["US", "NY"], ["US", "TX"], ["CA", "ON"], [
    "GB",
    "ENG",
  ]];

  const weightedCampaign = () => {
    let x = random() * 100;
    for (const [campaign, weight] of campaignWeights) {
      if ((x -= weight) < 0) return campaign;
    }
    return null;
  };

  /** A new impression; `overrides` fixes some of its values. */
  return (overrides: {
    campaign?: number | null;
    campaignText?: string;
    instant?: number;
    datetimeText?: string;
    id?: string;
    fields?: Partial<Record<Column, string>>;
  } = {}): SampleRow => {
    const campaign = "campaign" in overrides ? overrides.campaign ?? null : weightedCampaign();
    const instant = overrides.instant ??
      DAY_START + pick(hours) * 3_600_000 + int(0, 3599) * 1000;
    const [agency, advertiser, order] = campaigns.get(campaign)!;
    const [creativeType, creativeSize] = pick(creatives);
    const [deviceType, osName, browserName] = pick(devices);
    const [country, region] = pick(geos);
    const site = pick([200113, 200245, 201977, 203310]);
    return {
      instant,
      campaign,
      fields: {
        AGENCY_ID: String(agency),
        ADVERTISER_ID: String(advertiser),
        ORDER_ID: order ? String(order) : "",
        CAMPAIGN_ID: overrides.campaignText ?? campaignText(campaign, random()),
        IMPRESSION_ID: overrides.id ?? uuid(),
        IMPRESSION_DATE: new Date(instant).toISOString().slice(0, 10),
        IMPRESSION_DATETIME: overrides.datetimeText ??
          formatDatetime(instant, true),
        AD_ID: String(7000000 + int(0, 40)),
        CREATIVE_ID: String(int(30000000, 38999999)),
        CREATIVE_TYPE: creativeType,
        CREATIVE_SIZE: creativeSize,
        SITE_ID: String(site),
        PLACEMENT_ID: String(site * 10 + int(0, 2)),
        DEVICE_TYPE: deviceType,
        OS_NAME: osName,
        BROWSER_NAME: browserName,
        COUNTRY_CODE: country,
        REGION_CODE: region,
        IMPRESSION: "1",
        ...overrides.fields,
      },
    };
  };
}

/** How a campaign is written: 9624 has three spellings. */
function campaignText(campaign: number | null, x: number): string {
  if (campaign === null) return "";
  if (campaign === 9624) return x < 0.6 ? "9624" : x < 0.8 ? "9624.0" : "09624";
  return String(campaign);
}

/** `2021-01-30 12:15:02.000`, or without the milliseconds. */
function formatDatetime(instant: number, withMillis: boolean): string {
  const iso = new Date(instant).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, withMillis ? 23 : 19)}`;
}

/** A re-emission of `row`: same id and instant, maybe spelled differently. */
function duplicateOf(
  row: SampleRow,
  random: () => number,
  changes: { datetimeText?: string; campaignText?: string; id?: string } = {},
): SampleRow {
  return {
    instant: row.instant,
    campaign: row.campaign,
    fields: {
      ...row.fields,
      CAMPAIGN_ID: changes.campaignText ??
        (row.campaign === 9624 ? campaignText(9624, random()) : row.fields.CAMPAIGN_ID),
      IMPRESSION_DATETIME: changes.datetimeText ??
        formatDatetime(row.instant, random() < 0.7),
      IMPRESSION_ID: changes.id ?? row.fields.IMPRESSION_ID,
    },
  };
}

/** Quotes a CSV field when it holds a comma, a quote or a line break. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The bytes of one sample file. */
async function encodeFile(file: SampleFile): Promise<Uint8Array> {
  const lines = [
    (file.headerCells ?? [...file.columns]).join(","),
    ...file.rows.map((row) => file.columns.map((column) => csvField(row.fields[column])).join(",")),
  ];
  const text = (file.bom ? "\uFEFF" : "") +
    lines.map((line) => line + file.lineEnding).join("");
  const bytes = new TextEncoder().encode(text);
  if (!file.gzip) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inserts `row` into `rows` at a random position. */
function insertAt(rows: SampleRow[], row: SampleRow, random: () => number) {
  rows.splice(Math.floor(random() * (rows.length + 1)), 0, row);
}

/** Lays out the rows of the four data files. */
function buildFiles(seed: number): SampleFile[] {
  const random = createRandom(seed);
  const newRow = createRowFactory(random);
  const originals = (count: number) => Array.from({ length: count }, () => newRow());

  const part0 = originals(140);
  const part1 = originals(100);
  const part2 = originals(60);
  const part3 = originals(4);

  // The same instant written with and without milliseconds, and campaign
  // 9624 as 9624.0 in one file and 09624 in the other.
  const noon = DAY_START + (12 * 3600 + 15 * 60 + 2) * 1000;
  const twin = newRow({
    campaign: 9624,
    campaignText: "9624.0",
    instant: noon,
    datetimeText: "2021-01-30 12:15:02.000",
  });
  part0.splice(17, 0, twin);
  part1.splice(
    23,
    0,
    duplicateOf(twin, random, {
      campaignText: "09624",
      datetimeText: "2021-01-30 12:15:02",
    }),
  );

  // Quoted fields in columns the pipeline does not need.
  part0.splice(
    5,
    0,
    newRow({ fields: { CREATIVE_TYPE: "Rich Media, Expandable" } }),
  );
  part0.splice(
    31,
    0,
    newRow({ fields: { OS_NAME: 'Windows "11" Pro, 64-bit' } }),
  );
  const multiline = newRow({
    campaign: 9624,
    fields: { CREATIVE_TYPE: "Video\nOutstream", BROWSER_NAME: '"Edge"' },
  });
  part0.splice(48, 0, multiline);
  part1.splice(
    9,
    0,
    newRow({ fields: { CREATIVE_TYPE: 'Display, "Sticky" 320x50' } }),
  );
  part2.splice(12, 0, newRow({ fields: { OS_NAME: "Android, Go edition" } }));
  // The quoted multi-line row comes back in the CRLF file.
  insertAt(part1, duplicateOf(multiline, random), random);

  // Rows with an empty CAMPAIGN_ID, one of them duplicated across files.
  const empty = newRow({ campaign: null });
  part0.splice(60, 0, empty, newRow({ campaign: null }));
  insertAt(part2, duplicateOf(empty, random), random);

  // The one late row: an impression of the previous day.
  const late = DAY_START - 79_000; // 2021-01-29 23:58:41
  part1.splice(40, 0, newRow({ campaign: 4410, instant: late }));

  // The same id at another instant is another impression.
  const reused = newRow({ campaign: 1203, instant: DAY_START + 9 * 3_600_000 });
  part0.splice(70, 0, reused);
  part2.splice(
    30,
    0,
    newRow({
      campaign: 1203,
      instant: DAY_START + 12 * 3_600_000 + 61_000,
      id: reused.fields.IMPRESSION_ID,
    }),
  );

  // Spaces around an id do not make it another impression.
  const spaced = part1[55];
  part2.splice(
    41,
    0,
    duplicateOf(spaced, random, { id: ` ${spaced.fields.IMPRESSION_ID} ` }),
  );

  // Plain duplicates across files, one within a file, two in the gzip file.
  const duplicate = (from: SampleRow[], to: SampleRow[], count: number) => {
    for (let i = 0; i < count; i++) {
      insertAt(
        to,
        duplicateOf(from[Math.floor(random() * 60)], random),
        random,
      );
    }
  };
  duplicate(part0, part1, 12);
  duplicate(part0, part2, 5);
  duplicate(part1, part2, 6);
  duplicate(part2, part0, 3);
  duplicate(part0, part0, 1);
  duplicate(part0, part3, 1);
  duplicate(part1, part3, 1);

  const shuffled: Column[] = [
    "IMPRESSION_ID",
    "IMPRESSION_DATETIME",
    "CAMPAIGN_ID",
    "IMPRESSION",
    "DEVICE_TYPE",
    "AGENCY_ID",
    "ADVERTISER_ID",
    "ORDER_ID",
    "IMPRESSION_DATE",
    "AD_ID",
    "CREATIVE_ID",
    "CREATIVE_TYPE",
    "CREATIVE_SIZE",
    "SITE_ID",
    "PLACEMENT_ID",
    "OS_NAME",
    "BROWSER_NAME",
    "COUNTRY_CODE",
    "REGION_CODE",
  ];
  return [
    { name: "part-0000.csv", rows: part0, columns: COLUMNS, lineEnding: "\n" },
    {
      name: "part-0001.csv",
      rows: part1,
      columns: COLUMNS,
      lineEnding: "\r\n",
    },
    {
      name: "part-0002.csv",
      rows: part2,
      columns: shuffled,
      lineEnding: "\n",
      bom: true,
      headerCells: shuffled.map((name, i) =>
        i % 3 === 0 ? ` ${name} ` : i % 3 === 1 ? `${name} ` : ` ${name}`
      ),
    },
    {
      name: "part-0003.csv.gz",
      rows: part3,
      columns: COLUMNS,
      lineEnding: "\n",
      gzip: true,
    },
  ];
}

/**
 * The reference aggregate: dedupe on (trimmed id, instant), keep the day's
 * rows, count per (campaign, UTC hour), sort, and write as CSV.
 */
function expectedDailyAgg(files: SampleFile[]): string {
  const seen = new Set<string>();
  const counts = new Map<
    string,
    { campaign: number | null; hour: number; count: number }
  >();
  for (const file of files) {
    for (const row of file.rows) {
      const key = `${row.fields.IMPRESSION_ID.trim()}|${row.instant}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (row.instant < DAY_START || row.instant >= DAY_START + 86_400_000) {
        continue;
      }
      const hour = new Date(row.instant).getUTCHours();
      const group = `${row.campaign}|${hour}`;
      const entry = counts.get(group) ??
        { campaign: row.campaign, hour, count: 0 };
      entry.count++;
      counts.set(group, entry);
    }
  }
  const sorted = [...counts.values()].sort((a, b) =>
    a.campaign === b.campaign
      ? a.hour - b.hour
      : a.campaign === null
      ? 1
      : b.campaign === null
      ? -1
      : a.campaign - b.campaign
  );
  return [
    "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT",
    ...sorted.map((g) => `${g.campaign ?? ""},${g.hour},${g.count}`),
  ].map((line) => line + "\n").join("");
}

/**
 * Writes the sample bucket's 2021-01-30 folder (deleting what was there) and
 * the expected published output next to the bucket.
 *
 * @example Write the sample into a temporary folder
 * ```ts
 * import { makeSample } from "./make_sample.ts";
 *
 * const root = await Deno.makeTempDir();
 * const { files, expected } = await makeSample({ root });
 * console.log(files.length, expected.split("\n")[0]);
 * // 5 CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT
 * ```
 *
 * @param options `root` is the sample folder (default: the repository's
 * `sample/`); `seed` changes the random rows.
 * @returns The written paths and the expected output.
 */
export async function makeSample(
  options: { root?: string; seed?: number } = {},
): Promise<SampleResult> {
  const root = options.root ??
    fileURLToPath(new URL("../sample", import.meta.url));
  const folder = `${root}/bucket/2021/01/30`;
  await Deno.remove(folder, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await Deno.mkdir(folder, { recursive: true });

  const files = buildFiles(options.seed ?? 20210130);
  const written: string[] = [];
  for (const file of files) {
    const path = `${folder}/${file.name}`;
    await Deno.writeFile(path, await encodeFile(file));
    written.push(path);
  }
  await Deno.writeFile(`${folder}/_SUCCESS`, new Uint8Array());
  written.push(`${folder}/_SUCCESS`);

  const expected = expectedDailyAgg(files);
  const expectedPath = `${root}/expected_daily_agg_${DAY.replaceAll("-", "")}.csv`;
  await Deno.writeTextFile(expectedPath, expected);
  return { files: written, expectedPath, expected };
}

if (import.meta.main) {
  const { files, expectedPath, expected } = await makeSample();
  console.error(
    `make_sample: wrote ${files.length} objects and ${expectedPath} (${
      expected.trimEnd().split("\n").length - 1
    } groups)`,
  );
}
