/**
 * Reads what the pipeline recorded for a range of dates into one plain data
 * model: the run records under `<cache dir>/runs/` and the cache manifests
 * under `<cache dir>/YYYY-MM-DD/<asset>/manifest.json`. Nothing is
 * recomputed, and every figure is copied as recorded: the model holds the
 * run records' numbers, not numbers derived again from data files.
 *
 * @module
 */

import { ASSETS, dedupedImpressions, hourlyCampaignCounts, rawPartition } from "../assets/mod.ts";
import type { Asset, CheckResult } from "../materializer/asset.ts";
import type { Manifest } from "../materializer/cache.ts";
import { createGraph } from "../materializer/graph.ts";
import type { AssetOutcome, PartitionOutcome } from "../materializer/materialize.ts";
import type { RunRecord } from "../materializer/runs.ts";
import { localState, type StateStore } from "../materializer/state.ts";
import { ReportError } from "./errors.ts";
import { countFigures, dedupeFigures, duplicateShare, rawFigures } from "../assets/figures.ts";
import { DateRangeError, datesBetween as partitionDates } from "../materializer/partitions.ts";

/**
 * What happened to an asset on a date, as the report shows it: the recorded
 * status, turned into `warn` or `failed` when a check of that severity did
 * not pass. `not run`: no run recorded it and nothing is cached; `cached`:
 * a cache entry exists but no run record mentions it.
 */
export type AssetState =
  | "materialized"
  | "up to date"
  | "warn"
  | "failed"
  | "skipped"
  | "cached"
  | "not run";

/** The state of a whole date; `no data` when it was never materialized. */
export type DayState = "materialized" | "up to date" | "warn" | "failed" | "cached" | "no data";

/** An asset of the graph. */
export interface AssetNode {
  /** Asset name. */
  name: string;
  /** One line saying what it is. */
  description: string;
  /** Names of its direct upstreams. */
  deps: string[];
  /** Its current code version. */
  codeVersion: string;
  /** Its checks. */
  checks: { name: string; severity: string }[];
}

/** A run, as listed in the report. */
export interface RunSummary {
  /** Run id. */
  runId: string;
  /** Subcommand, e.g. `materialize`. */
  command: string;
  /** Start time, ISO 8601. */
  startedAt: string;
  /** End time, ISO 8601. */
  endedAt: string;
  /** Wall time in milliseconds. */
  durationMs: number;
  /** `success` or `failed`. */
  status: string;
  /** Every date the run covered, ascending. */
  dates: string[];
  /** How many of its dates ended in each partition status. */
  partitionStates: Record<string, number>;
}

/** One asset on one date, from the newest run that recorded it. */
export interface AssetDay {
  /** Asset name. */
  asset: string;
  /** State shown. */
  state: AssetState;
  /** Status as recorded (`not run`, `cached` when no run recorded it). */
  status: string;
  /** The run the outcome comes from. */
  runId?: string;
  /** Data version. */
  dataVersion?: string;
  /** Code version that produced it. */
  codeVersion?: string;
  /** Wall time in that run, milliseconds. */
  durationMs?: number;
  /** Figures the asset recorded. */
  metadata: Record<string, unknown>;
  /** Check results. */
  checks: CheckResult[];
  /** URIs published by a sink. */
  published: string[];
  /** Why it was recomputed. */
  reasons: string[];
  /** One-line error, when it failed or was skipped. */
  error?: string;
}

/** The figures of a date, copied from the assets' recorded metadata. */
export interface DayFigures {
  /** `raw_partition.objects`. */
  objects?: number;
  /** `raw_partition.bytes`. */
  bytes?: number;
  /** `deduped_impressions.rowsIn`: rows read from the day's files. */
  rowsRead?: number;
  /** `deduped_impressions.rowsOut`: rows kept after removing duplicates. */
  rowsOut?: number;
  /** `deduped_impressions.duplicates`: duplicate rows removed. */
  duplicates?: number;
  /** `deduped_impressions.lateRows`: kept rows whose instant is on another date. */
  lateRows?: number;
  /** `deduped_impressions.invalidRows`: rows left out as invalid. */
  invalidRows?: number;
  /** `hourly_campaign_counts.impressions`: impressions counted for the date. */
  impressions?: number;
  /** `hourly_campaign_counts.campaigns`: distinct campaigns. */
  campaigns?: number;
  /** `hourly_campaign_counts.groups`: (campaign, hour) pairs with impressions. */
  groups?: number;
  /** duplicates ÷ (rows read − invalid rows), as the `duplicate_share` check defines it. */
  duplicateShare?: number;
}

