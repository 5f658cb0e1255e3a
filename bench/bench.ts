/**
 * `deno task bench`: times our `materialize` against DuckDB, pandas, polars,
 * optionally PySpark, and the floor (reading the bytes) on the same synthetic
 * days, side by side in one run, then our S3 download against
 * `aws s3 cp --recursive`.
 *
 * Each contender runs as a whole child process, timed from process start to
 * exit (as a user or a scheduler sees it) with GNU `/usr/bin/time`: wall
 * and CPU seconds and peak RSS, `--repeat` times (3), the median reported
 * (peak RSS: the highest run). Runs are interleaved (ours, DuckDB, pandas,
 * polars, PySpark, floor, then again) so that drift of the machine hits all
 * alike. Every
 * output row is compared with ours. The files are read from the page cache
 * by every contender (they were just written); "cold cache" means the
 * pipeline's own cache folder is new for every run.
 *
 * ```sh
 * deno task bench [--rows 1000000,10000000] [--files 4] [--repeat 3] [--json PATH]
 *                 [--only ours,duckdb,pandas,polars,floor,s3,state,reruns] [--pyspark] [--keep]
 *                 [--dir bench/out/] [--iso-times]
 * ```
 *
 * `reruns` (see `reruns.ts`): our full run, a rerun with nothing new and a
 * rerun after one new object of 1% more rows, against DuckDB's whole day.
 *
 * Needs, besides Deno: `@duckdb/node-api` (in bench/deno.json; `deno install`),
 * and for the optional parts Debian's `time`, `python3-pandas` and `awscli`
 * (each part is skipped with a note when its tool is missing; the bench
 * never installs system packages itself). polars, and PySpark with
 * `--pyspark`, come from PyPI, pinned in `bench/requirements*.txt`, into
 * the bench's own virtual environment `.tools/bench-py`, which the bench
 * creates and updates itself (skipped with a note when that fails);
 * PySpark also needs the machine's Java 17 (`java` on `PATH`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Day, ensureDay } from "./day.ts";
import { compareCounts } from "./compare.ts";
import {
  type DayRunOptions,
  figuresOf,
  hasGnuTime,
  materializeCommand,
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
import { ensureBenchPython, findAws, findJava, findPandasPython, machineInfo } from "./tools.ts";
import { benchReruns, formatReruns, type RerunFigures } from "./reruns.ts";
import { taskPermissionFlags } from "../scripts/task_flags.ts";
import { benchSharedState, formatSharedState, type SharedStateFigures } from "./shared_state.ts";

/** The partition date of every synthetic day. */
const DATE = "2021-01-30";
/** Initials in our result's name. */
const INITIALS = "BENCH";
/** pandas is skipped above this many rows (it would need more memory than there is). */
const PANDAS_MAX_ROWS = 10_000_000;
/** Parts `--only` can pick. */
const PARTS = [
  "ours",
  "duckdb",
  "pandas",
  "polars",
  "pyspark",
  "floor",
  "s3",
  "state",
  "reruns",
] as const;
/** Parts run by default: PySpark is opt-in (`--pyspark`), as it is slow to start and needs Java. */
const DEFAULT_PARTS = PARTS.filter((part) => part !== "pyspark");

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The bench's own Python virtual environment (git-ignored, like the other tools). */
const BENCH_VENV = `${REPO}/.tools/bench-py`;

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
      only: { type: "string", default: DEFAULT_PARTS.join(",") },
      pyspark: { type: "boolean", default: false },
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
        "                       [--only ours,duckdb,pandas,polars,floor,s3,state,reruns] [--pyspark] [--keep]\n" +
        "                       [--dir bench/out/] [--iso-times]",
    );
    Deno.exit(0);
  }
  const only = values.only.split(",").map((s) => s.trim()).filter(Boolean);
  if (values.pyspark && !only.includes("pyspark")) only.push("pyspark");
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
  /** Corrects a successful run's measurement with what the contender reported itself. */
  adjust?(m: Measurement): void;
}

