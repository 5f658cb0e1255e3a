/**
 * `deno task bench`: times our `materialize` against DuckDB, pandas and the
 * floor (reading the bytes) on the same synthetic days, side by side in one
 * run, then our S3 download against `aws s3 cp --recursive`.
 *
 * Each contender runs as a whole child process, timed from process start to
 * exit (as a user or a scheduler sees it) with GNU `/usr/bin/time`: wall
 * and CPU seconds and peak RSS, `--repeat` times (3), the median reported
 * (peak RSS: the highest run). Runs are interleaved (ours, DuckDB, pandas,
 * floor, then again) so that drift of the machine hits all alike. Every
 * output row is compared with ours. The files are read from the page cache
 * by every contender (they were just written); "cold cache" means the
 * pipeline's own cache folder is new for every run.
 *
 * ```sh
 * deno task bench [--rows 1000000,10000000] [--files 4] [--repeat 3] [--json PATH]
 *                 [--only ours,duckdb,pandas,floor,s3,reruns] [--keep] [--dir bench/out/] [--iso-times]
 * ```
 *
 * `reruns` (see `reruns.ts`): our full run, a rerun with nothing new and a
 * rerun after one new object of 1% more rows, against DuckDB's whole day.
 *
 * Needs, besides Deno: `@duckdb/node-api` (in bench/deno.json; `deno install`),
 * and for the optional parts Debian's `time`, `python3-pandas` and `awscli`
 * (each part is skipped with a note when its tool is missing; the bench
 * never installs system packages itself).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import { compareCounts } from "./compare.ts";
import {
  figuresOf,
  hasGnuTime,
  measure,
  type Measurement,
  summarize,
  type TimedCommand,
} from "./measure.ts";
import {
  type Agreement,
  type BenchReport,
  checkTargets,
  formatReport,
  LOCAL_TOOLS,
  type LocalTool,
  type RunFigures,
  type S3Figures,
  shortRows,
  type SizeFigures,
  type ToolFigures,
} from "./report.ts";
import { runS3Comparison } from "./s3_download.ts";
import { benchReruns, formatReruns, type RerunFigures } from "./reruns.ts";
import { findAws, findPandasPython, machineInfo } from "./tools.ts";
import { taskPermissionFlags } from "../scripts/task_flags.ts";

/** The partition date of every synthetic day. */
const DATE = "2021-01-30";
/** Initials in our result's name. */
const INITIALS = "BENCH";
/** pandas is skipped above this many rows (it would need more memory than there is). */
const PANDAS_MAX_ROWS = 10_000_000;
/** Parts `--only` can pick. */
const PARTS = ["ours", "duckdb", "pandas", "floor", "s3", "reruns"] as const;

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Parsed command line. */
interface BenchOptions {
  rows: number[];
  files: number;
  repeat: number;
  json?: string;
  only: string[];
  keep: boolean;
  dir: string;
  isoTimes: boolean;
}