/** A run that touched a date. */
export interface DayRun {
  /** Run id. */
  runId: string;
  /** Subcommand. */
  command: string;
  /** Start time, ISO 8601. */
  startedAt: string;
  /** The date's partition status in that run. */
  status: PartitionOutcome["status"];
  /** The date's first error in that run. */
  error?: string;
}

/** Everything about one date of the range. */
export interface DayReport {
  /** `YYYY-MM-DD`. */
  date: string;
  /** State shown. */
  state: DayState;
  /**
   * Whether any asset of the date has an output (materialized, up to date
   * or cached); a date whose every run failed has none.
   */
  hasData: boolean;
  /** Where its figures come from. */
  source: "runs" | "cache" | "none";
  /** The newest run that touched the date. */
  run?: DayRun;
  /** Per asset, upstreams first. */
  assets: AssetDay[];
  /** Key figures. */
  figures: DayFigures;
  /** Time the newest run spent in the date's assets, milliseconds. */
  durationMs?: number;
  /** Published URIs. */
  published: string[];
  /** Every check result of the date. */
  checks: CheckResult[];
}

/** One row of the heatmap. */
export interface HeatmapRow {
  /** Row label: a campaign id, `(empty)`, or `other N campaigns`. */
  label: string;
  /** Number of campaigns in the row (1, or N for the `other` row). */
  campaigns: number;
  /** Impressions in the row. */
  total: number;
  /** Impressions per UTC hour, 24 entries. */
  hours: number[];
}

/** Impressions per campaign and hour of one date. */
export interface HeatmapData {
  /** The date shown. */
  date: string;
  /** Whether the date has cached counts. */
  hasData: boolean;
  /** Why not, when it has none. */
  reason?: string;
  /** Data version of the counts shown. */
  dataVersion?: string;
  /** Top campaigns by impressions, then one `other` row if there are more. */
  rows: HeatmapRow[];
  /** Sum of every count. */
  total: number;
  /** Distinct campaigns. */
  campaigns: number;
  /** Something the reader should know (e.g. the cache differs from the last run). */
  note?: string;
}

/** The report's data model. */
export interface ReportData {
  /** First date, `YYYY-MM-DD`. */
  from: string;
  /** Last date, `YYYY-MM-DD`. */
  to: string;
  /** When the report was built, ISO 8601. */
  generatedAt: string;
  /** The cache folder read. */
  cacheDir: string;
  /** The asset graph, upstreams first. */
  assets: AssetNode[];
  /** One entry per date of the range, ascending. */
  days: DayReport[];
  /** The heatmap's date and counts. */
  heatmap: HeatmapData;
  /** Runs that touched the range, newest first. */
  runs: RunSummary[];
}

/** Options for {@linkcode collectReport}. */
export interface CollectOptions {
  /** Cache root. */
  cacheDir: string;
  /** Where manifests and run records are (default: the state in `cacheDir`). */
  state?: StateStore;
  /** First date, `YYYY-MM-DD`. */
  from: string;
  /** Last date, `YYYY-MM-DD`, not before `from`. */
  to: string;
  /** Date of the heatmap (default: the last date with cached counts). */
  heatmapDate?: string;
  /** Campaigns shown one per row in the heatmap (default 20). */
  topCampaigns?: number;
  /** The assets (default: every registered asset). */
  // deno-lint-ignore no-explicit-any
  assets?: readonly Asset<any>[];
  /** What `now` is (tests). */
  now?: Date;
}

/**
 * Every date from `from` to `to`, inclusive; a bad range is a
 * {@linkcode ReportError}.
 *
 * @example
 * ```ts
 * import { datesBetween } from "./collect.ts";
 * datesBetween("2021-01-30", "2021-02-01"); // ["2021-01-30", "2021-01-31", "2021-02-01"]
 * ```
 */
