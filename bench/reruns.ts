/**
 * The reruns of a day that keeps arriving, side by side with the full run:
 * a full run in a new cache, a rerun with nothing new, and a rerun after one
 * new object holding 1% more rows (sorting after the others, as the ad
 * server names files), each a whole `materialize` process as a scheduler
 * sees it, `repeat` times, medians reported (peak RSS: the highest run),
 * against DuckDB's time for the whole day in the same bench run.
 *
 * The day's files are hard-linked into a bucket folder of its own, so the
 * new object can come and go without touching the day the other contenders
 * read.
 *
 * @module
 */

import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import {
  type DayRunOptions,
  figuresOf,
  materializeCommand,
  measure,
  summarize,
} from "./measure.ts";
import type { RunFigures, ToolFigures } from "./report.ts";

/** The reruns' figures at one size. */
export interface RerunFigures {
  /** A full run in a new cache. */
  full: ToolFigures;
  /** The same again: nothing new. */
  noChange: ToolFigures;
  /** After one new object of 1% more rows. */
  onePercent: ToolFigures;
  /** Rows and bytes of the new object. */
  added: { rows: number; bytes: number };
  /** What the 1% reruns said of deduped_impressions (`incremental=true ...` or `full: ...`). */
  mode: string;
  /** DuckDB's median seconds for the whole day in the same bench run. */
  duckdbSeconds?: number;
  /** The memory budget of the runs (the default). */
  memoryBudgetBytes: number;
}

/** Options for {@linkcode benchReruns}. */
export interface RerunOptions extends DayRunOptions {
  /** DuckDB's median seconds for the whole day, when it ran. */
  duckdbSeconds?: number;
}

/** The default `--memory-budget`. */
const MEMORY_BUDGET = 1 << 30;

/** Hard-links (or copies, across filesystems) `from` to `to`. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await Deno.link(from, to);
  } catch {
    await Deno.copyFile(from, to);
  }
}

/**
 * Times the full run, the no-change rerun and the 1% rerun, interleaved:
 * each repeat takes a new cache through all three.
 *
 * @example
 * ```ts
 * import { benchReruns, type RerunOptions } from "./reruns.ts";
 * declare const options: RerunOptions;
 * const figures = await benchReruns(options);
 * ```
 */
export async function benchReruns(options: RerunOptions): Promise<RerunFigures> {
  const { day, date, runDir } = options;
  const prefix = date.replaceAll("-", "/");
  const bucket = `${runDir}/rerun-bucket`;
  await Deno.mkdir(`${bucket}/${prefix}`, { recursive: true });
  for (const file of day.files) {
    await linkOrCopy(file, `${bucket}/${prefix}/${file.slice(file.lastIndexOf("/") + 1)}`);
  }
  // The new object: 1% of the rows, another seed, named after every part.
  const extraRoot = `${runDir}/rerun-extra`;
  const extra = await writeSyntheticDay({
    root: extraRoot,
    date,
    rows: Math.max(1, Math.round(day.rows / 100)),
    files: 1,
    seed: 2,
  });
  const extraKey = `${bucket}/${prefix}/part-9999.csv`;
  const runs: Record<"full" | "noChange" | "onePercent", RunFigures[]> = {
    full: [],
    noChange: [],
    onePercent: [],
  };
  const errors: Partial<Record<keyof typeof runs, string>> = {};
  let mode = "";
  for (let run = 1; run <= options.repeat; run++) {
    const cache = `${runDir}/rerun-cache-${run}`;
    await Deno.remove(cache, { recursive: true }).catch(() => {});
    await Deno.remove(extraKey).catch(() => {});
    try {
      for (const kind of ["full", "noChange", "onePercent"] as const) {
        if (kind === "onePercent") await linkOrCopy(extra.files[0], extraKey);
        const m = await measure(
          materializeCommand(options.repo, options.materializeFlags, [
            "--date",
            date,
            "--bucket",
            bucket,
            "--cache-dir",
            cache,
            "--initials",
            "RERUN",
          ]),
          options.gnuTime,
        );
        if (m.code !== 0) {
          errors[kind] = `exit code ${m.code}: ${
            m.stderr.trim().split("\n").slice(-2).join(" / ")
          }`;
          options.progress(`rerun ${kind} run ${run} FAILED: ${errors[kind]}`);
          break;
        }
        if (kind === "onePercent") {
          const line = m.stderr.split("\n").find((l) => l.includes("deduped_impressions:")) ?? "";
          mode = /incremental=true newObjects=\d+ newRows=\d+/.exec(line)?.[0] ??
            /full: .*\)$/.exec(line)?.[0].slice(0, -1) ?? line;
        }
        const figures = figuresOf(m);
        runs[kind].push(figures);
        options.progress(
          `rerun ${kind} ${run}/${options.repeat}: ${figures.wallSeconds.toFixed(2)} s, peak RSS ${
            (figures.peakRssBytes / 2 ** 20).toFixed(0)
          } MiB`,
        );
      }
    } finally {
      await Deno.remove(cache, { recursive: true }).catch(() => {});
      await Deno.remove(extraKey).catch(() => {});
    }
  }
  await Deno.remove(bucket, { recursive: true }).catch(() => {});
  await Deno.remove(extraRoot, { recursive: true }).catch(() => {});
  const summary = (kind: keyof typeof runs, rows: number, bytes: number): ToolFigures =>
    errors[kind] !== undefined
      ? { status: "failed", error: errors[kind], runs: runs[kind] }
      : summarize(runs[kind], rows, bytes);
  return {
    full: summary("full", day.rows, day.bytes),
    noChange: summary("noChange", day.rows, day.bytes),
    onePercent: summary("onePercent", extra.rows, extra.bytes),
    added: { rows: extra.rows, bytes: extra.bytes },
    mode,
    duckdbSeconds: options.duckdbSeconds,
    memoryBudgetBytes: MEMORY_BUDGET,
  };
}

