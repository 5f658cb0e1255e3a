/**
 * Turns flags, environment variables and the profile into one options
 * object. Precedence: flags, then environment variables, then the profile,
 * then built-in defaults.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { loadProfile, type Profile } from "./config.ts";
import { dateRange, parseDate } from "./dates.ts";
import { UsageError } from "./errors.ts";

/** Everything a `materialize` or `plan` run needs. */
export interface RunOptions {
  /** Partition dates, ascending. */
  dates: string[];
  /** Bucket reference (`s3://name`, `name`, `file:///path`, `./path`). */
  bucket: string;
  /** S3-compatible endpoint, if any. */
  endpoint?: string;
  /** AWS region. */
  region?: string;
  /** Initials in result names. */
  initials: string;
  /** Key prefix of results. */
  resultsPrefix: string;
  /** Cache root. */
  cacheDir: string;
  /** Shared state (`s3://BUCKET/PREFIX`), or `undefined` for the cache dir. */
  state?: string;
  /** Lease time to live in ms (shared state). */
  leaseTtlMs: number;
  /** Recompute selected assets. */
  force: boolean;
  /** Asset selection (`--select`), or the profile's `assets`. */
  select?: string[];
  /** Dates run at once. */
  parallel: number;
  /** Stop a backfill at the first failed date. */
  failFast: boolean;
  /** Retries of transient storage errors. */
  retries: number;
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
  /** Invalid rows tolerated per day. */
  maxInvalidRows: number;
  /** Memory budget in bytes (shared by dates run at once). */
  memoryBudget: number;
  /** Parser workers per date (0: parse on the main thread). */
  workers: number;
  /** Check thresholds. */
  thresholds: Record<string, number>;
  /** `text` or `json` log lines. */
  logFormat: "text" | "json";
  /** Only errors on stderr. */
  quiet: boolean;
  /** Wait for another process's lock on a date instead of failing. */
  wait: boolean;
  /** Write an HTML report here after the run. */
  report?: string;
  /** Warehouse URL (`postgres://...`) or SQLite path. */
  warehouse?: string;
  /** Also write deduplicated rows as Parquet. */
  withRows: boolean;
  /** Flags as given, secrets removed, for the run record. */
  flags: Record<string, unknown>;
}

/** Where defaults come from outside the command line. */
export interface OptionSources {
  /** Environment variables (only the ones the tool reads are consulted). */
  env: Record<string, string | undefined>;
  /** The bucket used when none is given (the sample), or undefined. */
  defaultBucket?: string;
  /** What `today` is. */
  now?: Date;
}