export function datesBetween(from: string, to: string): string[] {
  try {
    return partitionDates(from, to);
  } catch (error) {
    if (error instanceof DateRangeError) throw new ReportError(error.message);
    throw error;
  }
}

function num(metadata: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = metadata?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The state shown for a recorded status and its checks. */
function assetState(status: string, checks: readonly CheckResult[]): AssetState {
  if (status === "failed") return "failed";
  if (status === "skipped") return "skipped";
  if (status !== "materialized" && status !== "up to date" && status !== "cached") return "not run";
  if (checks.some((c) => !c.passed && c.severity === "error")) return "failed";
  if (checks.some((c) => !c.passed)) return "warn";
  return status;
}

async function readManifest(
  state: StateStore,
  date: string,
  asset: string,
): Promise<Manifest | null> {
  const manifest = await state.readManifest(date, asset);
  return manifest && manifest.asset === asset ? manifest : null;
}

function fromOutcome(outcome: AssetOutcome, runId: string): AssetDay {
  return {
    asset: outcome.asset,
    state: assetState(outcome.status, outcome.checks ?? []),
    status: outcome.status,
    runId,
    dataVersion: outcome.dataVersion,
    codeVersion: outcome.codeVersion,
    durationMs: outcome.durationMs,
    metadata: outcome.metadata ?? {},
    checks: outcome.checks ?? [],
    published: outcome.published ?? [],
    reasons: outcome.reasons ?? [],
    error: outcome.error,
  };
}

function fromManifest(asset: string, manifest: Manifest): AssetDay {
  const checks = manifest.checks ?? [];
  const value = manifest.value as { uri?: unknown } | undefined;
  return {
    asset,
    state: assetState("cached", checks),
    status: "cached",
    dataVersion: manifest.dataVersion,
    codeVersion: manifest.codeVersion,
    durationMs: num(manifest.metadata, "durationMs"),
    metadata: manifest.metadata ?? {},
    checks,
    published: typeof value?.uri === "string" ? [value.uri] : [],
    reasons: [],
  };
}

function notRun(asset: string): AssetDay {
  return {
    asset,
    state: "not run",
    status: "not run",
    metadata: {},
    checks: [],
    published: [],
    reasons: [],
  };
}

/** Figures of a date from its assets' recorded metadata. */
function figuresOf(assets: readonly AssetDay[]): DayFigures {
  const meta = (name: string) => assets.find((a) => a.asset === name)?.metadata;
  const raw = rawFigures(meta(rawPartition.name));
  const deduped = dedupeFigures(meta(dedupedImpressions.name));
  const counts = countFigures(meta(hourlyCampaignCounts.name));
  const figures: DayFigures = {
    objects: raw.objects,
    bytes: raw.bytes,
    rowsRead: deduped.rowsIn,
    rowsOut: deduped.rowsOut,
    duplicates: deduped.duplicates,
    lateRows: deduped.lateRows,
    invalidRows: deduped.invalidRows,
    impressions: counts.impressions,
    campaigns: counts.campaigns,
    groups: counts.groups,
    duplicateShare: duplicateShare(deduped),
  };
  for (const key of Object.keys(figures) as (keyof DayFigures)[]) {
    if (figures[key] === undefined) delete figures[key];
  }
  return figures;
}

function dayState(run: DayRun | undefined, assets: readonly AssetDay[]): DayState {
  if (run === undefined) {
    if (assets.every((a) => a.state === "not run")) return "no data";
    if (assets.some((a) => a.state === "failed")) return "failed";
    if (assets.some((a) => a.state === "warn")) return "warn";
    return "cached";
  }
  if (run.status === "failed" || assets.some((a) => a.state === "failed")) return "failed";
  if (assets.some((a) => a.state === "warn")) return "warn";
  return run.status === "materialized" ? "materialized" : "up to date";
}

function summarizeRun(record: RunRecord): RunSummary {
  const partitionStates: Record<string, number> = {};
  for (const p of record.partitions) {
    partitionStates[p.status] = (partitionStates[p.status] ?? 0) + 1;
  }
  return {
    runId: record.runId,
    command: record.command,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    durationMs: Date.parse(record.endedAt) - Date.parse(record.startedAt),
    status: record.status,
    dates: record.partitions.map((p) => p.partition).sort(),
    partitionStates,
  };
}

/** Collects one date from the run records (newest first) and the cache. */
async function collectDay(
  date: string,
  names: readonly string[],
  records: readonly RunRecord[],
  state: StateStore,
): Promise<DayReport> {
  let run: DayRun | undefined;
  let runPartition: PartitionOutcome | undefined;
  const latest = new Map<string, AssetDay>();
  for (const record of records) {
    const partition = record.partitions.find((p) => p.partition === date);
    if (!partition || partition.status === "planned") continue;
    if (!run) {
      run = {
        runId: record.runId,
        command: record.command,
        startedAt: record.startedAt,
        status: partition.status,
        error: partition.error,
      };
      runPartition = partition;
    }
    for (const outcome of partition.assets) {
      if (!latest.has(outcome.asset) && outcome.status !== "stale") {
        latest.set(outcome.asset, fromOutcome(outcome, record.runId));
      }
    }
  }
  const assets: AssetDay[] = [];
  for (const name of names) {
    const recorded = latest.get(name);
    if (recorded) {
      assets.push(recorded);
      continue;
    }
    const manifest = await readManifest(state, date, name);
    assets.push(manifest ? fromManifest(name, manifest) : notRun(name));
  }
  const durations = runPartition?.assets.map((a) => a.durationMs) ?? [];
  return {
    date,
    state: dayState(run, assets),
    hasData: assets.some((a) =>
      a.status === "materialized" || a.status === "up to date" || a.status === "cached"
    ),
    source: run ? "runs" : assets.some((a) => a.status === "cached") ? "cache" : "none",
    run,
    assets,
    figures: figuresOf(assets),
    durationMs: durations.length ? durations.reduce((a, b) => a + b, 0) : undefined,
    published: assets.flatMap((a) => a.published),
    checks: assets.flatMap((a) => a.checks),
  };
}

interface CountRow {
  campaign: string;
  hour: number;
  count: number;
}

function isCountRow(value: unknown): value is CountRow {
  const row = value as CountRow;
  return typeof row?.campaign === "string" && Number.isInteger(row.hour) && row.hour >= 0 &&
    row.hour < 24 && typeof row.count === "number";
}

/** A campaign's row label. */
export function campaignLabel(campaign: string): string {
  return campaign === "" ? "(empty)" : campaign;
}

/** Campaign ids as numbers, the empty campaign last. */
function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "") return 1;
  if (b === "") return -1;
  try {
    return BigInt(a) < BigInt(b) ? -1 : 1;
  } catch {
    return a < b ? -1 : 1;
  }
}

