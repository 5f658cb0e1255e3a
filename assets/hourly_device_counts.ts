/**
 * `hourly_device_counts`: impressions per `DEVICE_TYPE` and UTC hour of the
 * partition date, from the deduplicated rows, published by the asset itself
 * as `results/YYYY/MM/DD/device_agg_YYYYMMDD_{INITIALS}.csv` with the header
 * `DEVICE_TYPE,IMPRESSION_HOUR,IMPRESSION_COUNT`. Devices are trimmed and
 * sorted by their text (the empty device last), then by hour. The rows of a
 * file without a `DEVICE_TYPE` column count as the empty device, which the
 * `device_type_column` check reports.
 *
 * @module
 */

import { fieldText } from "../engine/csv_reader.ts";
import { escapeText } from "../engine/escape_text.ts";
import { visitKeptRows } from "../engine/kept_rows.ts";
import { defineAsset } from "./_define.ts";
import { jsonIO } from "../materializer/io.ts";
import { readObjectFile } from "../resources/object_file.ts";
import {
  publishObject,
  publishParams,
  type Receipt,
  receiptIsCurrent,
  resultKey,
} from "./_publish.ts";
import { dedupedImpressions } from "./deduped_impressions.ts";
import { rawObjectFile, rawPartition } from "./raw_partition.ts";
import { countsSumToRows } from "./_checks.ts";

/** One output row. */
export interface DeviceHourCount {
  /** `DEVICE_TYPE`, trimmed; `""` when empty or missing. */
  device: string;
  /** UTC hour, 0-23. */
  hour: number;
  /** Impressions (at least 1). */
  count: number;
}

/** The value of `hourly_device_counts`. */
export interface HourlyDeviceCounts {
  /** One entry per (device, hour) with impressions, in output order. */
  counts: DeviceHourCount[];
  /** Deduplicated rows of the partition date (what the counts must sum to). */
  inDayRows: number;
  /** Files without a `DEVICE_TYPE` column and how many of their rows were counted. */
  withoutDeviceColumn: { key: string; rows: number }[];
  /** The published CSV. */
  receipt: Receipt;
}

/** The header of the published CSV. */
export const DEVICE_COUNTS_HEADER = "DEVICE_TYPE,IMPRESSION_HOUR,IMPRESSION_COUNT";

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Formats device counts as CSV: header, LF line endings, a final newline,
 * a device quoted only when it holds a comma, quote or line break.
 *
 * @example
 * ```ts
 * import { formatDeviceCountsCsv } from "./hourly_device_counts.ts";
 * formatDeviceCountsCsv([{ device: "Mobile", hour: 3, count: 2 }]);
 * // "DEVICE_TYPE,IMPRESSION_HOUR,IMPRESSION_COUNT\nMobile,3,2\n"
 * ```
 */
export function formatDeviceCountsCsv(counts: readonly DeviceHourCount[]): string {
  const lines = [DEVICE_COUNTS_HEADER];
  for (const c of counts) lines.push(`${csvField(c.device)},${c.hour},${c.count}`);
  return lines.join("\n") + "\n";
}

/** The `hourly_device_counts` asset. */
export const hourlyDeviceCounts = defineAsset({
  name: "hourly_device_counts",
  description: "impressions per DEVICE_TYPE and UTC hour, as results/.../device_agg_*.csv",
  deps: { deduped: dedupedImpressions, raw: rawPartition },
  codeVersion: "1",
  io: jsonIO<HourlyDeviceCounts>(),
  params: publishParams,
  async compute({ deduped, raw }, ctx): Promise<HourlyDeviceCounts> {
    const cells = new Map<string, Float64Array>();
    const withoutDeviceColumn: { key: string; rows: number }[] = [];
    const hours = deduped.day.hours;
    const add = (device: string, hour: number) => {
      let perHour = cells.get(device);
      if (!perHour) cells.set(device, perHour = new Float64Array(24));
      perHour[hour]++;
    };
    await visitKeptRows(
      deduped.day,
      (i) => readObjectFile(rawObjectFile(raw.objects[i])),
      (header, key) => {
        const column = header.indexOf("DEVICE_TYPE");
        if (column >= 0) return (record, row) => add(fieldText(record, column).trim(), hours[row]);
        const missing = { key, rows: 0 };
        withoutDeviceColumn.push(missing);
        return (_record, row) => {
          missing.rows++;
          add("", hours[row]);
        };
      },
    );
    const devices = [...cells.keys()].sort((a, b) =>
      a === b ? 0 : a === "" ? 1 : b === "" ? -1 : a < b ? -1 : 1
    );
    const counts: DeviceHourCount[] = [];
    for (const device of devices) {
      const perHour = cells.get(device)!;
      for (let hour = 0; hour < 24; hour++) {
        if (perHour[hour] > 0) counts.push({ device, hour, count: perHour[hour] });
      }
    }
    const receipt = await publishObject(
      ctx,
      resultKey(ctx, "device_agg", "csv"),
      new TextEncoder().encode(formatDeviceCountsCsv(counts)),
      "text/csv",
    );
    ctx.record({ groups: counts.length, devices: devices.length });
    return {
      counts,
      inDayRows: deduped.stats.rowsOut - deduped.stats.lateRows,
      withoutDeviceColumn: withoutDeviceColumn.filter((m) => m.rows > 0),
      receipt,
    };
  },
  isCurrent: (value, ctx) => receiptIsCurrent(value.receipt, ctx),
  published: (value) => [value.receipt.uri],
  checks: [
    {
      name: "device_type_column",
      severity: "warn",
      evaluate(value: HourlyDeviceCounts) {
        const missing = value.withoutDeviceColumn;
        if (missing.length === 0) {
          return { passed: true, detail: "every file with rows has a DEVICE_TYPE column" };
        }
        const rows = missing.reduce((n, m) => n + m.rows, 0);
        return {
          passed: false,
          detail: `${missing.length} file(s) without a DEVICE_TYPE column; their ${rows} rows ` +
            `count as the empty device: ${missing.map((m) => escapeText(m.key)).join(", ")}`,
        };
      },
    },
    countsSumToRows<HourlyDeviceCounts>(),
  ],
});
