/**
 * The benchmark's figures as data (what `--json` writes), the targets
 * checked against them, and their text form: Markdown tables that read well
 * in a terminal and paste into the README unchanged.
 *
 * Run as a script to print the tables of a saved JSON report again:
 *
 * ```sh
 * deno run --allow-read bench/report.ts bench/out/results.json
 * ```
 *
 * @module
 */

import type { MachineInfo } from "./tools.ts";

/** Contenders timed on the local-folder bucket. */
export const LOCAL_TOOLS = ["ours", "duckdb", "pandas", "polars", "pyspark", "floor"] as const;
/** One of {@linkcode LOCAL_TOOLS}. */
export type LocalTool = typeof LOCAL_TOOLS[number];

/** Human names of the contenders. */
export const TOOL_NAMES: Record<string, string> = {
  ours: "ours (deno task materialize, cold cache)",
  duckdb: "DuckDB (one SQL query, 2 threads)",
  pandas: "pandas (read_csv, drop_duplicates, groupby)",
  polars: "polars (scan_csv, unique, group_by; streaming)",
  pyspark: "PySpark (local[2])",
  floor: "floor (Deno reads the bytes, counts newlines)",
  ours_s3: "ours (materialize --select raw_partition)",
  ours_s3_all: "ours (materialize, whole pipeline)",
  aws_s3: "aws s3 cp --recursive",
};

/** One timed run. */
export interface RunFigures {
  /** Exit code. */
  code: number;
  /** Wall seconds from process start to exit. */
  wallSeconds: number;
  /** User + system CPU seconds. */
  cpuSeconds: number;
  /** Peak RSS in bytes. */
  peakRssBytes: number;
  /**
   * CPU the rest of the machine used during the run, in cores (other
   * people's jobs; for the S3 runs also the in-process endpoint serving it).
   */
  otherLoad?: number;
}

/** A contender's figures at one size. */
export interface ToolFigures {
  /** `ok`, `failed` (see `error`) or `skipped` (see `note`). */
  status: "ok" | "failed" | "skipped";
  /** Why it was skipped. */
  note?: string;
  /** What went wrong. */
  error?: string;
  /** Every run, in order. */
  runs: RunFigures[];
  /** Median wall seconds of the runs. */
  seconds?: number;
  /** Median CPU seconds of the runs. */
  cpuSeconds?: number;
  /** Highest peak RSS of the runs, in bytes. */
  peakRssBytes?: number;
  /** Median CPU used by the rest of the machine during the runs, in cores. */
  otherLoad?: number;
  /** Input rows per second (median). */
  rowsPerSecond?: number;
  /** Input MB (10^6 bytes) per second (median). */
  mbPerSecond?: number;
  /** Our median seconds divided by this contender's (below 1: we are faster). */
  oursRatio?: number;
}

/** How the outputs compared. */
export interface Agreement {
  /** The contender whose output the others were compared with. */
  reference?: string;
  /** Whether every compared output has the same rows as the reference. */
  allAgree: boolean;
  /** Per contender: agreement, byte identity, first differing rows. */
  byTool: Record<
    string,
    { agree: boolean; identical: boolean; differingRows: number; firstDifferences: string[] }
  >;
  /** Sum of the reference's counts and what the generator says it must be. */
  total?: number;
  /** Rows minus duplicates minus rows stamped on the previous day. */
  expectedTotal: number;
}

/** The S3 download comparison at one size. */
export interface S3Figures {
  /** `ok`, `failed` or `skipped`. */
  status: "ok" | "failed" | "skipped";
  /** Why it was skipped or failed. */
  note?: string;
  /** Bytes of the objects. */
  bytes: number;
  /** Our pipeline's `raw_partition` against the endpoint. */
  ours?: ToolFigures;
  /** Our whole pipeline against the endpoint (parsing overlaps the download). */
  oursAll?: ToolFigures;
  /** `aws s3 cp --recursive` on the same prefix. */
  aws?: ToolFigures;
}

