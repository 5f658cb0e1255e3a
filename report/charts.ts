/**
 * The report's charts: Vega-Lite specs rendered to static SVG strings with
 * Vega's headless SVG renderer (no browser, no canvas, no network: the data
 * is inline). Each mark with a description gets an SVG `<title>`, so a
 * browser shows it as a tooltip without any script.
 *
 * @module
 */

import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { DayReport, HeatmapData } from "./collect.ts";
import { ReportError } from "./errors.ts";
import { EMPTY_CELL, FONT_STACK, OKABE_ITO } from "./palette.ts";

const CONFIG = {
  font: FONT_STACK,
  background: "#ffffff",
  view: { stroke: null },
  title: { fontSize: 15, fontWeight: 600, anchor: "start", subtitleColor: "#444444" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, labelColor: "#222222" },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600 },
} as const;

/** Vega-Lite's logger, silenced: a report must not write to the terminal. */
const QUIET = {
  level(_: number) {
    return this;
  },
  error(..._: unknown[]) {
    return this;
  },
  warn(..._: unknown[]) {
    return this;
  },
  info(..._: unknown[]) {
    return this;
  },
  debug(..._: unknown[]) {
    return this;
  },
};

/** Wraps a self-closing described mark so its description becomes a tooltip. */
function describedMarksWithTitles(svg: string): string {
  return svg.replace(
    /<(path|rect|circle|line|text)(\s[^>]*?\baria-label="([^"]*)"[^>]*?)\/>/g,
    (_all, tag: string, attributes: string, label: string) =>
      `<${tag}${attributes}><title>${label}</title></${tag}>`,
  );
}

/**
 * Renders a Vega-Lite spec to an SVG string, headless.
 *
 * @example
 * ```ts
 * import { renderChart } from "./charts.ts";
 * const svg = await renderChart({
 *   data: { values: [{ x: "a", y: 1 }] },
 *   mark: "bar",
 *   encoding: { x: { field: "x", type: "nominal" }, y: { field: "y", type: "quantitative" } },
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export async function renderChart(spec: TopLevelSpec): Promise<string> {
  let view: View | undefined;
  try {
    const vega = compile({ config: CONFIG, ...spec } as TopLevelSpec, { logger: QUIET }).spec;
    view = new View(parse(vega), { renderer: "none" });
    return describedMarksWithTitles(await view.toSVG());
  } catch (error) {
    throw new ReportError(`cannot render a chart: ${(error as Error).message}`, { cause: error });
  } finally {
    view?.finalize();
  }
}

/** `05` for hour 5. */
function hh(hour: number): string {
  return String(hour).padStart(2, "0");
}

