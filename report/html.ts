/**
 * Assembles the report page: one self-contained HTML document with inline
 * CSS and inline SVG, no script, no external resource (a Content Security
 * Policy forbids loading any), system fonts only.
 *
 * @module
 */

import {
  escapeXml as esc,
  formatCount,
  formatDuration,
  formatShare,
  shortVersion,
} from "./_helpers.ts";
import type { AssetState, DayFigures, DayReport, DayState, ReportData } from "./collect.ts";
import { EMPTY_CELL, FONT_STACK, LEGEND_STATES, stateStyle } from "./palette.ts";

/** The SVG pictures of the page, rendered beforehand. */
export interface ReportPictures {
  /** The asset graph. */
  graph: string;
  /** Daily totals and duplicate share. */
  daily: string;
  /** The heatmap, or `null` when its date has no counts. */
  heatmap: string | null;
}

const CSS = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --line: #d9d9d9; --soft: #f6f6f4; }
* { box-sizing: border-box; }
body { margin: 0; font-family: ${FONT_STACK}; color: var(--ink); background: #fbfbfa;
  font-size: 14px; line-height: 1.45; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
header p { margin: 0; color: var(--muted); }
h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 0; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin-top: 18px; }
.lead { color: var(--muted); margin: 0 0 12px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  margin: 20px 0 0; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.tile dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile dd { margin: 2px 0 0; font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile dd small { font-size: 13px; font-weight: 400; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--soft); }
td.num, th.num { text-align: right; }
.overview td, .runs td, .assets td, .checks td:nth-child(2), .checks td:nth-child(3) { white-space: nowrap; }
.overview th { vertical-align: bottom; }
.nodata code { white-space: nowrap; }
tr.no-data td { color: var(--muted); background: repeating-linear-gradient(135deg, #fff, #fff 6px,
  #f4f4f4 6px, #f4f4f4 12px); }
.badge { display: inline-flex; align-items: center; gap: 5px; padding: 1px 9px 1px 7px;
  border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; border: 1px solid; }
.badge.dashed { border-style: dashed; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 14px; margin: 10px 0 0; padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: 6px; font-size: 12px; color: #333; }
.swatch { width: 14px; height: 14px; border-radius: 3px; border: 1px solid; display: inline-block; }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 6px; }
.nodata { border: 2px dashed #aaa; border-radius: 8px; padding: 14px 16px; color: #333; background: #fafafa; }
.day { border-top: 1px solid var(--line); padding-top: 16px; margin-top: 16px; }
.day:first-of-type { border-top: 0; margin-top: 8px; padding-top: 0; }
.day .meta { color: var(--muted); margin: 4px 0 10px; }
.day-grid { display: grid; grid-template-columns: minmax(220px, 300px) 1fr; gap: 16px; }
@media (max-width: 820px) { .day-grid { grid-template-columns: 1fr; } }
code, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12px; }
.pass { color: #00734f; font-weight: 600; }
.fail-warn { color: #8a5a00; font-weight: 600; }
.fail-error { color: #b34700; font-weight: 600; }
ul.uris { margin: 6px 0 0; padding-left: 18px; }
ul.uris li { word-break: break-all; }
h4 { font-size: 13px; margin: 14px 0 6px; color: #333; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`;

function badge(state: AssetState | DayState, label: string = state): string {
  const s = stateStyle(state);
  return `<span class="badge${s.dashed ? " dashed" : ""}" data-state="${esc(state)}" ` +
    `style="background:${s.fill};color:${s.ink};border-color:${s.stroke}">` +
    `<span aria-hidden="true">${s.symbol}</span>${esc(label)}</span>`;
}

function legend(states: readonly (AssetState | DayState)[]): string {
  return `<ul class="legend" aria-label="Legend">${
    states.map((state) => {
      const s = stateStyle(state);
      return `<li><span class="swatch" style="background:${s.fill};border-color:${s.stroke}${
        s.dashed ? ";border-style:dashed" : ""
      }"></span>${esc(`${s.symbol} ${state === "no data" ? "no data / not run" : state}`)}</li>`;
    }).join("")
  }</ul>`;
}

function time(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

function numCell(field: keyof DayFigures, value: number | undefined): string {
  return value === undefined
    ? `<td class="num" data-field="${field}">–</td>`
    : `<td class="num" data-field="${field}" data-value="${value}">${formatCount(value)}</td>`;
}

function sum(days: readonly DayReport[], key: keyof DayFigures): number {
  return days.reduce((n, d) => n + (d.figures[key] ?? 0), 0);
}

function tiles(data: ReportData): string {
  const withData = data.days.filter((d) => d.hasData);
  const failed = data.days.filter((d) => d.state === "failed").length;
  const warned = data.days.filter((d) => d.state === "warn").length;
  const tile = (id: string, label: string, value: string, note = "") =>
    `<div class="tile"><dt>${esc(label)}</dt><dd data-total="${id}">${value}${
      note ? ` <small>${esc(note)}</small>` : ""
    }</dd></div>`;
  return `<dl class="tiles">${
    [
      tile("dates", "Dates with data", `${withData.length}`, `of ${data.days.length}`),
      tile("impressions", "Impressions counted", formatCount(sum(data.days, "impressions"))),
      tile("rowsRead", "Rows read", formatCount(sum(data.days, "rowsRead"))),
      tile("duplicates", "Duplicates removed", formatCount(sum(data.days, "duplicates"))),
      tile("failed", "Dates failed", `${failed}`, warned ? `${warned} with warnings` : ""),
    ].join("")
  }</dl>`;
}

function overviewTable(days: readonly DayReport[]): string {
  const rows = days.map((d) => {
    const f = d.figures;
    const run = d.run
      ? `<a href="#day-${d.date}">${esc(time(d.run.startedAt))}</a>`
      : d.source === "cache"
      ? "cache only"
      : "never materialized";
    return `<tr data-date="${d.date}"${d.state === "no data" ? ' class="no-data"' : ""}>` +
      `<td><a href="#day-${d.date}">${d.date}</a></td><td>${badge(d.state)}</td>` +
      numCell("rowsRead", f.rowsRead) + numCell("duplicates", f.duplicates) +
      numCell("lateRows", f.lateRows) + numCell("invalidRows", f.invalidRows) +
      numCell("impressions", f.impressions) + numCell("campaigns", f.campaigns) +
      `<td class="num">${d.durationMs === undefined ? "–" : formatDuration(d.durationMs)}</td>` +
      `<td>${run}</td></tr>`;
  }).join("");
  return `<table class="overview"><caption class="lead" style="caption-side:top;text-align:left">` +
    `One row per date of the range, as the newest run of that date recorded it.</caption><thead><tr>` +
    `<th>Date</th><th>State</th><th class="num">Rows read</th><th class="num">Duplicates removed</th>` +
    `<th class="num">Late rows</th><th class="num">Invalid rows</th>` +
    `<th class="num">Impressions</th><th class="num">Campaigns</th>` +
    `<th class="num">Time in assets</th><th>Newest run</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function checkResult(passed: boolean, severity: string): string {
  return passed
    ? `<span class="pass">✓ passed</span>`
    : `<span class="fail-${severity === "error" ? "error" : "warn"}">✕ failed</span>`;
}

function dayDetails(day: DayReport): string {
  const head = `<h3>${day.date} ${badge(day.state)}</h3>`;
  if (day.state === "no data") {
    return `<article class="day" id="day-${day.date}" data-date="${day.date}">${head}` +
      `<div class="nodata" data-no-data="${day.date}"><strong>No data.</strong> ${day.date} ` +
      `was never materialized: no run record mentions it and the cache has no entry for it. ` +
      `<code>deno task materialize --date ${day.date}</code> would fill it in.</div></article>`;
  }
  const f = day.figures;
  const meta = day.run
    ? `Newest run <span class="mono">${esc(day.run.runId)}</span> (${
      esc(day.run.command)
    }, started ${esc(time(day.run.startedAt))}): ${esc(day.run.status)}${
      day.run.error ? ` — ${esc(day.run.error)}` : ""
    }`
    : "No run record mentions this date; the figures come from the cache manifests.";
  const figure = (label: string, key: keyof DayFigures, value?: string) =>
    `<tr><th scope="row">${esc(label)}</th><td class="num" data-field="${key}">${
      value ?? (f[key] === undefined ? "–" : formatCount(f[key]!))
    }</td></tr>`;
  const figures = `<table class="figures"><tbody>` +
    figure("Rows read", "rowsRead") +
    figure("Duplicates removed", "duplicates") +
    figure(
      "Duplicate share",
      "duplicateShare",
      f.duplicateShare === undefined ? "–" : formatShare(f.duplicateShare),
    ) +
    figure("Late rows", "lateRows") +
    figure("Invalid rows", "invalidRows") +
    figure("Rows kept", "rowsOut") +
    figure("Impressions counted", "impressions") +
    figure("Campaigns", "campaigns") +
    figure("Objects read", "objects") +
    figure("Bytes read", "bytes") +
    `<tr><th scope="row">Time in assets</th><td class="num">${
      day.durationMs === undefined ? "–" : formatDuration(day.durationMs)
    }</td></tr></tbody></table>`;
  const assets = `<table class="assets"><thead><tr><th>Asset</th><th>State</th>` +
    `<th>Data version</th><th class="num">Duration</th><th>Why</th></tr></thead><tbody>${
      day.assets.map((a) =>
        `<tr data-asset="${esc(a.asset)}"><td class="mono">${esc(a.asset)}</td><td>${
          badge(a.state)
        }</td><td class="mono" title="${esc(a.dataVersion ?? "")}">${
          a.dataVersion ? esc(shortVersion(a.dataVersion)) : "–"
        }</td><td class="num">${
          a.durationMs === undefined ? "–" : formatDuration(a.durationMs)
        }</td><td>${esc(a.error ?? a.reasons.join("; "))}</td></tr>`
      ).join("")
    }</tbody></table>`;
  const checks = day.checks.length === 0
    ? "<p>No check results recorded.</p>"
    : `<table class="checks"><thead><tr><th>Check</th><th>Severity</th><th>Result</th>` +
      `<th>Detail</th></tr></thead><tbody>${
        day.checks.map((c) =>
          `<tr><td class="mono">${esc(`${c.asset}.${c.name}`)}</td><td>${esc(c.severity)}</td><td>${
            checkResult(c.passed, c.severity)
          }</td><td>${esc(c.detail)}</td></tr>`
        ).join("")
      }</tbody></table>`;
  const published = day.published.length
    ? `<ul class="uris">${
      day.published.map((u) => `<li><code>${esc(u)}</code></li>`).join("")
    }</ul>`
    : "<p>Nothing published.</p>";
  return `<article class="day" id="day-${day.date}" data-date="${day.date}">${head}` +
    `<p class="meta">${meta}</p><div class="day-grid"><div><h4>Figures</h4>${figures}</div>` +
    `<div><h4>Assets</h4>${assets}<h4>Checks</h4>${checks}<h4>Published</h4>${published}</div>` +
    `</div></article>`;
}

function runsTable(data: ReportData): string {
  if (data.runs.length === 0) return `<p class="nodata">No run touched this range.</p>`;
  return `<table class="runs"><thead><tr><th>Started</th><th>Command</th><th>Status</th>` +
    `<th>Dates</th><th class="num">Duration</th><th>Run id</th></tr></thead><tbody>${
      data.runs.map((r) => {
        const dates = r.dates.length === 1
          ? r.dates[0]
          : `${r.dates[0]} … ${r.dates[r.dates.length - 1]} (${r.dates.length})`;
        const states = Object.entries(r.partitionStates).map(([s, n]) => `${n} ${s}`).join(", ");
        return `<tr data-run="${esc(r.runId)}"><td>${esc(time(r.startedAt))}</td><td>${
          esc(r.command)
        }</td><td>${badge(r.status === "success" ? "up to date" : "failed", r.status)}</td><td>${
          esc(dates)
        }<br><small>${esc(states)}</small></td><td class="num">${
          formatDuration(r.durationMs)
        }</td><td class="mono">${esc(r.runId)}</td></tr>`;
      }).join("")
    }</tbody></table>`;
}

function heatmapSection(data: ReportData, svg: string | null): string {
  const h = data.heatmap;
  const body = svg === null
    ? `<div class="nodata" data-no-data="${h.date}"><strong>No data.</strong> ${
      esc(h.reason ?? `no hourly counts for ${h.date}`)
    }.</div>`
    : `<figure class="heatmap" data-date="${h.date}">${svg}<figcaption>Each cell is one campaign ` +
      `and one UTC hour; hover a cell for its count. Darker means more impressions; ` +
      `<span class="swatch" style="background:${EMPTY_CELL};border-color:#ccc;vertical-align:-2px">` +
      `</span> grey means none. Rows are the top campaigns by impressions` +
      `${h.rows.some((r) => r.campaigns > 1) ? ", then the rest summed in one row" : ""}; ` +
      `the number after each campaign is its total. Source: ` +
      `<code>hourly_campaign_counts</code> data version <code>${
        esc(shortVersion(h.dataVersion ?? ""))
      }</code>.${h.note ? ` <strong>Note:</strong> ${esc(h.note)}.` : ""}</figcaption></figure>`;
  return `<section class="card" id="heatmap"><h2>When impressions happen</h2>` +
    `<p class="lead">Impressions per campaign and hour of ${h.date} (UTC)${
      data.days.length > 1 ? "; build with <code>--date</code> to show another date" : ""
    }.</p>${body}</section>`;
}

/**
 * Renders the report page from its data and pictures.
 *
 * @example
 * ```ts
 * import { renderHtml } from "./html.ts";
 * import type { ReportData } from "./collect.ts";
 * declare const data: ReportData;
 * declare const pictures: Parameters<typeof renderHtml>[1];
 * const html = renderHtml(data, pictures);
 * ```
 */
export function renderHtml(data: ReportData, pictures: ReportPictures): string {
  const range = data.from === data.to ? data.from : `${data.from} to ${data.to}`;
  const used = new Set<string>(data.days.flatMap((d) => d.assets.map((a) => a.state)));
  const legendStates = LEGEND_STATES.filter((s) =>
    ["materialized", "up to date", "warn", "failed", "no data"].includes(s) ||
    used.has(s)
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="impressions report">
<title>Impressions pipeline report, ${esc(range)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>Impressions pipeline report</h1>
<p>${esc(range)} · built ${
    esc(time(data.generatedAt))
  } from the run records and cache manifests; nothing recomputed</p>
</header>
${tiles(data)}
<section class="card" id="graph"><h2>Asset graph</h2>
<p class="lead">What the pipeline computes, from source (left) to sink (right). Each square in a
node is one date, ${data.from} first; its colour and symbol give the asset's state in the newest
run of that date. Hover a square for its data version, run and checks.</p>
<figure>${pictures.graph}</figure>
${legend(legendStates)}
</section>
<section class="card" id="days"><h2>Which days ran</h2>
${overviewTable(data.days)}
</section>
<section class="card" id="daily"><h2>Daily totals</h2>
<p class="lead">Rows read and impressions counted per day, and the share of duplicates removed.</p>
<figure>${pictures.daily}<figcaption>Impressions counted are the deduplicated rows whose instant
falls on the date; the duplicate share is duplicates ÷ (rows read − invalid rows), as the
<code>duplicate_share</code> check computes it.</figcaption></figure>
</section>
${heatmapSection(data, pictures.heatmap)}
<section class="card" id="details"><h2>Per date</h2>
<p class="lead">Figures, assets, checks and published objects of each date.</p>
${data.days.map(dayDetails).join("\n")}
</section>
<section class="card" id="runs"><h2>Runs</h2>
<p class="lead">The runs behind this report, newest first.</p>
${runsTable(data)}
</section>
<footer>Generated by <code>deno task report</code> from <code>${
    esc(data.cacheDir)
  }</code>. This file is self-contained: it loads nothing and runs no script.</footer>
</main>
</body>
</html>
`;
}