/** Everything measured at one size. */
export interface SizeFigures {
  /** Data rows of the day (duplicates included). */
  rows: number;
  /** Number of files. */
  files: number;
  /** Bytes of the files. */
  bytes: number;
  /** Rows that re-emit an earlier row. */
  duplicates: number;
  /** Original rows stamped on the previous day. */
  lateRows: number;
  /** Contenders on the local-folder bucket. */
  tools: Partial<Record<LocalTool, ToolFigures>>;
  /** Output comparison. */
  agreement: Agreement;
  /** S3 download comparison, when run. */
  s3?: S3Figures;
}

/** One target, checked. */
export interface TargetResult {
  /** Short name, e.g. `vs_duckdb`. */
  name: string;
  /** Rows of the size it was checked at. */
  rows: number;
  /** What it asks. */
  description: string;
  /** `MET`, `MISSED` or `NOT RUN`. */
  status: "MET" | "MISSED" | "NOT RUN";
  /** The figures behind the verdict. */
  detail: string;
  /** The measured value compared with the threshold, if any. */
  value?: number;
  /** The threshold. */
  threshold?: number;
}

/** What `--json` writes. */
export interface BenchReport {
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** When it ended. */
  endedAt: string;
  /** The machine and the tools' versions. */
  machine: MachineInfo & {
    pandas?: string;
    python?: string;
    /** polars version in the bench's virtual environment. */
    polars?: string;
    /** PySpark version in the bench's virtual environment (with `--pyspark`). */
    pyspark?: string;
    /** `java -version` (with `--pyspark`). */
    java?: string;
    aws?: string;
    timing: "gnu-time" | "proc";
    /** `/proc/loadavg` (1, 5, 15 minutes) when the run started and ended: other load skews figures. */
    loadAverage: { start: string; end: string };
  };
  /** The options the run used. */
  options: {
    rows: number[];
    files: number;
    repeat: number;
    only: string[];
    isoTimes: boolean;
    date: string;
  };
  /** Notes (skipped parts, missing tools). */
  notes: string[];
  /** Figures per size. */
  sizes: SizeFigures[];
  /** Targets with MET or MISSED. */
  targets: TargetResult[];
}

/** One GiB: the RSS limit. */
export const GIB = 1024 ** 3;
/** Smallest size at which the speed ratios must hold. */
export const RATIO_MIN_ROWS = 2_000_000;

/**
 * Checks the targets against the figures.
 *
 * @example
 * ```ts
 * import { checkTargets } from "./report.ts";
 * checkTargets([]); // []: nothing measured, nothing checked
 * ```
 */
