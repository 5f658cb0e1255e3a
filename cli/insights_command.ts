/**
 * `insights`: what the warehouse says about a date range: top campaigns by
 * impressions, the busiest UTC hours, daily totals, and the share of
 * duplicate rows per day (from the cached `deduped_impressions` metadata,
 * or the newest run record that has it). Aligned tables on a terminal, or
 * CSV or JSON with `--format`.
 *
 * @module
 */

import { type DedupeFigures, dedupeFigures, duplicateShare } from "../assets/figures.ts";
import { localState, type StateStore } from "../materializer/state.ts";
import { openWarehouse, type Warehouse } from "../resources/warehouse.ts";
import { DEFINITIONS, warehouseLocation } from "../assets/definitions.ts";
import { resolveParams } from "../materializer/params.ts";
import { RUN_PARAMS } from "./run_params.ts";
import { loadProfile } from "./config.ts";
import { dateRange, parseDate } from "./dates.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import type { CliIO } from "./io.ts";
import { parseFlags } from "./options.ts";
import { formatTable } from "./table.ts";
import { stateFromFlags } from "./state_option.ts";

/** Flags of `insights`. */
export const INSIGHTS_FLAGS = {
  date: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  warehouse: { type: "string" },
  "cache-dir": { type: "string" },
  config: { type: "string" },
  profile: { type: "string" },
  format: { type: "string" },
  limit: { type: "string" },
  table: { type: "string" },
  state: { type: "string" },
  "endpoint-url": { type: "string" },
  region: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Output formats. */
export type InsightsFormat = "text" | "csv" | "json";

/** The tables, for `--table`. */
export type InsightsTable = "campaigns" | "hours" | "days";

/** One campaign in the ranking. */
export interface CampaignInsight {
  /** Rank, from 1. */
  rank: number;
  /** Campaign id, `null` for the empty campaign. */
  campaignId: string | null;
  /** Impressions in the range. */
  impressions: number;
  /** Share of all impressions in the range (0-1). */
  share: number;
}

/** One hour in the ranking. */
export interface HourInsight {
  /** Rank, from 1. */
  rank: number;
  /** UTC hour, 0-23. */
  hour: number;
  /** Impressions in that hour over the range. */
  impressions: number;
  /** Share of all impressions in the range (0-1). */
  share: number;
}

/** One date of the range; `null` where nothing is known. */
export interface DayInsight {
  /** The date. */
  date: string;
  /** Impressions loaded into the warehouse, `null` when the date was never loaded. */
  impressions: number | null;
  /** Raw rows read that day. */
  rowsRead: number | null;
  /** Rows dropped as duplicates. */
  duplicates: number | null;
  /** Duplicates over valid rows read (0-1). */
  duplicateShare: number | null;
}

/** Everything `insights` prints. */
export interface Insights {
  /** First date. */
  from: string;
  /** Last date. */
  to: string;
  /** Impressions over the loaded dates of the range. */
  totalImpressions: number;
  /** Top campaigns. */
  topCampaigns: CampaignInsight[];
  /** Busiest hours. */
  busiestHours: HourInsight[];
  /** Every date of the range. */
  days: DayInsight[];
}

/** Figures of a day that has both rows read and duplicates recorded. */
type DayFigures = Required<Pick<DedupeFigures, "rowsIn" | "duplicates">> & DedupeFigures;

function figuresOf(metadata: unknown): DayFigures | null {
  const figures = dedupeFigures(metadata);
  return figures.rowsIn !== undefined && figures.duplicates !== undefined
    ? figures as DayFigures
    : null;
}

/** Deduplication figures per date: the cache entry first, then the newest run record. */
async function dedupeFiguresByDate(
  state: StateStore,
  dates: readonly string[],
): Promise<Map<string, DayFigures>> {
  const out = new Map<string, DayFigures>();
  for (const date of dates) {
    // Not cached: looked up in the run records below.
    const figures = figuresOf((await state.readManifest(date, "deduped_impressions"))?.metadata);
    if (figures) out.set(date, figures);
  }
  if (out.size === dates.length) return out;
  const wanted = new Set(dates.filter((d) => !out.has(d)));
  for (const record of await state.listRunRecords()) {
    for (const partition of record.partitions) {
      if (!wanted.has(partition.partition)) continue;
      const asset = partition.assets.find((a) => a.asset === "deduped_impressions");
      const figures = asset && asset.status !== "failed" ? figuresOf(asset.metadata) : null;
      if (figures) {
        out.set(partition.partition, figures);
        wanted.delete(partition.partition);
      }
    }
    if (wanted.size === 0) break;
  }
  return out;
}

/**
 * Gathers the insights of a date range from the warehouse and the cache.
 *
 * @example
 * ```ts
 * import { collectInsights } from "./insights_command.ts";
 * import { openWarehouse } from "../resources/warehouse.ts";
 * const warehouse = await openWarehouse(".cache/warehouse.sqlite");
 * const insights = await collectInsights(warehouse, {
 *   from: "2021-01-30", to: "2021-01-31", limit: 10, cacheDir: ".cache",
 * });
 * await warehouse.close();
 * ```
 */
export async function collectInsights(
  warehouse: Warehouse,
  options: {
    from: string;
    to: string;
    limit: number;
    cacheDir: string;
    /** Where the manifests are (default: the state in `cacheDir`). */
    state?: StateStore;
  },
): Promise<Insights> {
  const { from, to, limit } = options;
  const summary = await warehouse.summarize({ from, to, limit });
  const total = summary.days.reduce((n, d) => n + d.impressions, 0);
  const share = (n: number) => (total === 0 ? 0 : n / total);
  const loaded = new Map(summary.days.map((d) => [d.date, d.impressions]));
  const dates = dateRange(from, to);
  const figures = await dedupeFiguresByDate(options.state ?? localState(options.cacheDir), dates);
  const hours = [...summary.hours]
    .sort((a, b) => b.impressions - a.impressions || a.hour - b.hour)
    .slice(0, limit);
  return {
    from,
    to,
    totalImpressions: total,
    topCampaigns: summary.topCampaigns.map((c, i) => ({
      rank: i + 1,
      campaignId: c.campaign === "" ? null : c.campaign,
      impressions: c.impressions,
      share: share(c.impressions),
    })),
    busiestHours: hours.map((h, i) => ({
      rank: i + 1,
      hour: h.hour,
      impressions: h.impressions,
      share: share(h.impressions),
    })),
    days: dates.map((date) => {
      const f = figures.get(date);
      return {
        date,
        impressions: loaded.get(date) ?? null,
        rowsRead: f ? f.rowsIn : null,
        duplicates: f ? f.duplicates : null,
        duplicateShare: f ? duplicateShare(f)! : null,
      };
    }),
  };
}

function percent(x: number | null): string {
  return x === null ? "-" : `${(x * 100).toFixed(2)}%`;
}

function fraction(x: number | null): string {
  return x === null ? "" : String(Number(x.toFixed(6)));
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n");
}

/** The tables as header and rows, in text or CSV form. */
function tables(insights: Insights, text: boolean) {
  const num = (n: number | null) => (n === null ? (text ? "-" : "") : String(n));
  const share = text ? percent : fraction;
  return {
    campaigns: {
      title: "Top campaigns",
      header: ["rank", "campaign_id", "impressions", "share"],
      align: ["right", "left", "right", "right"] as const,
      rows: insights.topCampaigns.map((c) => [
        String(c.rank),
        c.campaignId ?? (text ? "(empty)" : ""),
        num(c.impressions),
        share(c.share),
      ]),
    },
    hours: {
      title: "Busiest hours (UTC)",
      header: ["rank", "impression_hour", "impressions", "share"],
      align: ["right", "right", "right", "right"] as const,
      rows: insights.busiestHours.map((h) => [
        String(h.rank),
        String(h.hour),
        num(h.impressions),
        share(h.share),
      ]),
    },
    days: {
      title: "Days",
      header: ["impression_date", "impressions", "rows_read", "duplicates", "duplicate_share"],
      align: ["left", "right", "right", "right", "right"] as const,
      rows: insights.days.map((d) => [
        d.date,
        num(d.impressions),
        num(d.rowsRead),
        num(d.duplicates),
        share(d.duplicateShare),
      ]),
    },
  };
}

/**
 * Formats insights: aligned tables (`text`), CSV tables separated by a blank
 * line (`csv`), or one JSON object (`json`); `table` keeps only one table.
 *
 * @example
 * ```ts
 * import { formatInsights } from "./insights_command.ts";
 * formatInsights({
 *   from: "2021-01-30", to: "2021-01-30", totalImpressions: 0,
 *   topCampaigns: [], busiestHours: [], days: [],
 * }, "csv", "days");
 * // "impression_date,impressions,rows_read,duplicates,duplicate_share"
 * ```
 */
export function formatInsights(
  insights: Insights,
  format: InsightsFormat,
  table?: InsightsTable,
): string {
  const names: InsightsTable[] = table ? [table] : ["campaigns", "hours", "days"];
  if (format === "json") {
    const keys = { campaigns: "topCampaigns", hours: "busiestHours", days: "days" } as const;
    const out: Record<string, unknown> = {
      from: insights.from,
      to: insights.to,
      totalImpressions: insights.totalImpressions,
    };
    for (const name of names) out[keys[name]] = insights[keys[name]];
    return JSON.stringify(out, null, 2);
  }
  const all = tables(insights, format === "text");
  if (format === "csv") return names.map((n) => csv(all[n].header, all[n].rows)).join("\n\n");
  const loadedDays = insights.days.filter((d) => d.impressions !== null).length;
  const intro =
    `Impressions from ${insights.from} to ${insights.to}: ${insights.totalImpressions}` +
    ` in ${loadedDays} of ${insights.days.length} days loaded`;
  return [
    intro,
    ...names.map((n) =>
      `${all[n].title}\n${formatTable(all[n].header, all[n].rows, [...all[n].align])}`
    ),
  ].join("\n\n");
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be ${allowed.join(", ")}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * Runs `insights` with its arguments; returns the exit code.
 *
 * @example
 * ```ts
 * import { insightsCommand } from "./insights_command.ts";
 * import { processIO } from "./io.ts";
 * await insightsCommand(["--from", "2021-01-30", "--to", "2021-01-31"], processIO());
 * ```
 */
export async function insightsCommand(args: string[], io: CliIO, now?: Date): Promise<number> {
  const flags = parseFlags(args, INSIGHTS_FLAGS);
  const str = (name: string) => flags[name] as string | undefined;
  let from: string, to: string;
  if (str("date") !== undefined) {
    if (str("from") !== undefined || str("to") !== undefined) {
      throw new UsageError("use either --date or --from/--to, not both");
    }
    from = to = parseDate(str("date")!, now);
  } else if (str("from") !== undefined && str("to") !== undefined) {
    from = parseDate(str("from")!, now);
    to = parseDate(str("to")!, now);
  } else {
    throw new UsageError("insights needs --from D --to D (or --date D), e.g. --from 2021-01-01");
  }
  dateRange(from, to);
  const format = oneOf("format", str("format") ?? "text", ["text", "csv", "json"] as const);
  const table = str("table") === undefined
    ? undefined
    : oneOf("table", str("table")!, ["campaigns", "hours", "days"] as const);
  const limitText = str("limit") ?? "10";
  if (!/^\d+$/.test(limitText) || +limitText < 1 || +limitText > 10_000) {
    throw new UsageError(
      `--limit must be a whole number from 1 to 10000, not ${JSON.stringify(limitText)}`,
    );
  }
  const profile = await loadProfile({ path: str("config"), name: str("profile") });
  const { cacheDir, warehouse: configured } = resolveParams(
    { cacheDir: RUN_PARAMS.cacheDir, warehouse: DEFINITIONS.resourceParams.warehouse },
    { flags, env: {}, profile },
  );
  const warehouse = await openWarehouse(warehouseLocation(configured, cacheDir), {
    password: io.env.PGPASSWORD,
  });
  const state = await stateFromFlags({ ...flags, "cache-dir": cacheDir }, io.env).catch(
    async (error) => {
      await warehouse.close();
      throw error;
    },
  );
  try {
    const insights = await collectInsights(warehouse, {
      from,
      to,
      limit: +limitText,
      cacheDir,
      state,
    });
    io.stdout(formatInsights(insights, format, table));
  } finally {
    state.close?.();
    await warehouse.close();
  }
  return EXIT_OK;
}
