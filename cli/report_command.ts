/**
 * `report`: writes the self-contained HTML report of a date range, from the
 * run records and cache manifests (nothing is recomputed); also used by
 * `materialize --report FILE` after a run.
 *
 * @module
 */

import { ReportError } from "../report/errors.ts";
import { dateRange, parseDate } from "./dates.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./errors.ts";
import type { CliIO } from "./io.ts";
import { parseFlags } from "./options.ts";
import type { StateStore } from "../materializer/state.ts";
import { stateFromFlags } from "./state_option.ts";
import { loadPackage } from "../resources/npm_package.ts";

/** Flags of `report`. */
export const REPORT_FLAGS = {
  from: { type: "string" },
  to: { type: "string" },
  date: { type: "string" },
  out: { type: "string" },
  "cache-dir": { type: "string" },
  state: { type: "string" },
  "endpoint-url": { type: "string" },
  region: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The default output file, in the current folder. */
export const DEFAULT_REPORT = "report.html";

/** What {@linkcode writeReportFile} needs. */
export interface ReportFileOptions {
  /** Cache root. */
  cacheDir: string;
  /** Where manifests and run records are (default: the cache dir). */
  state?: StateStore;
  /** First date. */
  from: string;
  /** Last date. */
  to: string;
  /** Heatmap date, if not the last date with counts. */
  date?: string;
  /** Output file. */
  out: string;
  /** Print the path on stdout (false after a run, whose stdout lists published URIs). */
  pathOnStdout?: boolean;
  /** Leave out the summary line on stderr. */
  quiet?: boolean;
}

/**
 * Writes the report; prints its path on stdout and a summary on stderr.
 * Returns false (after printing the error) when it cannot be written.
 *
 * @example
 * ```ts
 * import { writeReportFile } from "./report_command.ts";
 * import { processIO } from "./io.ts";
 * await writeReportFile(
 *   { cacheDir: ".cache", from: "2021-01-30", to: "2021-01-30", out: "report.html" },
 *   processIO(),
 * );
 * ```
 */
export async function writeReportFile(options: ReportFileOptions, io: CliIO): Promise<boolean> {
  try {
    // Loaded on demand: the charting libraries take a while to load, and
    // other commands never need them.
    const { writeReport } = await loadPackage(() => import("../report/mod.ts"));
    const { path, data } = await writeReport({
      cacheDir: options.cacheDir,
      state: options.state,
      from: options.from,
      to: options.to,
      heatmapDate: options.date,
      out: options.out,
    });
    const withData = data.days.filter((d) => d.hasData).length;
    const failed = data.days.filter((d) => d.state === "failed").length;
    if (options.pathOnStdout !== false) io.stdout(path);
    if (!options.quiet) {
      io.stderr(
        `report: ${path}: ${withData} of ${data.days.length} date${
          data.days.length === 1 ? "" : "s"
        } with data${failed ? ` (${failed} failed)` : ""}, ${data.runs.length} run${
          data.runs.length === 1 ? "" : "s"
        }; heatmap of ${data.heatmap.date}${data.heatmap.hasData ? "" : " (no data)"}`,
      );
    }
    return true;
  } catch (error) {
    if (!(error instanceof ReportError)) throw error;
    io.stderr(`error: ${error.message}`);
    return false;
  }
}

/**
 * After a `materialize` run with `--report FILE`: the report of the run's
 * dates. Returns false when it could not be written.
 *
 * @example
 * ```ts
 * import { reportAfterRun } from "./report_command.ts";
 * import { processIO } from "./io.ts";
 * const options = { cacheDir: ".cache", dates: ["2021-01-30"], report: "report.html" };
 * const written = await reportAfterRun(options, processIO());
 * ```
 */
export function reportAfterRun(
  options: {
    cacheDir: string;
    dates: string[];
    report?: string;
    quiet?: boolean;
    /** The run's state, when not the cache dir. */
    state?: StateStore;
  },
  io: CliIO,
): Promise<boolean> {
  return writeReportFile({
    cacheDir: options.cacheDir,
    state: options.state,
    from: options.dates[0],
    to: options.dates[options.dates.length - 1],
    out: options.report ?? DEFAULT_REPORT,
    pathOnStdout: false,
    quiet: options.quiet,
  }, io);
}

/**
 * `report --from D1 --to D2 [--date D] [--out FILE] [--cache-dir DIR]`;
 * returns the exit code. `--date D` alone reports that one date.
 *
 * @example
 * ```ts
 * import { reportCommand } from "./report_command.ts";
 * import { processIO } from "./io.ts";
 * const code = await reportCommand(["--from", "2021-01-29", "--to", "2021-01-31"], processIO());
 * ```
 */
export async function reportCommand(args: string[], io: CliIO, now?: Date): Promise<number> {
  const flags = parseFlags(args, REPORT_FLAGS);
  const str = (name: string) => flags[name] as string | undefined;
  const date = str("date") === undefined ? undefined : parseDate(str("date")!, now);
  let from: string, to: string;
  if (str("from") !== undefined || str("to") !== undefined) {
    if (str("from") === undefined || str("to") === undefined) {
      throw new UsageError("--from and --to go together");
    }
    from = parseDate(str("from")!, now);
    to = parseDate(str("to")!, now);
    dateRange(from, to);
    if (date !== undefined && (date < from || date > to)) {
      throw new UsageError(`--date ${date} is outside --from ${from} --to ${to}`);
    }
  } else if (date !== undefined) {
    from = to = date;
  } else {
    throw new UsageError(
      "report needs --from D1 --to D2 (or --date D), e.g. --from 2021-01-29 --to 2021-01-31",
    );
  }
  const state = await stateFromFlags(flags, io.env);
  try {
    const ok = await writeReportFile({
      cacheDir: str("cache-dir") ?? ".cache",
      state,
      from,
      to,
      date,
      out: str("out") ?? DEFAULT_REPORT,
    }, io);
    return ok ? EXIT_OK : EXIT_FAILURE;
  } finally {
    state.close?.();
  }
}
