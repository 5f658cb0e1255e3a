/**
 * `published_parquet`: the day's hourly counts as Parquet next to the CSV,
 * `results/YYYY/MM/DD/daily_agg_YYYYMMDD_{INITIALS}.parquet`, with the CSV's
 * columns in its order: `CAMPAIGN_ID` (INT64, NULL for the empty campaign),
 * `IMPRESSION_HOUR` (INT32) and `IMPRESSION_COUNT` (INT64). With
 * `--with-rows`, the deduplicated rows of the date go to
 * `impressions_YYYYMMDD_{INITIALS}.parquet`: every column of the raw files
 * (the union of their headers, in order of first appearance) as text, NULL
 * where a file lacks the column.
 *
 * Files hold no timestamp, so identical inputs give identical bytes and a
 * rerun uploads nothing.
 *
 * @module
 */

import { fieldText } from "../engine/csv_reader.ts";
import type { CampaignHourCount } from "../engine/hourly_counts.ts";
import { visitKeptRows } from "../engine/kept_rows.ts";
import { type AssetContext, defineAsset } from "./_define.ts";
import { jsonIO } from "../materializer/io.ts";
import { readObjectFile } from "../resources/object_file.ts";
import {
  publishObject,
  publishParams,
  type Receipt,
  receiptIsCurrent,
  resultKey,
} from "./_publish.ts";
import { type DedupedImpressions, dedupedImpressions } from "./deduped_impressions.ts";
import { rawObjectFile, type RawPartition, rawPartition } from "./raw_partition.ts";
import { hourlyCampaignCounts } from "./hourly_campaign_counts.ts";
import { loadPackage } from "../resources/npm_package.ts";

/** The Parquet writer, loaded when a Parquet file is written (it slows every start-up otherwise). */
function writer(): Promise<typeof import("hyparquet-writer")> {
  return loadPackage(() => import("hyparquet-writer"));
}

/** The value of `published_parquet`: what was published. */
export interface ParquetReceipts {
  /** The counts file. */
  counts: Receipt;
  /** The rows file, with `--with-rows`. */
  rows?: Receipt;
}

const PARQUET_TYPE = "application/vnd.apache.parquet";
const WRITER = "impressions published_parquet";

/**
 * The counts as Parquet bytes.
 *
 * @example
 * ```ts
 * import { countsParquet } from "./published_parquet.ts";
 * const bytes = await countsParquet([{ campaign: "", hour: 3, count: 2 }]);
 * // bytes starts and ends with "PAR1"
 * ```
 */
export async function countsParquet(
  counts: readonly CampaignHourCount[],
): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await writer();
  return new Uint8Array(parquetWriteBuffer({
    createdBy: WRITER,
    columnData: [
      {
        name: "CAMPAIGN_ID",
        type: "INT64",
        nullable: true,
        data: counts.map((c) => (c.campaign === "" ? null : BigInt(c.campaign))),
      },
      {
        name: "IMPRESSION_HOUR",
        type: "INT32",
        nullable: false,
        data: Int32Array.from(counts, (c) => c.hour),
      },
      {
        name: "IMPRESSION_COUNT",
        type: "INT64",
        nullable: false,
        data: counts.map((c) => BigInt(c.count)),
      },
    ],
  }));
}

/**
 * The kept rows of the date with every column, as Parquet bytes; `read`
 * streams an object's (decompressed) bytes by its index.
 *
 * @example
 * ```ts
 * import { rowsParquet } from "./published_parquet.ts";
 * declare const deduped: Parameters<typeof rowsParquet>[0];
 * declare const objectChunks: Uint8Array[][];
 * const { bytes, rows, columns } = await rowsParquet(deduped, (i) => objectChunks[i]);
 * ```
 */
export async function rowsParquet(
  deduped: DedupedImpressions,
  read: (index: number) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ bytes: Uint8Array; rows: number; columns: string[] }> {
  const columns: string[] = [];
  const data = new Map<string, (string | null)[]>();
  let rows = 0;
  await visitKeptRows(deduped.day, read, (header) => {
    for (const name of header) {
      if (!data.has(name)) {
        columns.push(name);
        data.set(name, new Array<string | null>(rows).fill(null));
      }
    }
    const positions = columns.map((name) => header.indexOf(name));
    const arrays = columns.map((name) => data.get(name)!);
    return (record) => {
      for (let i = 0; i < arrays.length; i++) {
        arrays[i].push(positions[i] < 0 ? null : fieldText(record, positions[i]));
      }
      rows++;
    };
  });
  // A column first seen in a later object is null-filled for the rows before it.
  const { parquetWriteBuffer } = await writer();
  const bytes = new Uint8Array(parquetWriteBuffer({
    createdBy: WRITER,
    columnData: columns.map((name) => ({
      name,
      type: "STRING" as const,
      nullable: true,
      data: data.get(name)!,
    })),
  }));
  return { bytes, rows, columns };
}

function readRaw(raw: RawPartition) {
  return (index: number) => readObjectFile(rawObjectFile(raw.objects[index]));
}

async function publishRows(
  deduped: DedupedImpressions,
  raw: RawPartition,
  ctx: AssetContext,
): Promise<Receipt & { rowCount: number }> {
  const { bytes, rows } = await rowsParquet(deduped, readRaw(raw));
  const receipt = await publishObject(
    ctx,
    resultKey(ctx, "impressions", "parquet"),
    bytes,
    PARQUET_TYPE,
  );
  return { ...receipt, rowCount: rows };
}

/** The `published_parquet` asset. */
export const publishedParquet = defineAsset({
  name: "published_parquet",
  description:
    "results/YYYY/MM/DD/daily_agg_YYYYMMDD_{INITIALS}.parquet (+ impressions_*.parquet with --with-rows)",
  deps: { counts: hourlyCampaignCounts, deduped: dedupedImpressions, raw: rawPartition },
  codeVersion: "1",
  io: jsonIO<ParquetReceipts>(),
  params: (ctx) => ({ ...publishParams(ctx), withRows: ctx.params.withRows ?? false }),
  async compute({ counts, deduped, raw }, ctx): Promise<ParquetReceipts> {
    const receipt = await publishObject(
      ctx,
      resultKey(ctx, "daily_agg", "parquet"),
      await countsParquet(counts.counts),
      PARQUET_TYPE,
    );
    if (!ctx.params.withRows) return { counts: receipt };
    const { rowCount, ...rows } = await publishRows(deduped, raw, ctx);
    ctx.record({
      uri: receipt.uri,
      bytes: receipt.bytes,
      uploaded: receipt.uploaded,
      rowsUri: rows.uri,
      rowsBytes: rows.bytes,
      rowsUploaded: rows.uploaded,
      rows: rowCount,
    });
    return { counts: receipt, rows };
  },
  async isCurrent(value, ctx) {
    for (const receipt of [value.counts, value.rows]) {
      if (receipt && !(await receiptIsCurrent(receipt, ctx))) return false;
    }
    return true;
  },
  published: (value) => [value.counts.uri, ...(value.rows ? [value.rows.uri] : [])],
});