export function checkTargets(sizes: readonly SizeFigures[]): TargetResult[] {
  const targets: TargetResult[] = [];
  const f2 = (n: number) => n.toFixed(2);
  for (const size of sizes) {
    const rows = size.rows;
    const ours = size.tools.ours;
    const oursOk = ours?.status === "ok";
    if (rows >= RATIO_MIN_ROWS) {
      const duck = size.tools.duckdb;
      for (
        const [name, limit, what, fromRows] of [
          ["vs_duckdb", 1.0, "no slower than DuckDB (ours/DuckDB ≤ 1.0)", RATIO_MIN_ROWS],
          ["vs_duckdb_goal", 0.6, "goal: ours/DuckDB ≤ 0.6 (both cores)", RATIO_MIN_ROWS],
          [
            "vs_duckdb_floor",
            0.35,
            "nearer the floor (issue 16): ours/DuckDB ≤ 0.35 at 10M rows",
            10_000_000,
          ],
        ] as const
      ) {
        if (rows < fromRows) continue;
        if (oursOk && duck?.status === "ok") {
          const ratio = ours.seconds! / duck.seconds!;
          targets.push({
            name,
            rows,
            description: what,
            status: ratio <= limit ? "MET" : "MISSED",
            value: ratio,
            threshold: limit,
            detail: `ours ${f2(ours.seconds!)} s, DuckDB ${f2(duck.seconds!)} s, ratio ${
              ratio.toFixed(3)
            }`,
          });
        } else if (duck !== undefined && ours !== undefined) {
          targets.push({
            name,
            rows,
            description: what,
            status: "NOT RUN",
            detail: `ours ${ours?.status ?? "not run"}, DuckDB ${duck?.status ?? "not run"}`,
          });
        }
      }
      const pandas = size.tools.pandas;
      if (oursOk && pandas?.status === "ok") {
        const speedup = pandas.seconds! / ours.seconds!;
        targets.push({
          name: "vs_pandas",
          rows,
          description: "at least 8× faster than pandas",
          status: speedup >= 8 ? "MET" : "MISSED",
          value: speedup,
          threshold: 8,
          detail: `ours ${f2(ours.seconds!)} s, pandas ${f2(pandas.seconds!)} s, ${
            speedup.toFixed(1)
          }× faster`,
        });
      } else if (pandas !== undefined) {
        targets.push({
          name: "vs_pandas",
          rows,
          description: "at least 8× faster than pandas",
          status: "NOT RUN",
          detail: `ours ${ours?.status ?? "not run"}, pandas ${pandas.status}${
            pandas.note ? ` (${pandas.note})` : ""
          }`,
        });
      }
    }
    if (oursOk) {
      const rss = ours.peakRssBytes!;
      targets.push({
        name: "peak_rss",
        rows,
        description: "peak RSS at most 1 GiB",
        status: rss <= GIB ? "MET" : "MISSED",
        value: rss,
        threshold: GIB,
        detail: `ours ${(rss / 2 ** 20).toFixed(0)} MiB (max of ${ours.runs.length} runs)`,
      });
    }
    const s3 = size.s3;
    if (s3 !== undefined) {
      if (s3.ours?.status === "ok" && s3.aws?.status === "ok") {
        const ratio = s3.ours.mbPerSecond! / s3.aws.mbPerSecond!;
        targets.push({
          name: "s3_download",
          rows,
          description: "S3 download at least as fast as aws s3 cp --recursive",
          status: ratio >= 1 ? "MET" : "MISSED",
          value: ratio,
          threshold: 1,
          detail: `ours ${s3.ours.mbPerSecond!.toFixed(0)} MB/s, aws ${
            s3.aws.mbPerSecond!.toFixed(0)
          } MB/s`,
        });
      } else {
        targets.push({
          name: "s3_download",
          rows,
          description: "S3 download at least as fast as aws s3 cp --recursive",
          status: "NOT RUN",
          detail: s3.note ??
            `ours ${s3.ours?.status ?? "not run"}, aws ${s3.aws?.status ?? "not run"}${
              s3.aws?.note ? ` (${s3.aws.note})` : ""
            }`,
        });
      }
    }
    if (size.agreement.reference !== undefined) {
      targets.push({
        name: "outputs_agree",
        rows,
        description: "every output row equal across contenders",
        status: size.agreement.allAgree ? "MET" : "MISSED",
        detail: [
          `${size.agreement.reference}: reference`,
          ...Object.entries(size.agreement.byTool).map(([tool, a]) =>
            `${tool}: ${a.agree ? (a.identical ? "identical" : "same rows") : "DIFFERS"}`
          ),
        ].join(", ") + `; total ${size.agreement.total} (expected ${size.agreement.expectedTotal})`,
      });
    }
  }
  return targets;
}

/** `10000000` → `10M`. */
export function shortRows(rows: number): string {
  if (rows >= 1e6 && rows % 1e5 === 0) return `${rows / 1e6}M`;
  if (rows >= 1e3 && rows % 100 === 0) return `${rows / 1e3}k`;
  return String(rows);
}

function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])).join(
        " | ",
      )
    } |`;
  const rule = `| ${
    widths.map((w, i) => rightAligned[i] ? "-".repeat(w - 1) + ":" : "-".repeat(w)).join(" | ")
  } |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** Lines saying why contenders were skipped or failed. */