/**
 * Builds heatmap rows from (campaign, hour, count) triples: the `top`
 * campaigns by impressions (ties by id), then one row summing the rest.
 *
 * @example
 * ```ts
 * import { heatmapRows } from "./collect.ts";
 * const rows = heatmapRows([{ campaign: "7", hour: 5, count: 2 }], 20);
 * // rows[0].label is "7", rows[0].hours[5] is 2
 * ```
 */
export function heatmapRows(counts: readonly CountRow[], top: number): HeatmapRow[] {
  const byCampaign = new Map<string, number[]>();
  for (const { campaign, hour, count } of counts) {
    let hours = byCampaign.get(campaign);
    if (!hours) byCampaign.set(campaign, hours = new Array(24).fill(0));
    hours[hour] += count;
  }
  const rows = [...byCampaign].map(([campaign, hours]) => ({
    label: campaignLabel(campaign),
    campaign,
    campaigns: 1,
    total: hours.reduce((a, b) => a + b, 0),
    hours,
  }));
  rows.sort((a, b) => b.total - a.total || compareIds(a.campaign, b.campaign));
  const shown: HeatmapRow[] = rows.slice(0, top).map(({ campaign: _, ...row }) => row);
  const rest = rows.slice(top);
  if (rest.length > 0) {
    const hours = new Array(24).fill(0);
    for (const row of rest) row.hours.forEach((n, h) => hours[h] += n);
    shown.push({
      label: `other ${rest.length} campaign${rest.length === 1 ? "" : "s"}`,
      campaigns: rest.length,
      total: hours.reduce((a, b) => a + b, 0),
      hours,
    });
  }
  return shown;
}

