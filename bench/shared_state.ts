/**
 * Request economy of shared state (`--state s3://...`), part `state` of
 * `deno task bench`: against a moto S3 server honouring conditional writes
 * (the one the tests use; skipped with a note without it), behind a
 * counting HTTP proxy, it measures
 *
 * - a no-op rerun of a 30-date range from a fresh machine (an empty cache
 *   dir): requests, seconds, and raw objects downloaded (must be 0);
 * - a 12-date backfill by 1, 2 and 4 local worker processes sharing the
 *   state: seconds, requests and requests per date.
 *
 * Each worker is its own `deno run` process with the `materialize` task's
 * flags and `--workers 0` (parsing on its main thread), so N workers use up
 * to N cores: on a 2-core machine the speed-up is bounded by 2.
 *
 * @module
 */

import { writeSyntheticDay } from "../scripts/synthetic_day.ts";
import { motoPython, startMotoS3 } from "../tests/_moto_server.ts";

/** Requests seen by the proxy, by kind. */
export interface RequestCounts {
  /** Every request. */
  total: number;
  /** Requests to the state prefix. */
  state: number;
  /** Requests to the data bucket (listings, HEADs, uploads, downloads). */
  data: number;
  /** GETs of raw objects (downloads). */
  rawGets: number;
}

/** One measured scenario. */
export interface StateScenario {
  /** What was run. */
  name: string;
  /** Worker processes. */
  workers: number;
  /** Dates in the range. */
  dates: number;
  /** Wall seconds from the first start to the last exit. */
  seconds: number;
  /** Requests. */
  requests: RequestCounts;
}

/** The figures of the part. */
export interface SharedStateFigures {
  /** `ok`, or `skipped` with a note. */
  status: "ok" | "skipped" | "failed";
  /** Why it was skipped or failed. */
  note?: string;
  /** Rows per synthetic day of the no-op rerun. */
  noopRowsPerDay?: number;
  /** Rows per synthetic day of the backfills. */
  rowsPerDay?: number;
  /** The scenarios. */
  scenarios: StateScenario[];
}

/** A proxy in front of the S3 endpoint that counts requests by kind. */
function countingProxy(target: string) {
  const counts: RequestCounts = { total: 0, state: 0, data: 0, rawGets: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    counts.total++;
    if (url.pathname.startsWith("/state")) counts.state++;
    if (url.pathname.startsWith("/data")) counts.data++;
    if (request.method === "GET" && /^\/data\/\d{4}\/\d\d\/\d\d\/.+\.csv/.test(url.pathname)) {
      counts.rawGets++;
    }
    const headers = new Headers(request.headers);
    headers.delete("host");
    const response = await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
    });
    return new Response(response.body, { status: response.status, headers: response.headers });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    counts,
    reset() {
      Object.assign(counts, { total: 0, state: 0, data: 0, rawGets: 0 });
    },
    stop: () => server.shutdown(),
  };
}

function dateList(first: string, count: number): string[] {
  const start = Date.parse(`${first}T00:00:00Z`);
  return Array.from(
    { length: count },
    (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10),
  );
}

/** Options for {@linkcode benchSharedState}. */
export interface SharedStateBenchOptions {
  /** Repository root. */
  repo: string;
  /** The `materialize` task's permission flags. */
  materializeFlags: string[];
  /** Work folder. */
  dir: string;
  /** Rows per synthetic day of the backfills (default 100,000). */
  rowsPerDay?: number;
  /** Rows per synthetic day of the no-op rerun (default 5,000). */
  noopRowsPerDay?: number;
  /** Told what is happening. */
  progress?: (message: string) => void;
}

/**
 * Runs the part; never throws (a failure is reported in the figures).
 *
 * @example
 * ```ts
 * import { benchSharedState } from "./shared_state.ts";
 * // const figures = await benchSharedState({ repo, materializeFlags, dir: "bench/out" });
 * ```
 */