function whyNotRun(tools: [string, ToolFigures | undefined][]): string[] {
  const lines: string[] = [];
  for (const [name, t] of tools) {
    if (t?.status === "skipped") lines.push(`- ${name} skipped: ${t.note ?? ""}`);
    if (t?.status === "failed") lines.push(`- ${name} FAILED: ${t.error ?? ""}`);
  }
  return lines.length > 0 ? ["", ...lines] : [];
}

/** Cells of a contender: name, seconds, CPU, rows/s, MB/s, RSS, other load, ratio. */
function toolRow(name: string, t: ToolFigures | undefined, isOurs: boolean): string[] {
  if (t === undefined) return [];
  if (t.status !== "ok") {
    return [name, t.status === "skipped" ? "skipped" : "FAILED", "", "", "", "", "", ""];
  }
  return [
    name,
    t.seconds!.toFixed(2),
    t.cpuSeconds!.toFixed(2),
    `${(t.rowsPerSecond! / 1e6).toFixed(2)}M`,
    t.mbPerSecond!.toFixed(0),
    (t.peakRssBytes! / 2 ** 20).toFixed(0),
    t.otherLoad === undefined ? "" : t.otherLoad.toFixed(2),
    t.oursRatio === undefined || isOurs ? "" : t.oursRatio.toFixed(2),
  ];
}

/** Above this many cores of other work during runs, a size's figures are flagged. */
export const BUSY_CORES = 0.5;

/** A warning naming the contenders during whose runs other work used the machine. */
function busyLines(tools: [string, ToolFigures | undefined][], nproc: number): string[] {
  const busy = tools.filter(([, t]) => (t?.otherLoad ?? 0) > BUSY_CORES)
    .map(([name, t]) => `${name} (${t!.otherLoad!.toFixed(2)} cores)`);
  return busy.length > 0
    ? [
      "",
      `WARNING: other work used part of the ${nproc} cores during the runs of ${
        busy.join(", ")
      }, median of the runs: those figures are skewed.`,
    ]
    : [];
}

/** Lines saying whether the outputs agree. */
function agreementLines(size: SizeFigures): string[] {
  const out: string[] = [];
  const a = size.agreement;
  if (a.reference === undefined) {
    out.push("Outputs: nothing to compare.");
  } else {
    const tools = Object.keys(a.byTool);
    out.push(
      a.allAgree
        ? `Outputs agree: ${
          [a.reference, ...tools].join(", ")
        } (every row compared; ${a.total} impressions, expected ${a.expectedTotal}).`
        : `OUTPUTS DIFFER from ${a.reference}'s:`,
    );
    if (!a.allAgree) {
      for (const [tool, c] of Object.entries(a.byTool)) {
        if (!c.agree) {
          out.push(
            `  ${tool}: ${c.differingRows} rows differ; first: ${c.firstDifferences.join("; ")}`,
          );
        }
      }
    }
    if (a.total !== a.expectedTotal) {
      out.push(
        `Total ${a.total} is not the generator's ${a.expectedTotal} (rows − duplicates − late rows).`,
      );
    }
  }
  return out;
}

/**
 * The report as text: per size a table of the contenders, the output
 * agreement and the S3 comparison; then the targets.
 *
 * @example
 * ```ts
 * import { formatReport, type BenchReport } from "./report.ts";
 * declare const report: BenchReport;
 * console.log(formatReport(report));
 * ```
 */
