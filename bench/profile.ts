/**
 * `deno run -A bench/profile.ts`: where the time of one `materialize` goes, by
 * phase, on a synthetic day (10M rows by default).
 *
 * Method: the same command the bench times (the materialize task's
 * permission flags, a new cache folder, the local-folder bucket) is run
 * twice: once plain, timed with GNU `/usr/bin/time` (the reference wall
 * time), and once under V8's sampling CPU profiler (`deno run --cpu-prof`),
 * which writes one profile per thread (the main thread and every scan
 * worker). Each sample (about one per millisecond per thread) is put in one
 * phase by the first frame of its stack, from the leaf up, that belongs to
 * a phase's source file (see {@linkcode PHASE_RULES}); the main thread's
 * samples before the run starts (the run record's `startedAt`) are
 * start-up, and so are a worker's samples before its first task. Samples
 * measure a thread's time while it is not idle (on a busy machine that is
 * more than its CPU time), so per phase the table gives the sampled seconds
 * of all threads, their share, that share of the profiled run's CPU time
 * (from `/usr/bin/time`), and when, on the run's
 * timeline (seconds since the process was spawned), its first and last
 * samples fell. Idle samples and the profiler's own wait in new workers are
 * left out. The per-asset wall times come from the run record.
 *
 * ```sh
 * deno run -A bench/profile.ts [--rows 10000000] [--files 4] [--dir bench/out] [--keep]
 *                              [--json PATH]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ensureDay } from "./day.ts";
import { hasGnuTime, materializeCommand, measure } from "./measure.ts";
import { shortRows } from "./report.ts";
import { taskPermissionFlags } from "../scripts/task_flags.ts";

const DATE = "2021-01-30";
const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The phases, in the order of the table. */
export const PHASES = [
  "start-up (Deno, modules, run lock, creating workers)",
  "listing",
  "copying objects into the cache",
  "reading the cached files",
  "splitting lines (CSV scanner, WebAssembly kernel)",
  "parsing fields (trim, datetime, campaign)",
  "hashing keys",
  "dedupe: hashes into partitions (workers)",
  "dedupe: partitions deduplicated",
  "dedupe in blocks: sorted by bucket, first of each key kept (workers)",
  "key segment: written (workers)",
  "per-row hour and campaign columns (workers)",
  "messages between threads",
  "writing deduped_impressions' cache entry",
  "counting",
  "publishing",
  "progress display",
  "garbage collection",
  "other",
] as const;
/** One of {@linkcode PHASES}. */
export type Phase = typeof PHASES[number];
const STARTUP: Phase = "start-up (Deno, modules, run lock, creating workers)";
const SPLITTING: Phase = "splitting lines (CSV scanner, WebAssembly kernel)";

/**
 * Source files (base names) and, where a file holds more than one phase,
 * function names, that put a sample in a phase. The first frame of a
 * sample's stack, from the leaf up, that matches a rule decides (rules in
 * order); a WebAssembly frame is the CSV kernel.
 */
export const PHASE_RULES: readonly { phase: Phase; files: string[]; functions?: string[] }[] = [
  { phase: "hashing keys", files: ["hash128.ts"] },
  { phase: "dedupe: hashes into partitions (workers)", files: ["key_partitions.ts"] },
  { phase: "dedupe: partitions deduplicated", files: ["dedupe.ts", "kept_rows.ts"] },
  { phase: "key segment: written (workers)", files: ["dedupe_blocks.ts"], functions: ["writeAt"] },
  {
    phase: "dedupe in blocks: sorted by bucket, first of each key kept (workers)",
    files: ["key_index.ts", "dedupe_blocks.ts"],
  },
  { phase: SPLITTING, files: ["csv_reader.ts", "csv_kernel.ts", "csv_kernel_wasm.ts"] },
  {
    phase: "parsing fields (trim, datetime, campaign)",
    files: ["datetime.ts", "campaign.ts", "columns.ts", "scan_impressions.ts", "read_header.ts"],
  },
  { phase: "counting", files: ["hourly_counts.ts", "hourly_campaign_counts.ts"] },
  { phase: "publishing", files: ["published_csv.ts", "_publish.ts"] },
  { phase: "listing", files: ["raw_partition.ts"], functions: ["listPartition", "observe"] },
  { phase: "listing", files: ["local_bucket.ts"], functions: ["list"] },
  { phase: "copying objects into the cache", files: ["raw_partition.ts"] },
  { phase: "copying objects into the cache", files: ["cache.ts"], functions: ["copyFile"] },
  {
    phase: "reading the cached files",
    files: ["scan_task.ts"],
    functions: ["readRange", "readNext", "open"],
  },
  { phase: "reading the cached files", files: ["object_file.ts"] },
  { phase: "per-row hour and campaign columns (workers)", files: ["scan_task.ts"] },
  { phase: STARTUP, files: ["lock.ts"] },
  { phase: STARTUP, files: ["scan_pool.ts"], functions: ["#spawn"] },
  {
    phase: "messages between threads",
    files: ["scan_pool.ts", "scan_worker.ts", "13_message_port.js"],
  },
  { phase: "writing deduped_impressions' cache entry", files: ["day_scan.ts", "cache.ts"] },
  { phase: "progress display", files: ["deduped_impressions.ts"], functions: ["onProgress"] },
  { phase: "progress display", files: ["progress.ts", "progress_bar.ts"] },
];