async function collectHeatmap(
  date: string,
  day: DayReport | undefined,
  state: StateStore,
  top: number,
): Promise<HeatmapData> {
  const empty = (reason: string): HeatmapData => ({
    date,
    hasData: false,
    reason,
    rows: [],
    total: 0,
    campaigns: 0,
  });
  const manifest = await readManifest(state, date, hourlyCampaignCounts.name);
  const counts = (manifest?.value as { counts?: unknown } | undefined)?.counts;
  if (!manifest || !Array.isArray(counts) || !counts.every(isCountRow)) {
    return empty(
      day?.state === "no data"
        ? `${date} was never materialized`
        : `no cached hourly counts for ${date}`,
    );
  }
  const rows = heatmapRows(counts, top);
  const total = counts.reduce((n, c) => n + c.count, 0);
  const heatmap: HeatmapData = {
    date,
    hasData: true,
    dataVersion: manifest.dataVersion,
    rows,
    total,
    campaigns: new Set(counts.map((c) => c.campaign)).size,
  };
  const recorded = day?.assets.find((a) => a.asset === hourlyCampaignCounts.name);
  if (recorded?.dataVersion && recorded.dataVersion !== manifest.dataVersion) {
    heatmap.note = `the cache holds version ${
      manifest.dataVersion.slice(0, 12)
    } of the counts; the newest run recorded ${recorded.dataVersion.slice(0, 12)}`;
  } else if (day?.figures.impressions !== undefined && day.figures.impressions !== total) {
    heatmap.note =
      `the cached counts sum to ${total}; the run record says ${day.figures.impressions}`;
  }
  return heatmap;
}

/**
 * Reads the run records and cache manifests of a date range into a
 * {@linkcode ReportData}. Dates nobody materialized are `no data`.
 *
 * @example
 * ```ts
 * import { collectReport } from "./collect.ts";
 * const data = await collectReport({ cacheDir: ".cache", from: "2021-01-29", to: "2021-01-31" });
 * data.days.map((d) => `${d.date} ${d.state} ${d.figures.impressions ?? "-"}`);
 * ```
 */
export async function collectReport(options: CollectOptions): Promise<ReportData> {
  const dates = datesBetween(options.from, options.to);
  if (options.heatmapDate !== undefined && !dates.includes(options.heatmapDate)) {
    throw new ReportError(
      `--date ${options.heatmapDate} is outside the range ${options.from}..${options.to}`,
    );
  }
  const graph = createGraph(options.assets ?? ASSETS);
  const assets: AssetNode[] = graph.assets.map((asset) => ({
    name: asset.name,
    description: asset.description ?? "",
    deps: Object.values(asset.deps).map((d) => d.name),
    codeVersion: asset.codeVersion,
    checks: asset.checks.map((c) => ({ name: c.name, severity: c.severity })),
  }));
  const names = assets.map((a) => a.name);
  const inRange = new Set(dates);
  const state = options.state ?? localState(options.cacheDir);
  const records = (await state.listRunRecords())
    .filter((r) => r.partitions.some((p) => inRange.has(p.partition)));
  const days: DayReport[] = [];
  for (const date of dates) days.push(await collectDay(date, names, records, state));

  const heatmapDate = options.heatmapDate ??
    [...days].reverse().find((d) => d.figures.impressions !== undefined)?.date ??
    dates[dates.length - 1];
  const heatmap = await collectHeatmap(
    heatmapDate,
    days.find((d) => d.date === heatmapDate),
    state,
    options.topCampaigns ?? 20,
  );
  return {
    from: dates[0],
    to: dates[dates.length - 1],
    generatedAt: (options.now ?? new Date()).toISOString(),
    cacheDir: options.cacheDir,
    assets,
    days,
    heatmap,
    runs: records.map(summarizeRun),
  };
}