export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  out.push(
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${
      (m.memTotalBytes / GIB).toFixed(1)
    } GiB RAM, Linux ${m.kernel}; Deno ${m.deno}, DuckDB ${m.duckdb ?? "-"}, pandas ${
      m.pandas ?? "-"
    }${m.python ? ` (${m.python})` : ""}, polars ${m.polars ?? "-"}${
      m.pyspark ? `, PySpark ${m.pyspark} (Java ${m.java ?? "-"})` : ""
    }, aws ${m.aws ?? "-"}; timed with ${
      m.timing === "gnu-time" ? "/usr/bin/time" : "/proc sampling"
    }; ${report.options.repeat} runs each, median (peak RSS: highest run).`,
  );
  out.push("");
  out.push(
    `Run: ${report.startedAt} to ${report.endedAt}; load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end.`,
  );
  for (const size of report.sizes) {
    out.push("");
    out.push(
      `### ${shortRows(size.rows)} rows: ${size.files} files, ${
        (size.bytes / 1e6).toFixed(0)
      } MB, ${size.duplicates} duplicates, ${size.lateRows} rows on the previous day`,
    );
    out.push("");
    const rows = LOCAL_TOOLS.map((tool) =>
      toolRow(TOOL_NAMES[tool], size.tools[tool], tool === "ours")
    ).filter((r) => r.length > 0);
    if (rows.length > 0) {
      out.push(table(
        [
          "tool",
          "seconds",
          "CPU s",
          "rows/s",
          "MB/s",
          "peak RSS MiB",
          "other load",
          "ours ÷ tool",
        ],
        rows,
        [false, true, true, true, true, true, true, true],
      ));
      out.push(...whyNotRun(LOCAL_TOOLS.map((tool) => [tool, size.tools[tool]])));
      out.push(...busyLines(LOCAL_TOOLS.map((tool) => [tool, size.tools[tool]]), m.nproc));
      out.push("");
      out.push(...agreementLines(size));
    }
    if (size.s3 !== undefined) {
      out.push("");
      if (size.s3.status === "skipped" || size.s3.status === "failed") {
        out.push(`S3 download (fauxqs on 127.0.0.1): ${size.s3.status}: ${size.s3.note ?? ""}`);
      } else {
        out.push(
          `S3 download of the same ${
            (size.s3.bytes / 1e6).toFixed(0)
          } MB from fauxqs on 127.0.0.1:`,
        );
        out.push("");
        out.push(table(
          ["tool", "seconds", "CPU s", "MB/s", "peak RSS MiB", "other load"],
          [["ours_s3", size.s3.ours], ["aws_s3", size.s3.aws], ["ours_s3_all", size.s3.oursAll]]
            .map(([k, t]) => toolRow(TOOL_NAMES[k as string], t as ToolFigures | undefined, false))
            .filter((r) => r.length > 0)
            .map((r) => [r[0], r[1], r[2], r[4], r[5], r[6]]),
          [false, true, true, true, true, true],
        ));
        out.push(...whyNotRun([
          ["ours_s3", size.s3.ours],
          ["aws_s3", size.s3.aws],
          ["ours_s3_all", size.s3.oursAll],
        ]));
        out.push("");
        out.push("(other load here includes the endpoint, which serves from the bench process.)");
      }
    }
  }
  out.push("");
  out.push("### Targets");
  out.push("");
  if (report.targets.length === 0) {
    out.push("Nothing to check.");
  } else {
    out.push(table(
      ["target", "rows", "status", "figures"],
      report.targets.map((t) => [
        `${t.name}: ${t.description}`,
        shortRows(t.rows),
        t.status,
        t.detail,
      ]),
      [false, true, false, false],
    ));
  }
  if (report.notes.length > 0) {
    out.push("");
    out.push("Notes:");
    for (const note of report.notes) out.push(`- ${note}`);
  }
  return out.join("\n");
}

if (import.meta.main) {
  if (Deno.args.length !== 1) {
    console.error("usage: deno run --allow-read bench/report.ts RESULTS.json");
    Deno.exit(2);
  }
  const report = JSON.parse(await Deno.readTextFile(Deno.args[0])) as BenchReport;
  // Targets are checked again, so that a saved report shows the current checks.
  report.targets = checkTargets(report.sizes);
  console.log(formatReport(report));
}
