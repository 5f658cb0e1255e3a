/**
 * A self-contained HTML report of a date range: the asset graph with each
 * asset's state per date, a table per date (figures, data versions, checks,
 * published URIs), an hourly heatmap of impressions, daily totals and the
 * runs behind it. It reads the run records and the cache manifests and
 * never recomputes an asset; the charts are rendered to static SVG with
 * Vega-Lite, so the file needs no network and no JavaScript.
 *
 * @example
 * ```ts
 * import { writeReport } from "./mod.ts";
 * const { path, data } = await writeReport({
 *   cacheDir: ".cache",
 *   from: "2021-01-29",
 *   to: "2021-01-31",
 *   out: "report.html",
 * });
 * console.log(`${path}: ${data.days.filter((d) => d.hasData).length} dates with data`);
 * ```
 *
 * @module
 */

import { writeFileAtomic } from "../resources/atomic_file.ts";
import { LocalIoError } from "../resources/local_io.ts";
import { dailySvg, heatmapSvg } from "./charts.ts";
import { type CollectOptions, collectReport, type ReportData } from "./collect.ts";
import { ReportError } from "./errors.ts";
import { assetGraphSvg } from "./graph_svg.ts";
import { renderHtml } from "./html.ts";

export type {
  AssetDay,
  AssetNode,
  AssetState,
  CollectOptions,
  DayFigures,
  DayReport,
  DayRun,
  DayState,
  HeatmapData,
  HeatmapRow,
  ReportData,
  RunSummary,
} from "./collect.ts";
export { collectReport, datesBetween } from "./collect.ts";
export { ReportError } from "./errors.ts";
export { renderHtml } from "./html.ts";

/**
 * Builds the report page as a string.
 *
 * @example
 * ```ts
 * import { buildReport } from "./mod.ts";
 * const { html } = await buildReport({ cacheDir: ".cache", from: "2021-01-30", to: "2021-01-30" });
 * html.startsWith("<!DOCTYPE html>"); // true
 * ```
 */
export async function buildReport(
  options: CollectOptions,
): Promise<{ html: string; data: ReportData }> {
  const data = await collectReport(options);
  const [daily, heatmap] = await Promise.all([
    dailySvg(data.days),
    data.heatmap.hasData ? heatmapSvg(data.heatmap) : Promise.resolve(null),
  ]);
  const graph = assetGraphSvg(data.assets, data.days);
  return { html: renderHtml(data, { graph, daily, heatmap }), data };
}

/** Options for {@linkcode writeReport}. */
export interface WriteReportOptions extends CollectOptions {
  /** Output file (default `report.html` in the current folder). */
  out?: string;
}

/**
 * Builds the report and writes it atomically to `out`.
 *
 * @example
 * ```ts
 * import { writeReport } from "./mod.ts";
 * await writeReport({ cacheDir: ".cache", from: "2021-01-30", to: "2021-01-30", out: "r.html" });
 * ```
 */
export async function writeReport(
  options: WriteReportOptions,
): Promise<{ path: string; data: ReportData }> {
  const path = options.out ?? "report.html";
  const { html, data } = await buildReport(options);
  try {
    await writeFileAtomic(path, new TextEncoder().encode(html));
  } catch (error) {
    const reason = error instanceof LocalIoError ? error.problem.reason : (error as Error).message;
    throw new ReportError(`cannot write the report to ${path}: ${reason}`, {
      cause: error,
    });
  }
  return { path, data };
}