/** Flags shared by `materialize` and `plan`. */
export const RUN_FLAGS = {
  date: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  bucket: { type: "string" },
  initials: { type: "string" },
  force: { type: "boolean" },
  "cache-dir": { type: "string" },
  "endpoint-url": { type: "string" },
  region: { type: "string" },
  select: { type: "string", multiple: true },
  parallel: { type: "string" },
  "fail-fast": { type: "boolean" },
  retries: { type: "string" },
  timeout: { type: "string" },
  config: { type: "string" },
  profile: { type: "string" },
  "log-format": { type: "string" },
  quiet: { type: "boolean" },
  "max-invalid-rows": { type: "string" },
  "memory-budget": { type: "string" },
  workers: { type: "string" },
  wait: { type: "boolean" },
  report: { type: "string" },
  warehouse: { type: "string" },
  "with-rows": { type: "boolean" },
  state: { type: "string" },
  "lease-ttl": { type: "string" },
  index: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Parses flags strictly; unknown flags and stray arguments are usage errors.
 *
 * @example
 * ```ts
 * import { parseFlags, RUN_FLAGS } from "./options.ts";
 * parseFlags(["--date", "2021-01-30"], RUN_FLAGS).date; // "2021-01-30"
 * ```
 */
export function parseFlags(
  args: string[],
  options: ParseArgsOptionsConfig,
): Record<string, string | boolean | string[] | undefined> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | string[] | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || +text < min || +text > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`,
    );
  }
  return +text;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * Parses a size like `1GiB`, `512MiB` or `1000000` (bytes).
 *
 * @example
 * ```ts
 * import { parseSize } from "./options.ts";
 * parseSize("1GiB"); // 1073741824
 * ```
 */
export function parseSize(text: string, what = "--memory-budget"): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] || "b").toLowerCase()];
  if (!match || unit === undefined || +match[1] * unit < 1) {
    throw new UsageError(
      `${what} must look like 1GiB, 512MiB or a number of bytes, not ${JSON.stringify(text)}`,
    );
  }
  return Math.floor(+match[1] * unit);
}

/** Parses a duration like `30s`, `500ms`, `2m` or a number of seconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match || +match[1] <= 0) {
    throw new UsageError(`${what} must look like 30s, 500ms or 2m, not ${JSON.stringify(text)}`);
  }
  const factor = match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000;
  return Math.round(+match[1] * factor);
}

/**
 * The date index of a static fan-out: `N` (0-based), or `auto` for the
 * index the orchestrator sets (`JOB_COMPLETION_INDEX` in a Kubernetes
 * Indexed Job, `AWS_BATCH_JOB_ARRAY_INDEX` in an AWS Batch array job).
 *
 * @example
 * ```ts
 * import { resolveIndex } from "./options.ts";
 * resolveIndex("auto", 12, { JOB_COMPLETION_INDEX: "3" }); // 3
 * ```
 */
export function resolveIndex(
  text: string,
  count: number,
  env: Record<string, string | undefined>,
): number {
  let value = text;
  let source = "--index";
  if (text === "auto") {
    const name = env.JOB_COMPLETION_INDEX !== undefined
      ? "JOB_COMPLETION_INDEX"
      : env.AWS_BATCH_JOB_ARRAY_INDEX !== undefined
      ? "AWS_BATCH_JOB_ARRAY_INDEX"
      : undefined;
    if (name === undefined) {
      throw new UsageError(
        "--index auto needs JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or " +
          "AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job); neither is set",
      );
    }
    value = env[name]!;
    source = name;
  }
  if (!/^\d+$/.test(value) || +value >= count) {
    throw new UsageError(
      `${source} must be a date index from 0 to ${count - 1} of --from/--to, not ${
        JSON.stringify(value)
      }`,
    );
  }
  return +value;
}

/** Checks a `--state` value: `s3://BUCKET/PREFIX`. */
export function checkStateUri(uri: string): string {
  if (
    !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9_.\/-]*)?$/.test(uri) ||
    uri.split("/").slice(3).includes("..")
  ) {
    throw new UsageError(`--state must be s3://BUCKET/PREFIX, not ${JSON.stringify(uri)}`);
  }
  return uri;
}

/** Removes a password from a URL-like value. */
export function withoutSecrets(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

function checkInitials(value: string, source: string): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    throw new UsageError(`${source} ${JSON.stringify(value)} must match [A-Za-z0-9_-]{1,32}`);
  }
  return value;
}

/**
 * Builds {@linkcode RunOptions} from parsed flags, the environment and the
 * profile.
 *
 * @example
 * ```ts
 * import { parseFlags, resolveRunOptions, RUN_FLAGS } from "./options.ts";
 * const flags = parseFlags(["--date", "2021-01-30", "--bucket", "./sample/bucket"], RUN_FLAGS);
 * const options = await resolveRunOptions(flags, { env: {} });
 * // options.dates is ["2021-01-30"], options.initials is "Guy_Fawkes"
 * ```
 */