/** How the bench's Python peers can run, or why not. */
interface PeerPython {
  /** The interpreter of the bench's virtual environment, when polars imports in it. */
  polars?: string;
  /** The interpreter, when PySpark imports and Java is there. */
  pyspark?: string;
  /** Why polars cannot run. */
  polarsNote?: string;
  /** Why PySpark cannot run. */
  pysparkNote?: string;
}

function localContenders(
  options: BenchOptions,
  day: Day,
  runDir: string,
  tools: { materializeFlags: string[]; python?: string; peers: PeerPython },
): { contenders: Contender[]; skipped: Partial<Record<LocalTool, ToolFigures>> } {
  const deno = Deno.execPath();
  const contenders: Contender[] = [];
  const skipped: Partial<Record<LocalTool, ToolFigures>> = {};
  const want = (part: string) => options.only.includes(part);
  // A Python peer: `bench/TOOL_agg.py` over the day's files, writing the counts CSV.
  const pythonPeer = (
    tool: "pandas" | "polars" | "pyspark",
    python: string,
    env: Record<string, string> = {},
  ): Contender => ({
    tool,
    prepare(run) {
      const output = `${runDir}/${tool}-${run}.csv`;
      return Promise.resolve({
        cmd: {
          command: python,
          args: [`bench/${tool}_agg.py`, "--date", DATE, "--out", output, ...day.files],
          cwd: REPO,
          env: { ...CHILD_ENV, ...env },
        },
        output,
      });
    },
  });
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
          cmd: materializeCommand(REPO, tools.materializeFlags, [
            "--date",
            DATE,
            "--bucket",
            day.root,
            "--cache-dir",
            cache,
            "--initials",
            INITIALS,
          ], CHILD_ENV),
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
      contenders.push(pythonPeer("pandas", tools.python));
    }
  }
  // A peer from the bench's own environment, or a note saying why it is skipped.
  const peer = (tool: "polars" | "pyspark", python: string | undefined, note: string) => {
    if (python === undefined) skipped[tool] = { status: "skipped", note, runs: [] };
    return python;
  };
  if (want("polars")) {
    const python = peer(
      "polars",
      tools.peers.polars,
      tools.peers.polarsNote ?? "polars does not import",
    );
    if (python !== undefined) contenders.push(pythonPeer("polars", python));
  }
  if (want("pyspark")) {
    const python = peer(
      "pyspark",
      tools.peers.pyspark,
      tools.peers.pysparkNote ?? "PySpark does not import",
    );
    if (python !== undefined) {
      contenders.push({
        ...pythonPeer("pyspark", python, { SPARK_LOCAL_IP: "127.0.0.1" }),
        check(m) {
          return /^process_tree_peak_rss_kib \d+$/m.test(m.stdout)
            ? undefined
            : `no process_tree_peak_rss_kib line in its stdout: ${tail(m.stdout)}`;
        },
        adjust(m) {
          // The timer sees the largest single process (the JVM); the driver adds its own.
          const kib = +/^process_tree_peak_rss_kib (\d+)$/m.exec(m.stdout)![1];
          m.peakRssBytes = Math.max(m.peakRssBytes, kib * 1024);
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
  tools: { materializeFlags: string[]; python?: string; peers: PeerPython; gnuTime: boolean },
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
        contender.adjust?.(m);
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

/** The Python peers and the versions the report names. */
type PeerSetup = PeerPython & { versions: { polars?: string; pyspark?: string; java?: string } };

/**
 * Readies the bench's virtual environment for the Python peers that were
 * asked for, and checks Java for PySpark; notes why a peer will be skipped.
 */
async function peerPython(
  options: BenchOptions,
  notes: string[],
): Promise<PeerSetup> {
  const wantPolars = options.only.includes("polars");
  const wantPyspark = options.only.includes("pyspark");
  if (!wantPolars && !wantPyspark) return { versions: {} };
  const java = wantPyspark ? await findJava() : undefined;
  progress(`readying ${BENCH_VENV} (pip install -r bench/requirements*.txt)`);
  const py = await ensureBenchPython({
    venv: BENCH_VENV,
    requirements: [
      `${REPO}/bench/requirements.txt`,
      ...(wantPyspark ? [`${REPO}/bench/requirements-pyspark.txt`] : []),
    ],
    withPyspark: wantPyspark,
  });
  const why = py.problems.length > 0 ? ` (${py.problems.join("; ")})` : "";
  const result: PeerSetup = {
    versions: { polars: py.polars, pyspark: py.pyspark, java: java?.version },
  };
  if (wantPolars) {
    if (py.polars !== undefined) result.polars = py.command;
    else result.polarsNote = `polars does not import in ${BENCH_VENV}${why}`;
  }
  if (wantPyspark) {
    if (java === undefined) {
      result.pysparkNote =
        "no java on PATH (PySpark needs Java 17: apt-get install openjdk-17-jre-headless)";
    } else if (py.pyspark === undefined) {
      result.pysparkNote = `PySpark does not import in ${BENCH_VENV}${why}`;
    } else {
      result.pyspark = py.command;
      if (java.major !== 17) {
        notes.push(
          `PySpark runs on Java ${java.version}; Spark 3.5 is tested with Java 8, 11 and 17`,
        );
      }
    }
  }
  for (const note of [result.polarsNote, result.pysparkNote]) {
    if (note !== undefined) notes.push(`skipped: ${note}`);
  }
  return result;
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
  const peers = await peerPython(options, notes);
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
      polars: peers.versions.polars,
      pyspark: peers.versions.pyspark,
      java: peers.versions.java,
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

  // The day sizes are for the other parts; `--only state` needs none of them.
  const sizes = options.only.some((part) => part !== "state") ? options.rows : [];
  for (const rows of sizes) {
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
    const day = await ensureDay({
      dir: options.dir,
      rows,
      files: options.files,
      isoTimes: options.isoTimes,
      date: DATE,
      progress,
    });
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
        peers,
        gnuTime,
      });
      size.tools = local.figures;
      size.agreement = local.agreement;
      if (!local.agreement.allAgree) {
        keepRunDir = true;
        notes.push(`${label}: outputs differ; they are kept in ${local.outputsDir}`);
      }
      const dayRun: DayRunOptions = {
        day,
        date: DATE,
        runDir,
        repeat: options.repeat,
        repo: REPO,
        materializeFlags: flags,
        gnuTime,
        progress: (message) => progress(`${label}: ${message}`),
      };
      if (options.only.includes("s3")) {
        let s3: S3Figures;
        try {
          s3 = await runS3Comparison({ ...dayRun, aws: aws?.command });
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
          ...dayRun,
          duckdbSeconds: duckdb?.status === "ok" ? duckdb.seconds : undefined,
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

  // Shared state: request economy of --state s3://... (its own days, small).
  let sharedState: SharedStateFigures | undefined;
  if (options.only.includes("state")) {
    sharedState = await benchSharedState({
      repo: REPO,
      materializeFlags: flags,
      dir: options.dir,
      progress,
    });
  }
  report.targets = checkTargets(report.sizes);
  report.endedAt = new Date().toISOString();
  report.machine.loadAverage.end = await loadAverage();
  console.log(formatReport(report));
  if (sharedState) console.log(`\n${formatSharedState(sharedState)}`);
  for (const size of report.sizes as (SizeFigures & { reruns?: RerunFigures })[]) {
    if (size.reruns) console.log(`\n${formatReruns(shortRows(size.rows), size.reruns)}`);
  }
  if (options.json) {
    await Deno.writeTextFile(
      options.json,
      JSON.stringify({ ...report, sharedState }, null, 2) + "\n",
    );
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
