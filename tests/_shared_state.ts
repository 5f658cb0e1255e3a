/**
 * Helpers for the shared-state tests: days of raw objects seeded into an S3
 * endpoint, and the arguments of a worker using state on S3.
 *
 * @module
 */

import { csv, row } from "./_helpers.ts";
import type { TestS3 } from "./_s3_server.ts";

/** Consecutive dates from `first`, `count` of them. */
export function days(first: string, count: number): string[] {
  const start = Date.parse(`${first}T00:00:00Z`);
  return Array.from(
    { length: count },
    (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10),
  );
}

/** Two small objects per date, with a duplicate across them; `variant` changes the counts. */
export function dayObjects(date: string, variant = 0): Record<string, string> {
  const prefix = date.replaceAll("-", "/");
  const n = 3 + (Number(date.slice(8)) % 4) + variant;
  const rows = Array.from(
    { length: n },
    (_, i) =>
      row(`${date}-${i}`, `${date} ${String(i % 24).padStart(2, "0")}:10:00`, String(i % 3)),
  );
  return {
    [`${prefix}/a.csv`]: csv(...rows.slice(0, 2)),
    [`${prefix}/b.csv`]: csv(...rows.slice(1)),
  };
}

/** Seeds every date's objects into `bucket`. */
export async function seedDays(s3: TestS3, bucket: string, dates: string[]): Promise<void> {
  const objects: Record<string, string> = {};
  for (const date of dates) Object.assign(objects, dayObjects(date));
  await s3.put(bucket, objects);
}

/** The result key of a date for `initials`. */
export function resultKey(date: string, initials = "SS"): string {
  return `results/${date.replaceAll("-", "/")}/daily_agg_${
    date.replaceAll("-", "")
  }_${initials}.csv`;
}

/** `materialize` arguments of a worker using shared state. */
export function workerArgs(options: {
  endpoint: string;
  cacheDir: string;
  dates: string[];
  state?: string;
  initials?: string;
  extra?: string[];
}): string[] {
  const { dates } = options;
  return [
    "materialize",
    ...(dates.length === 1 ? ["--date", dates[0]] : ["--from", dates[0], "--to", dates.at(-1)!]),
    "--bucket",
    "s3://data",
    "--endpoint-url",
    options.endpoint,
    "--initials",
    options.initials ?? "SS",
    "--cache-dir",
    options.cacheDir,
    "--state",
    options.state ?? "s3://state/team",
    "--workers",
    "0",
    ...(options.extra ?? []),
  ];
}

/** A worker process in its own process group (so the whole group can be killed). */
export interface Worker {
  /** The process. */
  child: Deno.ChildProcess;
  /** Its pid, also its process group id. */
  pid: number;
  /** Resolves with its exit code and stderr. */
  done: Promise<{ code: number; stderr: string }>;
}

/**
 * Starts `main.ts` with `args` in a new session (`setsid`), with the tasks'
 * permissions; `prefix` runs it under another command (e.g. `ip netns exec NS`).
 * `env.PAUSE_AT` and `env.PAUSE_FILE` are not passed on as variables: with
 * them the worker runs through the test-only entry point
 * `tests/_pausing_main.ts`, which pauses at that checkpoint, writes the file,
 * and goes on when the file is removed.
 */
export function startWorker(
  args: string[],
  env: Record<string, string> = {},
  permissions: string[],
  main: string,
  prefix: string[] = [],
): Worker {
  const { PAUSE_AT, PAUSE_FILE, ...variables } = env;
  const entry = PAUSE_AT && PAUSE_FILE
    ? [new URL("./_pausing_main.ts", import.meta.url).pathname, PAUSE_AT, PAUSE_FILE]
    : [main];
  const command = [...prefix, "setsid", "deno", "run", ...permissions, ...entry, ...args];
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env: { NO_COLOR: "1", AWS_EC2_METADATA_DISABLED: "true", ...variables },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const done = child.output().then((o) => ({
    code: o.code,
    stderr: new TextDecoder().decode(o.stderr),
  }));
  return { child, pid: child.pid, done };
}

/** Waits until `path` exists (a pause point reached) or the worker ends; true when reached. */
export async function waitForFile(path: string, worker: Worker, ms = 120_000): Promise<boolean> {
  let ended = false;
  worker.done.then(() => (ended = true));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !ended) {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}