/** A V8 `.cpuprofile` (the parts read here). */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One frame: file base name and function name. */
interface Frame {
  file: string;
  fn: string;
}

/**
 * Per phase: seconds of samples (a thread's time while not idle, which is
 * more than its CPU time when the machine is busy) and the first and last
 * sample's time (s since spawn).
 */
export interface PhaseFigures {
  cpuSeconds: number;
  from?: number;
  to?: number;
}

/** What {@linkcode attribute} found in a run's profiles. */
export interface Attribution {
  phases: Record<Phase, PhaseFigures>;
  /** Busy CPU seconds per thread (idle and the profiler's wait left out). */
  threads: Record<string, number>;
  /** Samples left out: idle, and the profiler's wait in new workers. */
  idleSeconds: number;
  profilerWaitSeconds: number;
}

function phaseOfFrame(frame: Frame): Phase | undefined {
  for (const rule of PHASE_RULES) {
    if (!rule.files.includes(frame.file)) continue;
    if (rule.functions === undefined || rule.functions.includes(frame.fn)) return rule.phase;
  }
  if (frame.fn.startsWith("wasm-function")) return SPLITTING;
  return undefined;
}

/** Base name of a frame's URL; empty for native frames and ops. */
function baseName(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

/**
 * Puts every sample of the profiles in a phase.
 *
 * `profiles` maps a thread name (`main`, `worker-1`, ...) to its profile;
 * `runStartsAt` is when the run started, in microseconds on the profiles'
 * clock, and `spawnedAt` when the process was spawned on the same clock.
 *
 * @example
 * ```ts
 * import { attribute } from "./profile.ts";
 * const empty = { nodes: [], startTime: 0, endTime: 0, samples: [], timeDeltas: [] };
 * attribute({ main: empty }, 0, 0).threads.main; // 0
 * ```
 */
export function attribute(
  profiles: Record<string, CpuProfile>,
  runStartsAt: number,
  spawnedAt: number,
): Attribution {
  const phases = Object.fromEntries(PHASES.map((p) => [p, { cpuSeconds: 0 }])) as Record<
    Phase,
    PhaseFigures
  >;
  const threads: Record<string, number> = {};
  let idle = 0;
  let profilerWait = 0;
  for (const [thread, profile] of Object.entries(profiles)) {
    const parent = new Map<number, number>();
    const frames = new Map<number, Frame>();
    for (const node of profile.nodes) {
      frames.set(node.id, {
        file: baseName(node.callFrame.url),
        fn: node.callFrame.functionName,
      });
      for (const child of node.children ?? []) parent.set(child, node.id);
    }
    const cache = new Map<number, Phase | "idle" | "wait" | undefined>();
    const classify = (leaf: number): Phase | "idle" | "wait" | undefined => {
      if (cache.has(leaf)) return cache.get(leaf);
      let result: Phase | "idle" | "wait" | undefined;
      const leafFrame = frames.get(leaf)!;
      if (leafFrame.fn === "(idle)") result = "idle";
      else if (leafFrame.fn === "op_worker_maybe_wait_for_debugger") result = "wait";
      else if (leafFrame.fn === "(garbage collector)") result = "garbage collection";
      else {
        for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
          result = phaseOfFrame(frames.get(id)!);
          if (result !== undefined) break;
        }
      }
      cache.set(leaf, result);
      return result;
    };
    // A worker boots until its first sample in a phase: start-up.
    let booting = thread !== "main";
    let t = profile.startTime;
    let busy = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i];
      t += dt;
      const leaf = profile.samples[i];
      let phase = classify(leaf);
      if (phase === "idle") {
        idle += dt;
        continue;
      }
      if (phase === "wait") {
        profilerWait += dt;
        continue;
      }
      busy += dt;
      if (thread === "main") {
        if (t < runStartsAt) phase = STARTUP;
      } else if (booting) {
        if (phase !== undefined && phase !== "garbage collection") booting = false;
        else phase = STARTUP;
      }
      const figures = phases[phase ?? "other"];
      figures.cpuSeconds += dt / 1e6;
      const at = (t - spawnedAt) / 1e6;
      figures.from = Math.min(figures.from ?? at, at);
      figures.to = Math.max(figures.to ?? at, at);
    }
    threads[thread] = busy / 1e6;
  }
  return { phases, threads, idleSeconds: idle / 1e6, profilerWaitSeconds: profilerWait / 1e6 };
}