/** The target: the 1% rerun within this share of DuckDB's time for the whole day. */
export const RERUN_TARGET = 0.10;
/** The goal beyond the target. */
export const RERUN_GOAL = 0.05;

/**
 * The reruns as a Markdown table, with the target checked.
 *
 * @example
 * ```ts
 * import { formatReruns, type RerunFigures } from "./reruns.ts";
 * declare const figures: RerunFigures;
 * console.log(formatReruns("10M", figures));
 * ```
 */
export function formatReruns(label: string, f: RerunFigures): string {
  const duck = f.duckdbSeconds;
  const row = (name: string, t: ToolFigures) => {
    if (t.status !== "ok") return `| ${name} | ${t.status}: ${t.error ?? t.note ?? ""} | | | |`;
    return `| ${name} | ${t.seconds!.toFixed(2)} | ${t.cpuSeconds!.toFixed(2)} | ${
      (t.peakRssBytes! / 2 ** 20).toFixed(0)
    } | ${duck === undefined ? "-" : (t.seconds! / duck).toFixed(2)} |`;
  };
  const out = [
    `### ${label} rows: a day that keeps arriving (reruns)`,
    "",
    "| run | wall s | CPU s | peak RSS MiB | / DuckDB whole day |",
    "|---|---:|---:|---:|---:|",
    row("full run, new cache", f.full),
    row("rerun, nothing new", f.noChange),
    row(
      `rerun after 1 new object (+${f.added.rows} rows, ${(f.added.bytes / 1e6).toFixed(1)} MB)`,
      f.onePercent,
    ),
    "",
    `DuckDB, whole day, same bench run: ${
      duck === undefined ? "not run" : `${duck.toFixed(2)} s`
    }.` +
    ` The 1% reruns said: ${f.mode || "-"}. Memory budget ${
      (f.memoryBudgetBytes / 2 ** 20).toFixed(0)
    } MiB.`,
  ];
  if (duck !== undefined && f.onePercent.status === "ok") {
    const ratio = f.onePercent.seconds! / duck;
    const withinBudget = f.onePercent.peakRssBytes! <= f.memoryBudgetBytes;
    out.push(
      `Target: 1% rerun at most ${RERUN_TARGET} of DuckDB's time: ${ratio.toFixed(3)}, ${
        ratio <= RERUN_TARGET ? "met" : "NOT met"
      } (goal ${RERUN_GOAL}: ${ratio <= RERUN_GOAL ? "met" : "not met"}); peak RSS ${
        withinBudget ? "within" : "ABOVE"
      } the memory budget.`,
    );
  }
  return out.join("\n");
}
