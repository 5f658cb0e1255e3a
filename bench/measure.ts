/**
 * Times a whole child process the way a user or a scheduler sees it: wall
 * time from process start to exit, user + system CPU time and peak RSS,
 * all taken from the OS.
 *
 * The figures come from GNU `/usr/bin/time` (`-f "%e %U %S %M"`, written to
 * a file so they never mix with the child's own stderr). Without it, the
 * child's `/proc/<pid>` is sampled instead: wall time from the parent's
 * clock, CPU time from the last `stat` sample and peak RSS from `VmHWM`
 * (a little less exact; the result says which source was used).
 *
 * @module
 */

import type { RunFigures, ToolFigures } from "./report.ts";

/** Where GNU time lives on Debian (package `time`). */
export const GNU_TIME = "/usr/bin/time";

/** What one timed run of a command gave. */
export interface Measurement {
  /** Exit code of the command (non-zero: the run failed). */
  code: number;
  /** Wall-clock seconds from process start to exit. */
  wallSeconds: number;
  /** User CPU seconds. */
  userSeconds: number;
  /** System CPU seconds. */
  systemSeconds: number;
  /** Peak resident set size in bytes. */
  peakRssBytes: number;
  /** Where the figures come from. */
  source: "gnu-time" | "proc";
  /**
   * CPU seconds the whole machine spent busy during the run (from
   * `/proc/stat`), the command's own included; undefined when unreadable.
   */
  machineBusySeconds?: number;
  /** The command's stdout. */
  stdout: string;
  /** The command's stderr. */
  stderr: string;
}

/** A command to time. */
export interface TimedCommand {
  /** Executable (path or name found on `PATH`). */
  command: string;
  /** Arguments. */
  args: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
}

/**
 * What a part of the bench that times whole `materialize` processes on one
 * size's synthetic day needs (the S3 comparison, the reruns).
 */
export interface DayRunOptions {
  /** The day on disk: its bucket folder and files. */
  day: { root: string; files: string[]; rows: number; bytes: number };
  /** Its partition date. */
  date: string;
  /** Scratch folder of this size's bench run. */
  runDir: string;
  /** Runs of each kind. */
  repeat: number;
  /** The repository (working directory of `main.ts`). */
  repo: string;
  /** Permission flags of the `materialize` task. */
  materializeFlags: string[];
  /** Whether GNU time is there. */
  gnuTime: boolean;
  /** Progress lines. */
  progress(message: string): void;
}

/**
 * Our pipeline as a contender: `deno run FLAGS main.ts materialize ARGS` in
 * the repository `repo`, with the materialize task's permission `flags`.
 *
 * @example
 * ```ts
 * import { materializeCommand } from "./measure.ts";
 * const cmd = materializeCommand("/repo", ["--allow-read"], ["--date", "2021-01-30"]);
 * // cmd.args is ["run", "--allow-read", "main.ts", "materialize", "--date", "2021-01-30"]
 * ```
 */
export function materializeCommand(
  repo: string,
  flags: readonly string[],
  args: readonly string[],
  env: Record<string, string> = { NO_COLOR: "1" },
): TimedCommand {
  return {
    command: Deno.execPath(),
    args: ["run", ...flags, "main.ts", "materialize", ...args],
    cwd: repo,
    env,
  };
}