export async function benchSharedState(
  options: SharedStateBenchOptions,
): Promise<SharedStateFigures> {
  const { python, reason } = motoPython();
  if (python === null) return { status: "skipped", note: reason, scenarios: [] };
  const rowsPerDay = options.rowsPerDay ?? 100_000;
  const noopRowsPerDay = options.noopRowsPerDay ?? 5_000;
  const say = options.progress ?? (() => {});
  const s3 = await startMotoS3();
  const proxy = countingProxy(s3.endpoint);
  const root = `${options.dir}/shared-state`;
  await Deno.remove(root, { recursive: true }).catch(() => {});
  try {
    await s3.createBucket("data");
    await s3.createBucket("state");
    const dates = dateList("2021-06-01", 30);
    const backfill = dateList("2021-07-01", 12);
    const upload = async (date: string, rows: number, seed: number) => {
      const day = await writeSyntheticDay({ root: `${root}/days`, date, rows, files: 2, seed });
      const objects: Record<string, Uint8Array> = {};
      for (const file of day.files) {
        objects[file.slice(`${root}/days/`.length)] = await Deno.readFile(file);
        await Deno.remove(file);
      }
      await s3.put("data", objects);
    };
    say(`shared state: uploading ${dates.length} days of ${noopRowsPerDay} rows`);
    for (const [i, date] of dates.entries()) await upload(date, noopRowsPerDay, i + 1);
    say(`shared state: uploading ${backfill.length} days of ${rowsPerDay} rows`);
    for (const [i, date] of backfill.entries()) await upload(date, rowsPerDay, 100 + i);
    const worker = (args: string[]) =>
      new Deno.Command("deno", {
        args: ["run", ...options.materializeFlags, `${options.repo}/main.ts`, ...args],
        env: {
          NO_COLOR: "1",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test-secret-key",
        },
        stdout: "null",
        stderr: "piped",
      }).output();
    const range = (from: string, to: string, cache: string, state: string, initials: string) => [
      "materialize",
      "--from",
      from,
      "--to",
      to,
      "--bucket",
      "s3://data",
      "--endpoint-url",
      proxy.endpoint,
      "--initials",
      initials,
      "--cache-dir",
      cache,
      "--state",
      `s3://state/${state}`,
      "--workers",
      "0",
      "--parallel",
      "1",
      "--lease-ttl",
      "10s",
    ];
    const run = async (
      name: string,
      workers: number,
      count: number,
      args: (i: number) => string[],
    ) => {
      proxy.reset();
      const started = performance.now();
      const outputs = await Promise.all(Array.from({ length: workers }, (_, i) => worker(args(i))));
      const seconds = (performance.now() - started) / 1000;
      for (const out of outputs) {
        if (!out.success) {
          throw new Error(
            `${name}: a worker failed: ${new TextDecoder().decode(out.stderr).slice(-400)}`,
          );
        }
      }
      const scenario = { name, workers, dates: count, seconds, requests: { ...proxy.counts } };
      say(`shared state: ${name}: ${seconds.toFixed(1)} s, ${scenario.requests.total} requests`);
      return scenario;
    };
    const scenarios: StateScenario[] = [];
    say("shared state: materializing 30 dates once (setup)");
    await run("setup", 1, 30, () => range(dates[0], dates[29], `${root}/setup`, "noop", "NO"));
    scenarios.push(
      await run(
        "no-op rerun of 30 dates, fresh machine",
        1,
        30,
        () => range(dates[0], dates[29], `${root}/fresh`, "noop", "NO"),
      ),
    );
    for (const workers of [1, 2, 4]) {
      scenarios.push(
        await run(
          `12-date backfill, ${workers} worker${workers > 1 ? "s" : ""}`,
          workers,
          12,
          (i) =>
            range(
              backfill[0],
              backfill[11],
              `${root}/w${workers}-${i}`,
              `backfill${workers}`,
              `W${workers}`,
            ),
        ),
      );
    }
    return { status: "ok", rowsPerDay, noopRowsPerDay, scenarios };
  } catch (error) {
    return {
      status: "failed",
      note: (error instanceof Error ? error.message : String(error)).split("\n")[0],
      scenarios: [],
    };
  } finally {
    await proxy.stop();
    await s3.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

/** The part's table, for the report. */
export function formatSharedState(figures: SharedStateFigures): string {
  if (figures.status !== "ok") return `Shared state: ${figures.status}: ${figures.note}`;
  const lines = [
    `Shared state on S3 (moto behind a counting proxy; no-op days of ${figures.noopRowsPerDay} ` +
    `rows, backfill days of ${figures.rowsPerDay} rows, 2 files a day; each worker --workers 0 ` +
    `--parallel 1)`,
    "",
    "| scenario | workers | seconds | requests | per date | state | data | raw GETs |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const base = figures.scenarios.find((s) => s.name.startsWith("12-date") && s.workers === 1);
  for (const s of figures.scenarios) {
    const speedup = base && s.name.startsWith("12-date") && s.workers > 1
      ? ` (${(base.seconds / s.seconds).toFixed(2)}x)`
      : "";
    lines.push(
      `| ${s.name} | ${s.workers} | ${s.seconds.toFixed(1)}${speedup} | ${s.requests.total} | ${
        (s.requests.total / s.dates).toFixed(1)
      } | ${s.requests.state} | ${s.requests.data} | ${s.requests.rawGets} |`,
    );
  }
  return lines.join("\n");
}