/** Parses `1000000`, `1_000_000`, `1M` or `500k`. */
function parseRowCount(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim().replaceAll("_", ""));
  const value = match
    ? +match[1] * (match[2].toLowerCase() === "m" ? 1e6 : match[2] ? 1e3 : 1)
    : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--rows takes whole numbers like 1000000 or 10M, not ${JSON.stringify(text)}`);
  }
  return value;
}

function wholeNumber(name: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || +text < min) {
    throw new Error(`--${name} must be a whole number of at least ${min}, not ${text}`);
  }
  return +text;
}

function parseOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "1000000,10000000" },
      files: { type: "string", default: "4" },
      repeat: { type: "string", default: "3" },
      json: { type: "string" },
      only: { type: "string", default: PARTS.join(",") },
      keep: { type: "boolean", default: false },
      dir: { type: "string", default: `${REPO}/bench/out` },
      "iso-times": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(
      "Usage: deno task bench [--rows 1000000,10000000] [--files 4] [--repeat 3] [--json PATH]\n" +
        "                       [--only ours,duckdb,pandas,floor,s3,reruns] [--keep] [--dir bench/out/] [--iso-times]",
    );
    Deno.exit(0);
  }
  const only = values.only.split(",").map((s) => s.trim()).filter(Boolean);
  for (const part of only) {
    if (!(PARTS as readonly string[]).includes(part)) {
      throw new Error(`--only takes ${PARTS.join(", ")}, not ${JSON.stringify(part)}`);
    }
  }
  return {
    rows: values.rows.split(",").map(parseRowCount),
    files: wholeNumber("files", values.files, 1),
    repeat: wholeNumber("repeat", values.repeat, 1),
    json: values.json,
    only,
    keep: values.keep,
    dir: values.dir.replace(/\/$/, ""),
    isoTimes: values["iso-times"],
  };
}

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

/** A synthetic day on disk. */
interface Day {
  root: string;
  files: string[];
  rows: number;
  bytes: number;
  duplicates: number;
  lateRows: number;
}

/** The 1, 5 and 15-minute load averages. */
async function loadAverage(): Promise<string> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "");
  return text.split(" ").slice(0, 3).join(" ") || "unknown";
}

/** Free bytes on the filesystem of `dir`, or undefined when `df` cannot tell. */
async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("df", {
      args: ["-B1", "--output=avail", dir],
      stdout: "piped",
      stderr: "null",
    }).output();
    const value = +new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
    return out.success && Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Generates the day (or reuses one kept from an earlier run with the same options). */
async function ensureDay(options: BenchOptions, rows: number): Promise<Day> {
  const root = `${options.dir}/day-${rows}-${options.files}${options.isoTimes ? "-iso" : ""}`;
  const metaPath = `${root}/bench-day.json`;
  const wanted = { rows, files: options.files, isoTimes: options.isoTimes, seed: 1, date: DATE };
  try {
    const meta = JSON.parse(await Deno.readTextFile(metaPath));
    if (JSON.stringify(meta.options) === JSON.stringify(wanted)) {
      let bytes = 0;
      for (const file of meta.day.files as string[]) bytes += (await Deno.stat(file)).size;
      if (bytes === meta.day.bytes) {
        progress(`${shortRows(rows)}: reusing the day kept in ${root}`);
        return meta.day as Day;
      }
    }
  } catch {
    // Nothing kept, or not usable: generate.
  }
  await Deno.remove(root, { recursive: true }).catch(() => {});
  await Deno.mkdir(root, { recursive: true });
  const started = performance.now();
  const result = await writeSyntheticDay({
    root,
    date: DATE,
    rows,
    files: options.files,
    duplicateShare: 0.05,
    seed: 1,
    isoTimes: options.isoTimes,
  });
  progress(
    `${shortRows(rows)}: generated ${(result.bytes / 1e6).toFixed(0)} MB in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s (${result.duplicates} duplicates, ${result.lateRows} late rows)`,
  );
  const day: Day = {
    root,
    files: result.files,
    rows: result.rows,
    bytes: result.bytes,
    duplicates: result.duplicates,
    lateRows: result.lateRows,
  };
  await Deno.writeTextFile(metaPath, JSON.stringify({ options: wanted, day }, null, 2));
  return day;
}

/** The last lines of a failed command's stderr, on one line. */
function tail(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ").slice(0, 400);
}

/** Environment of every contender: no colours in logs. */
const CHILD_ENV = { NO_COLOR: "1" };

/** A local contender: how to run it and where it leaves its output. */
interface Contender {
  tool: LocalTool;
  /** Called before each run; returns the command and the output path. */
  prepare(run: number): Promise<{ cmd: TimedCommand; output?: string; cleanup?: string }>;
  /** Checks a successful run's stdout; returns an error or undefined. */
  check?(m: Measurement): string | undefined;
}

function localContenders(
  options: BenchOptions,
  day: Day,
  runDir: string,
  tools: { materializeFlags: string[]; python?: string },
): { contenders: Contender[]; skipped: Partial<Record<LocalTool, ToolFigures>> } {
  const deno = Deno.execPath();
  const contenders: Contender[] = [];
  const skipped: Partial<Record<LocalTool, ToolFigures>> = {};
  const want = (part: string) => options.only.includes(part);
  if (want("ours")) {
    const result = `${day.root}/results/${DATE.replaceAll("-", "/")}/daily_agg_${
      DATE.replaceAll("-", "")
    }_${INITIALS}.csv`;
    contenders.push({
      tool: "ours",
      async prepare(run) {
        // A fresh cache, and no published result left by the previous run.
        await Deno.remove(`${day.root}/results`, { recursive: true }).catch(() => {});
        const cache = `${runDir}/cache-ours-${run}`;
        await Deno.remove(cache, { recursive: true }).catch(() => {});
        return {
          cmd: {
            command: deno,
            args: [
              "run",
              ...tools.materializeFlags,
              "main.ts",
              "materialize",
              "--date",
              DATE,
              "--bucket",
              day.root,
              "--cache-dir",
              cache,
              "--initials",
              INITIALS,
            ],
            cwd: REPO,
            env: CHILD_ENV,
          },
          output: result,
          cleanup: cache,
        };
      },
    });
  }
  if (want("duckdb")) {
    contenders.push({
      tool: "duckdb",
      prepare(run) {
        const output = `${runDir}/duckdb-${run}.csv`;
        return Promise.resolve({
          cmd: {
            command: deno,
            args: [
              "run",
              "--allow-ffi",
              "--allow-env",
              "--allow-read",
              "--allow-write",
              "bench/duckdb_query.ts",
              "--date",
              DATE,
              "--threads",
              "2",
              "--out",
              output,
              ...day.files,
            ],
            cwd: REPO,
            env: CHILD_ENV,
          },
          output,
        });
      },
    });
  }
  if (want("pandas")) {
    if (tools.python === undefined) {
      skipped.pandas = {
        status: "skipped",
        note: "pandas does not import (apt-get install python3-pandas)",
        runs: [],
      };
    } else if (day.rows > PANDAS_MAX_ROWS) {
      skipped.pandas = {
        status: "skipped",
        note: `above ${
          shortRows(PANDAS_MAX_ROWS)
        } rows pandas needs more memory than the machine has`,
        runs: [],
      };
    } else {
      const python = tools.python;
      contenders.push({
        tool: "pandas",
        prepare(run) {
          const output = `${runDir}/pandas-${run}.csv`;
          return Promise.resolve({
            cmd: {
              command: python,
              args: ["bench/pandas_agg.py", "--date", DATE, "--out", output, ...day.files],
              cwd: REPO,
              env: CHILD_ENV,
            },
            output,
          });
        },
      });
    }
  }
  if (want("floor")) {
    contenders.push({
      tool: "floor",
      prepare() {
        return Promise.resolve({
          cmd: {
            command: deno,
            args: ["run", "--allow-read", "bench/floor.ts", ...day.files],
            cwd: REPO,
            env: CHILD_ENV,
          },
        });
      },
      check(m) {
        const [bytes, lines] = m.stdout.trim().split(" ").map(Number);
        return bytes === day.bytes && lines === day.rows + day.files.length
          ? undefined
          : `read ${bytes} bytes and ${lines} lines; expected ${day.bytes} and ${
            day.rows + day.files.length
          }`;
      },
    });
  }
  return { contenders, skipped };
}

/** Runs the local contenders, interleaved, and compares their outputs. */
async function benchLocal(
  options: BenchOptions,
  day: Day,
  runDir: string,
  tools: { materializeFlags: string[]; python?: string; gnuTime: boolean },
): Promise<{ figures: SizeFigures["tools"]; agreement: Agreement; outputsDir: string }> {
  const { contenders, skipped } = localContenders(options, day, runDir, tools);
  const runs = new Map<LocalTool, RunFigures[]>();
  const errors = new Map<LocalTool, string>();
  const outputs = new Map<LocalTool, string>();
  const label = shortRows(day.rows);
  for (let run = 1; run <= options.repeat; run++) {
    for (const contender of contenders) {
      if (errors.has(contender.tool)) continue;
      let prepared;
      try {
        prepared = await contender.prepare(run);
        const m = await measure(prepared.cmd, tools.gnuTime);
        const problem = m.code !== 0
          ? `exit code ${m.code}: ${tail(m.stderr)}`
          : contender.check?.(m);
        if (problem !== undefined) {
          errors.set(contender.tool, problem);
          progress(`${label}: ${contender.tool} run ${run} FAILED: ${problem}`);
          continue;
        }
        if (prepared.output !== undefined) {
          outputs.set(contender.tool, await Deno.readTextFile(prepared.output));
          if (prepared.output.startsWith(runDir)) await Deno.remove(prepared.output);
        }
        const figures = figuresOf(m);
        runs.set(contender.tool, [...(runs.get(contender.tool) ?? []), figures]);
        progress(
          `${label}: ${contender.tool} run ${run}/${options.repeat}: ${
            figures.wallSeconds.toFixed(2)
          } s, CPU ${figures.cpuSeconds.toFixed(2)} s, peak RSS ${
            (figures.peakRssBytes / 2 ** 20).toFixed(0)
          } MiB`,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.set(contender.tool, message);
        progress(`${label}: ${contender.tool} run ${run} FAILED: ${message}`);
      } finally {
        if (prepared?.cleanup) {
          await Deno.remove(prepared.cleanup, { recursive: true }).catch(() => {});
        }
      }
    }
  }

  const figures: SizeFigures["tools"] = { ...skipped };
  for (const contender of contenders) {
    const error = errors.get(contender.tool);
    figures[contender.tool] = error !== undefined
      ? { status: "failed", error, runs: runs.get(contender.tool) ?? [] }
      : summarize(runs.get(contender.tool) ?? [], day.rows, day.bytes);
  }
  const ours = figures.ours;
  if (ours?.status === "ok") {
    for (const tool of LOCAL_TOOLS) {
      const t = figures[tool];
      if (t?.status === "ok") t.oursRatio = ours.seconds! / t.seconds!;
    }
  }

  // Compare every output row with the first contender that produced one (ours when it ran).
  const outputsDir = `${runDir}/outputs`;
  await Deno.mkdir(outputsDir, { recursive: true });
  const produced = LOCAL_TOOLS.filter((tool) => outputs.has(tool));
  const agreement: Agreement = {
    allAgree: true,
    byTool: {},
    expectedTotal: day.rows - day.duplicates - day.lateRows,
  };
  if (produced.length > 0) {
    const reference = produced[0];
    const referenceText = outputs.get(reference)!;
    agreement.reference = reference;
    const self = compareCounts(referenceText, referenceText);
    agreement.total = self.totals.reference;
    if (!self.agree) {
      agreement.allAgree = false;
      agreement.byTool[reference] = {
        agree: false,
        identical: true,
        differingRows: 0,
        firstDifferences: self.firstDifferences,
      };
    }
    for (const tool of produced.slice(1)) {
      const c = compareCounts(referenceText, outputs.get(tool)!);
      agreement.byTool[tool] = {
        agree: c.agree,
        identical: c.identical,
        differingRows: c.differingRows,
        firstDifferences: c.firstDifferences,
      };
      if (!c.agree) agreement.allAgree = false;
    }
    if (agreement.total !== agreement.expectedTotal) agreement.allAgree = false;
    for (const tool of produced) {
      await Deno.writeTextFile(`${outputsDir}/${tool}.csv`, outputs.get(tool)!);
    }
  }
  return { figures, agreement, outputsDir };
}

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const startedAt = new Date().toISOString();
  await Deno.mkdir(options.dir, { recursive: true });
  const notes: string[] = [];

  const gnuTime = await hasGnuTime();
  if (!gnuTime) {
    notes.push(
      "GNU time is missing (apt-get install time): figures come from sampling /proc, a little less exact",
    );
  }
  const machine = await machineInfo();
  const python = options.only.includes("pandas") ? await findPandasPython() : undefined;
  if (options.only.includes("pandas") && python === undefined) {
    notes.push("pandas skipped: no python3 imports pandas (apt-get install python3-pandas)");
  }
  const aws = options.only.includes("s3") ? await findAws() : undefined;
  if (options.only.includes("s3") && aws === undefined) {
    notes.push("aws s3 cp skipped: no aws command (apt-get install awscli)");
  }
  const flags = taskPermissionFlags("materialize");

  const report: BenchReport = {
    startedAt,
    endedAt: startedAt,
    machine: {
      ...machine,
      pandas: python?.pandas,
      python: python?.command,
      aws: aws?.version,
      timing: gnuTime ? "gnu-time" : "proc",
      loadAverage: { start: await loadAverage(), end: "" },
    },
    options: {
      rows: options.rows,
      files: options.files,
      repeat: options.repeat,
      only: options.only,
      isoTimes: options.isoTimes,
      date: DATE,
    },
    notes,
    sizes: [],
    targets: [],
  };

  for (const rows of options.rows) {
    const label = shortRows(rows);
    // About 175 bytes a row; our cold cache holds one more copy of the files.
    const needed = rows * 175 * 2.2;
    const free = await freeBytes(options.dir);
    if (free !== undefined && free < needed) {
      notes.push(
        `${label}: skipped, ${(needed / 1e9).toFixed(1)} GB of disk needed in ${options.dir}, ${
          (free / 1e9).toFixed(1)
        } GB free`,
      );
      progress(notes.at(-1)!);
      continue;
    }
    const day = await ensureDay(options, rows);
    const runDir = `${options.dir}/run-${rows}`;
    await Deno.remove(runDir, { recursive: true }).catch(() => {});
    await Deno.mkdir(runDir, { recursive: true });
    let keepRunDir = options.keep;
    try {
      const size: SizeFigures = {
        rows: day.rows,
        files: day.files.length,
        bytes: day.bytes,
        duplicates: day.duplicates,
        lateRows: day.lateRows,
        tools: {},
        agreement: { allAgree: true, byTool: {}, expectedTotal: 0 },
      };
      const local = await benchLocal(options, day, runDir, {
        materializeFlags: flags,
        python: python?.command,
        gnuTime,
      });
      size.tools = local.figures;
      size.agreement = local.agreement;
      if (!local.agreement.allAgree) {
        keepRunDir = true;
        notes.push(`${label}: outputs differ; they are kept in ${local.outputsDir}`);
      }
      if (options.only.includes("s3")) {
        let s3: S3Figures;
        try {
          s3 = await runS3Comparison({
            day,
            date: DATE,
            runDir,
            repeat: options.repeat,
            repo: REPO,
            materializeFlags: flags,
            aws: aws?.command,
            gnuTime,
            progress: (message) => progress(`${label}: ${message}`),
          });
        } catch (error) {
          s3 = {
            status: "failed",
            note: (error instanceof Error ? error.message : String(error)).split("\n")[0],
            bytes: day.bytes,
          };
          progress(`${label}: S3 part FAILED: ${s3.note}`);
        }
        size.s3 = s3;
      }
      if (options.only.includes("reruns")) {
        const duckdb = local.figures.duckdb;
        (size as SizeFigures & { reruns?: RerunFigures }).reruns = await benchReruns({
          day,
          date: DATE,
          runDir,
          repeat: options.repeat,
          repo: REPO,
          materializeFlags: flags,
          gnuTime,
          duckdbSeconds: duckdb?.status === "ok" ? duckdb.seconds : undefined,
          progress: (message) => progress(`${label}: ${message}`),
        });
      }
      report.sizes.push(size);
    } finally {
      if (!keepRunDir) await Deno.remove(runDir, { recursive: true }).catch(() => {});
      if (!options.keep) {
        await Deno.remove(day.root, { recursive: true }).catch(() => {});
      }
    }
    // Print what is known so far: a long run shows its figures as it goes.
    report.targets = checkTargets(report.sizes);
    report.endedAt = new Date().toISOString();
    if (options.json) await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2));
  }

  report.targets = checkTargets(report.sizes);
  report.endedAt = new Date().toISOString();
  report.machine.loadAverage.end = await loadAverage();
  console.log(formatReport(report));
  for (const size of report.sizes as (SizeFigures & { reruns?: RerunFigures })[]) {
    if (size.reruns) console.log(`\n${formatReruns(shortRows(size.rows), size.reruns)}`);
  }
  if (options.json) {
    await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2) + "\n");
    progress(`figures written to ${options.json}`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
}