/** One materialize run's figures. */
interface RunResult {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** Seconds from spawn to the run record's start. */
  startupSeconds: number;
  /** Per asset wall seconds, from the run record. */
  assets: { asset: string; seconds: number; metadata: Record<string, unknown> }[];
}

async function runMaterialize(options: {
  root: string;
  cache: string;
  flags: string[];
  extra: string[];
  gnuTime: boolean;
}): Promise<RunResult> {
  await Deno.remove(`${options.root}/results`, { recursive: true }).catch(() => {});
  await Deno.remove(options.cache, { recursive: true }).catch(() => {});
  const spawned = Date.now();
  const m = await measure(
    materializeCommand(REPO, [...options.extra, ...options.flags], [
      "--date",
      DATE,
      "--bucket",
      options.root,
      "--cache-dir",
      options.cache,
      "--initials",
      "BENCH",
    ]),
    options.gnuTime,
  );
  if (m.code !== 0) throw new Error(`materialize failed: ${m.stderr.trim().split("\n").at(-1)}`);
  const runs = [...Deno.readDirSync(`${options.cache}/runs`)].map((e) => e.name).sort();
  const record = JSON.parse(Deno.readTextFileSync(`${options.cache}/runs/${runs.at(-1)}`));
  return {
    wallSeconds: m.wallSeconds,
    cpuSeconds: m.userSeconds + m.systemSeconds,
    peakRssBytes: m.peakRssBytes,
    startupSeconds: (Date.parse(record.startedAt) - spawned) / 1000,
    assets: record.partitions[0].assets.map((
      a: { asset: string; durationMs: number; metadata: Record<string, unknown> },
    ) => ({ asset: a.asset, seconds: a.durationMs / 1000, metadata: a.metadata })),
  };
}

/** Reads the profiles a `--cpu-prof` run wrote: `main` and `worker-N`. */
async function readProfiles(dir: string): Promise<Record<string, CpuProfile>> {
  const profiles: Record<string, CpuProfile> = {};
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".cpuprofile")) continue;
    const worker = /\.(worker-\d+)\.cpuprofile$/.exec(entry.name);
    profiles[worker ? worker[1] : "main"] = JSON.parse(
      await Deno.readTextFile(`${dir}/${entry.name}`),
    );
  }
  if (profiles.main === undefined) throw new Error(`no main-thread profile in ${dir}`);
  return profiles;
}