/** Whether GNU time is installed at {@linkcode GNU_TIME}. */
export async function hasGnuTime(): Promise<boolean> {
  try {
    const out = await new Deno.Command(GNU_TIME, {
      args: ["-f", "%e", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Parses the `%e %U %S %M` line GNU time writes.
 *
 * @example
 * ```ts
 * import { parseGnuTime } from "./measure.ts";
 * parseGnuTime("1.52 2.80 0.31 412332\n");
 * // { wallSeconds: 1.52, userSeconds: 2.8, systemSeconds: 0.31, peakRssBytes: 422227968 }
 * ```
 */
export function parseGnuTime(text: string): {
  wallSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  peakRssBytes: number;
} {
  // Lines like "Command exited with non-zero status 1" come first.
  const line = text.trim().split("\n").at(-1) ?? "";
  const parts = line.trim().split(/\s+/).map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) {
    throw new Error(`cannot read GNU time's output: ${JSON.stringify(text)}`);
  }
  const [wallSeconds, userSeconds, systemSeconds, rssKiB] = parts;
  return { wallSeconds, userSeconds, systemSeconds, peakRssBytes: rssKiB * 1024 };
}

const decoder = new TextDecoder();

/**
 * Runs `cmd` once and measures it, with GNU time when `gnuTime` is true,
 * otherwise by sampling `/proc`.
 *
 * @example
 * ```ts
 * import { hasGnuTime, measure } from "./measure.ts";
 * const m = await measure({ command: "true", args: [] }, await hasGnuTime());
 * // m.code is 0, m.wallSeconds is small
 * ```
 */
export async function measure(cmd: TimedCommand, gnuTime: boolean): Promise<Measurement> {
  const busyBefore = await machineBusyTicks();
  const m = gnuTime ? await measureWithGnuTime(cmd) : await measureWithProc(cmd);
  const busyAfter = await machineBusyTicks();
  if (busyBefore !== undefined && busyAfter !== undefined) {
    m.machineBusySeconds = (busyAfter - busyBefore) / CLOCK_TICKS;
  }
  return m;
}

/** Busy (not idle, not waiting for I/O) clock ticks of all CPUs since boot. */
async function machineBusyTicks(): Promise<number | undefined> {
  try {
    const line = (await Deno.readTextFile("/proc/stat")).split("\n")[0];
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    // user nice system idle iowait irq softirq steal
    return ticks.reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
  } catch {
    return undefined;
  }
}

async function measureWithGnuTime(cmd: TimedCommand): Promise<Measurement> {
  const timesFile = await Deno.makeTempFile({ prefix: "bench-time-" });
  try {
    const out = await new Deno.Command(GNU_TIME, {
      args: ["-f", "%e %U %S %M", "-o", timesFile, cmd.command, ...cmd.args],
      env: cmd.env,
      cwd: cmd.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = decoder.decode(out.stderr);
    let figures;
    try {
      figures = parseGnuTime(await Deno.readTextFile(timesFile));
    } catch (error) {
      // GNU time could not start the command at all.
      throw new Error(`${(error as Error).message}; stderr: ${stderr.slice(-500)}`);
    }
    return {
      code: out.code,
      ...figures,
      source: "gnu-time",
      stdout: decoder.decode(out.stdout),
      stderr,
    };
  } finally {
    await Deno.remove(timesFile).catch(() => {});
  }
}

/** Clock ticks per second of `/proc/<pid>/stat` (100 on Linux). */
const CLOCK_TICKS = 100;

async function measureWithProc(cmd: TimedCommand): Promise<Measurement> {
  const started = performance.now();
  const child = new Deno.Command(cmd.command, {
    args: cmd.args,
    env: cmd.env,
    cwd: cmd.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peakKiB = 0;
  let ticks = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      try {
        const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
        const hwm = /VmHWM:\s+(\d+)/.exec(status);
        if (hwm) peakKiB = Math.max(peakKiB, +hwm[1]);
        const stat = await Deno.readTextFile(`/proc/${child.pid}/stat`);
        // Fields after the command name in parentheses; utime and stime are 14 and 15.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks = Math.max(ticks, +fields[11] + +fields[12]);
      } catch {
        // The process is gone (or a zombie without status): stop sampling.
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const out = await child.output();
  const wallSeconds = (performance.now() - started) / 1000;
  done = true;
  await sampler;
  return {
    code: out.code,
    wallSeconds,
    userSeconds: ticks / CLOCK_TICKS,
    systemSeconds: 0,
    peakRssBytes: peakKiB * 1024,
    source: "proc",
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The figures of a run as reported: CPU is user + system; other load is
 * the CPU the rest of the machine used meanwhile, in cores.
 */
export function figuresOf(m: Measurement): RunFigures {
  const cpuSeconds = m.userSeconds + m.systemSeconds;
  return {
    code: m.code,
    wallSeconds: m.wallSeconds,
    cpuSeconds,
    peakRssBytes: m.peakRssBytes,
    otherLoad: m.machineBusySeconds === undefined || m.wallSeconds <= 0
      ? undefined
      : Math.max(0, m.machineBusySeconds - cpuSeconds) / m.wallSeconds,
  };
}

/**
 * Medians and rates of a contender's successful runs: median wall and CPU
 * seconds, the highest peak RSS, and input rows and MB per (median) second.
 *
 * @example
 * ```ts
 * import { summarize } from "./measure.ts";
 * const run = { code: 0, wallSeconds: 2, cpuSeconds: 3, peakRssBytes: 1e8 };
 * summarize([run], 1_000_000, 200e6).mbPerSecond; // 100
 * ```
 */
export function summarize(runs: RunFigures[], rows: number, bytes: number): ToolFigures {
  const seconds = median(runs.map((r) => r.wallSeconds));
  return {
    status: "ok",
    runs,
    seconds,
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    otherLoad: runs.some((r) => r.otherLoad === undefined)
      ? undefined
      : median(runs.map((r) => r.otherLoad!)),
    rowsPerSecond: rows / seconds,
    mbPerSecond: bytes / 1e6 / seconds,
  };
}