/** Thousands separators, exact digits. */
function count(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * The Vega-Lite spec of the heatmap: campaigns (top first, then `other`) ×
 * 24 UTC hours, coloured by impressions on a viridis scale; hours without
 * impressions are grey.
 *
 * @example
 * ```ts
 * import { heatmapSpec } from "./charts.ts";
 * const spec = heatmapSpec({
 *   date: "2021-01-30", hasData: true, total: 2, campaigns: 1,
 *   rows: [{ label: "7", campaigns: 1, total: 2, hours: Array(24).fill(0).with(5, 2) }],
 * });
 * ```
 */
export function heatmapSpec(heatmap: HeatmapData): TopLevelSpec {
  const values = heatmap.rows.flatMap((row, order) =>
    row.hours.map((n, hour) => ({
      row: `${row.label} · ${count(row.total)}`,
      order,
      hour,
      count: n,
      description: `${row.campaigns === 1 ? `campaign ${row.label}` : row.label}, ${hh(hour)}:00–${
        hh(hour)
      }:59 UTC: ${count(n)} impression${n === 1 ? "" : "s"}`,
    }))
  );
  const shown = heatmap.rows.filter((r) => r.campaigns === 1).length;
  const positive = values.map((v) => v.count).filter((n) => n > 0);
  const max = positive.length ? Math.max(...positive) : 1;
  const min = positive.length ? Math.min(...positive) : 0;
  const logScale = min > 0 && max / min > 10;
  return {
    title: {
      text: `When impressions happen on ${heatmap.date}`,
      subtitle: `${
        shown === heatmap.campaigns
          ? `All ${count(shown)} campaigns`
          : `Top ${count(shown)} of ${count(heatmap.campaigns)} campaigns, the rest in one row`
      }; ${count(heatmap.total)} impressions in all`,
    },
    data: { values },
    width: { step: 30 },
    height: { step: 22 },
    mark: { type: "rect", stroke: "#ffffff", strokeWidth: 1 },
    encoding: {
      x: {
        field: "hour",
        type: "ordinal",
        scale: { domain: Array.from({ length: 24 }, (_, h) => h) },
        axis: {
          title: "Hour of day (UTC; 00 = 00:00–00:59)",
          labelAngle: 0,
          labelExpr: "datum.value < 10 ? '0' + datum.value : '' + datum.value",
        },
      },
      y: {
        field: "row",
        type: "nominal",
        sort: { field: "order", op: "min" },
        axis: {
          title: "Campaign · total",
          labelLimit: 320,
          titleAngle: 0,
          titleAlign: "right",
          titleBaseline: "bottom",
          titleX: -4,
          titleY: -6,
        },
      },
      color: {
        condition: { test: "datum.count === 0", value: EMPTY_CELL },
        field: "count",
        type: "quantitative",
        // A log scale when counts span more than a factor of 10 (the `other` row
        // sums many campaigns), so smaller rows still show their hours.
        scale: logScale
          ? { type: "log", scheme: "viridis", reverse: true, domain: [min, max] }
          : { scheme: "viridis", reverse: true, domain: min === max ? [0, max] : [min, max] },
        legend: {
          title: `Impressions in the hour (count${logScale ? ", log scale" : ""})`,
          titleLimit: 600,
          orient: "bottom",
          direction: "horizontal",
          gradientLength: 320,
          format: ",d",
        },
      },
      description: { field: "description" },
    },
  } as TopLevelSpec;
}

const LINE_LEGEND = {
  title: null,
  orient: "top",
  symbolType: "stroke",
  symbolStrokeWidth: 2.5,
  symbolSize: 400,
  labelLimit: 300,
} as const;

/**
 * The Vega-Lite spec of the daily chart: rows read and impressions counted
 * per date (count), and the duplicate share (% of valid rows read) below
 * it; dates never materialized are marked "no data".
 *
 * @example
 * ```ts
 * import { dailySpec } from "./charts.ts";
 * const spec = dailySpec([{ date: "2021-01-30", state: "no data", hasData: false, source: "none",
 *   assets: [], figures: {}, published: [], checks: [] }]);
 * ```
 */
export function dailySpec(days: readonly DayReport[]): TopLevelSpec {
  const dates = days.map((d) => d.date);
  const series = days.flatMap((d) => [
    {
      date: d.date,
      series: "rows read",
      value: d.figures.rowsRead ?? null,
    },
    {
      date: d.date,
      series: "impressions counted",
      value: d.figures.impressions ?? null,
    },
  ]);
  const shares = days.map((d) => ({ date: d.date, share: d.figures.duplicateShare ?? null }));
  const missing = days.filter((d) => d.figures.rowsRead === undefined).map((d) => ({
    date: d.date,
    label: d.state === "no data" ? "no data" : d.state,
  }));
  const x = {
    field: "date",
    type: "ordinal",
    scale: { domain: dates },
    axis: {
      title: "Date (UTC)",
      labelAngle: dates.length > 10 ? -45 : 0,
      labelOverlap: true,
    },
  } as const;
  const width = 820;
  const gaps = () =>
    missing.length === 0 ? [] : [{
      data: { values: missing },
      mark: { type: "rule", strokeDash: [4, 4], color: "#999999" },
      encoding: { x },
    }, {
      data: { values: missing },
      mark: {
        type: "text",
        color: "#444444",
        fontSize: 11,
        y: 2,
        baseline: "top",
        dx: 4,
        align: "left",
      },
      encoding: { x, text: { field: "label" } },
    }];
  return {
    title: {
      text: "Daily totals and duplicate share",
      subtitle: `${dates[0]} to ${dates[dates.length - 1]}, from the run records`,
    },
    vconcat: [
      {
        width,
        height: 180,
        layer: [
          {
            data: { values: series },
            mark: { type: "line", point: { size: 50, filled: true }, strokeWidth: 2 },
            encoding: {
              x,
              y: {
                field: "value",
                type: "quantitative",
                axis: { title: "Rows per day (count)", format: ",d" },
              },
              color: {
                field: "series",
                type: "nominal",
                scale: {
                  domain: ["rows read", "impressions counted"],
                  range: [OKABE_ITO.blue, OKABE_ITO.orange],
                },
                legend: LINE_LEGEND,
              },
              strokeDash: {
                field: "series",
                type: "nominal",
                scale: { domain: ["rows read", "impressions counted"], range: [[1, 0], [6, 3]] },
                legend: LINE_LEGEND,
              },
              description: {
                field: "description",
              },
            },
            transform: [{
              calculate:
                "datum.date + ': ' + datum.series + ' ' + (datum.value === null ? 'no data' : format(datum.value, ','))",
              as: "description",
            }],
          },
          ...gaps(),
        ],
      },
      {
        width,
        height: 110,
        layer: [
          {
            data: { values: shares },
            mark: {
              type: "line",
              color: OKABE_ITO.vermillion,
              point: { size: 50, filled: true, color: OKABE_ITO.vermillion },
              strokeWidth: 2,
            },
            encoding: {
              x,
              y: {
                field: "share",
                type: "quantitative",
                axis: { title: "Duplicate share (%)", format: ".0%" },
              },
              description: { field: "description" },
            },
            transform: [{
              calculate:
                "datum.date + ': ' + (datum.share === null ? 'no data' : format(datum.share, '.2%') + ' of valid rows were duplicates')",
              as: "description",
            }],
          },
          ...gaps(),
        ],
      },
    ],
    spacing: 18,
    resolve: { scale: { x: "shared" } },
  } as TopLevelSpec;
}

/**
 * The heatmap as SVG.
 *
 * @example
 * ```ts
 * import { heatmapSvg } from "./charts.ts";
 * import type { ReportData } from "./collect.ts";
 * declare const data: ReportData;
 * const svg = await heatmapSvg(data.heatmap);
 * ```
 */
export function heatmapSvg(heatmap: HeatmapData): Promise<string> {
  return renderChart(heatmapSpec(heatmap));
}

/**
 * The daily totals chart as SVG.
 *
 * @example
 * ```ts
 * import { dailySvg } from "./charts.ts";
 * import type { ReportData } from "./collect.ts";
 * declare const data: ReportData;
 * const svg = await dailySvg(data.days);
 * ```
 */
export function dailySvg(days: readonly DayReport[]): Promise<string> {
  return renderChart(dailySpec(days));
}