/** The Markdown tables of a profile. */
export function formatProfile(result: {
  rows: number;
  bytes: number;
  plain: RunResult;
  profiled: RunResult;
  attribution: Attribution;
}): string {
  const { plain, profiled, attribution } = result;
  const out: string[] = [];
  const total = Object.values(attribution.phases).reduce((s, p) => s + p.cpuSeconds, 0);
  out.push(
    `${shortRows(result.rows)} rows, ${(result.bytes / 1e6).toFixed(0)} MB: plain run ${
      plain.wallSeconds.toFixed(2)
    } s wall, ${plain.cpuSeconds.toFixed(2)} s CPU, peak RSS ${
      (plain.peakRssBytes / 2 ** 20).toFixed(0)
    } MiB; profiled run ${profiled.wallSeconds.toFixed(2)} s wall, ${
      profiled.cpuSeconds.toFixed(2)
    } s CPU.`,
  );
  out.push("");
  out.push(
    "| phase | sampled s (all threads) | share | ≈ CPU s | first sample at s | last sample at s |",
  );
  out.push("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const phase of PHASES) {
    const p = attribution.phases[phase];
    const share = p.cpuSeconds / total;
    out.push(
      `| ${phase} | ${p.cpuSeconds.toFixed(2)} | ${(100 * share).toFixed(1)}% | ${
        (share * profiled.cpuSeconds).toFixed(2)
      } | ${p.from?.toFixed(2) ?? ""} | ${p.to?.toFixed(2) ?? ""} |`,
    );
  }
  out.push(
    `| total | ${total.toFixed(2)} | 100% | ${profiled.cpuSeconds.toFixed(2)} | | ${
      profiled.wallSeconds.toFixed(2)
    } |`,
  );
  out.push("");
  out.push(
    `Sampled seconds by thread: ${
      Object.entries(attribution.threads).sort().map(([t, s]) => `${t} ${s.toFixed(2)}`).join(
        ", ",
      )
    }; left out: idle ${attribution.idleSeconds.toFixed(2)} s, the profiler's wait in new workers ${
      attribution.profilerWaitSeconds.toFixed(2)
    } s.`,
  );
  out.push("");
  out.push("| wall time (run record) | plain run s | profiled run s |");
  out.push("| --- | ---: | ---: |");
  out.push(
    `| start-up (spawn to run start) | ${plain.startupSeconds.toFixed(2)} | ${
      profiled.startupSeconds.toFixed(2)
    } |`,
  );
  for (let i = 0; i < plain.assets.length; i++) {
    out.push(
      `| ${plain.assets[i].asset} | ${plain.assets[i].seconds.toFixed(2)} | ${
        profiled.assets[i]?.seconds.toFixed(2) ?? ""
      } |`,
    );
  }
  out.push(
    `| whole process | ${plain.wallSeconds.toFixed(2)} | ${profiled.wallSeconds.toFixed(2)} |`,
  );
  return out.join("\n");
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string", default: "10000000" },
      files: { type: "string", default: "4" },
      dir: { type: "string", default: `${REPO}/bench/out` },
      keep: { type: "boolean", default: false },
      json: { type: "string" },
    },
    strict: true,
  });
  const rows = +values.rows.replace(/_/g, "").replace(/[mM]$/, "000000");
  if (!Number.isSafeInteger(rows) || rows < 1) {
    throw new Error(`--rows takes a whole number like 10000000 or 10M, not ${values.rows}`);
  }
  const dir = values.dir.replace(/\/$/, "");
  const progress = (message: string) => console.error(`profile: ${message}`);
  const day = await ensureDay({
    dir,
    rows,
    files: +values.files,
    isoTimes: false,
    date: DATE,
    progress,
  });
  const flags = taskPermissionFlags("materialize");
  const gnuTime = await hasGnuTime();
  const work = `${dir}/profile-${rows}`;
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${work}/cpu`, { recursive: true });
  try {
    progress(`${shortRows(rows)}: plain run`);
    const plain = await runMaterialize({
      root: day.root,
      cache: `${work}/cache-plain`,
      flags,
      extra: [],
      gnuTime,
    });
    progress(`${shortRows(rows)}: profiled run (--cpu-prof)`);
    const profiled = await runMaterialize({
      root: day.root,
      cache: `${work}/cache-profiled`,
      flags,
      extra: ["--cpu-prof", `--cpu-prof-dir=${work}/cpu`],
      gnuTime,
    });
    const profiles = await readProfiles(`${work}/cpu`);
    // The main profile starts as the process starts: its clock's origin is the spawn.
    const spawnedAt = profiles.main.startTime;
    const runStartsAt = spawnedAt + profiled.startupSeconds * 1e6;
    const attribution = attribute(profiles, runStartsAt, spawnedAt);
    const text = formatProfile({ rows, bytes: day.bytes, plain, profiled, attribution });
    console.log(text);
    if (values.json) {
      await Deno.writeTextFile(
        values.json,
        JSON.stringify({ rows, bytes: day.bytes, plain, profiled, attribution }, null, 2) + "\n",
      );
    }
  } finally {
    if (!values.keep) {
      await Deno.remove(work, { recursive: true }).catch(() => {});
      await Deno.remove(day.root, { recursive: true }).catch(() => {});
    }
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`profile: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
}