export async function resolveRunOptions(
  flags: Record<string, string | boolean | string[] | undefined>,
  sources: OptionSources,
): Promise<RunOptions> {
  const str = (name: string) => flags[name] as string | undefined;
  const env = sources.env;
  const profile: Profile = await loadProfile({ path: str("config"), name: str("profile") });

  let dates: string[];
  if (str("date") !== undefined) {
    if (str("from") !== undefined || str("to") !== undefined) {
      throw new UsageError("use either --date or --from/--to, not both");
    }
    dates = [parseDate(str("date")!, sources.now)];
  } else if (str("from") !== undefined || str("to") !== undefined) {
    if (str("from") === undefined || str("to") === undefined) {
      throw new UsageError("--from and --to go together");
    }
    dates = dateRange(parseDate(str("from")!, sources.now), parseDate(str("to")!, sources.now));
  } else {
    throw new UsageError("--date (or --from and --to) is required, e.g. --date 2021-01-30");
  }
  if (str("index") !== undefined) {
    if (str("from") === undefined) throw new UsageError("--index needs --from and --to");
    dates = [dates[resolveIndex(str("index")!, dates.length, env)]];
  }

  const bucket = str("bucket") ?? env.IMPRESSIONS_BUCKET ?? profile.bucket ?? sources.defaultBucket;
  if (bucket === undefined || bucket === "") {
    throw new UsageError(
      "no bucket: pass --bucket s3://NAME (or a local folder) or set IMPRESSIONS_BUCKET",
    );
  }
  const endpoint = str("endpoint-url") ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ??
    profile.endpointUrl;
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    throw new UsageError(
      `--endpoint-url must be an http(s) URL, not ${JSON.stringify(withoutSecrets(endpoint))}`,
    );
  }
  const initials = str("initials") !== undefined
    ? checkInitials(str("initials")!, "--initials")
    : env.IMPRESSIONS_INITIALS !== undefined
    ? checkInitials(env.IMPRESSIONS_INITIALS, "IMPRESSIONS_INITIALS")
    : profile.initials ?? "Guy_Fawkes";
  const logFormat = str("log-format") ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(`--log-format must be text or json, not ${JSON.stringify(logFormat)}`);
  }
  const select = (flags.select as string[] | undefined) ?? profile.assets;
  const region = str("region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? profile.region;
  if (region !== undefined && !/^[a-z0-9-]{2,32}$/.test(region)) {
    throw new UsageError(`region ${JSON.stringify(region)} must look like eu-west-1`);
  }

  const hidden = new Set(["help"]);
  const recorded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) {
    if (hidden.has(key) || value === undefined) continue;
    recorded[key] = typeof value === "string" ? withoutSecrets(value) : value;
  }

  const state = str("state") ?? env.IMPRESSIONS_STATE ?? profile.state;
  if (state !== undefined) checkStateUri(state);
  const leaseTtlMs = parseDuration(str("lease-ttl") ?? "60s", "--lease-ttl");
  if (leaseTtlMs < 2000) {
    throw new UsageError(
      `--lease-ttl must be at least 2s, not ${JSON.stringify(str("lease-ttl"))}`,
    );
  }

  return {
    dates,
    bucket,
    state,
    leaseTtlMs,
    endpoint,
    region,
    initials,
    resultsPrefix: profile.resultsPrefix ?? "results",
    cacheDir: str("cache-dir") ?? profile.cacheDir ?? ".cache",
    force: flags.force === true,
    select,
    parallel: str("parallel") !== undefined
      ? integer("parallel", str("parallel")!, 1, 64)
      : profile.parallel ?? 2,
    failFast: flags["fail-fast"] === true,
    retries: str("retries") !== undefined
      ? integer("retries", str("retries")!, 0, 20)
      : profile.retries ?? 4,
    timeoutMs: str("timeout") !== undefined
      ? parseDuration(str("timeout")!, "--timeout")
      : profile.timeoutSeconds !== undefined
      ? profile.timeoutSeconds * 1000
      : undefined,
    maxInvalidRows: str("max-invalid-rows") !== undefined
      ? integer("max-invalid-rows", str("max-invalid-rows")!, 0, 1e12)
      : profile.maxInvalidRows ?? 0,
    memoryBudget: parseSize(str("memory-budget") ?? profile.memoryBudget ?? "1GiB"),
    workers: str("workers") !== undefined ? integer("workers", str("workers")!, 0, 64) : 2,
    thresholds: { ...profile.thresholds },
    logFormat,
    quiet: flags.quiet === true,
    wait: flags.wait === true,
    report: str("report"),
    warehouse: str("warehouse") ?? profile.warehouse,
    withRows: flags["with-rows"] === true,
    flags: recorded,
  };
}
