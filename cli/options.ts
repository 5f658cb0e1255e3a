/**
 * Turns flags, environment variables and the profile into one options
 * object. Precedence: flags, then environment variables, then the profile,
 * then built-in defaults.
 *
 * Every option is a param of one of three schemas: `RUN_PARAMS` below (how
 * the runner runs: dates at once, cache, logs), and the pipeline's
 * `ASSET_PARAMS` and `RESOURCE_PARAMS` (`assets/params.ts`). The flags, the
 * profile keys and their checks, and `--help` all derive from them.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { loadProfile } from "./config.ts";
import { dateRange, parseDate } from "./dates.ts";
import { UsageError } from "./errors.ts";
import { redact } from "../resources/secrets.ts";
import { paramFlags, type ParamValues, resolveParams } from "../materializer/params.ts";
import { ALL_PARAMS } from "./run_params.ts";

/** Everything a `materialize` or `plan` run needs. */
export type RunOptions = ParamValues<typeof ALL_PARAMS> & {
  /** Partition dates, ascending. */
  dates: string[];
  /** Bucket reference (`s3://name`, `name`, `file:///path`, `./path`). */
  bucket: string;
  /** Flags as given, secrets removed, for the run record. */
  flags: Record<string, unknown>;
};

/** Where defaults come from outside the command line. */
export interface OptionSources {
  /** Environment variables (only the ones the tool reads are consulted). */
  env: Record<string, string | undefined>;
  /** The bucket used when none is given (the sample), or undefined. */
  defaultBucket?: string;
  /** What `today` is. */
  now?: Date;
}

/** Flags shared by `materialize` and `plan`: the dates, the config, and every param's flag. */
export const RUN_FLAGS: ParseArgsOptionsConfig = {
  date: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  config: { type: "string" },
  profile: { type: "string" },
  index: { type: "string" },
  help: { type: "boolean", short: "h" },
  ...paramFlags(ALL_PARAMS),
};

/**
 * Parses flags strictly; unknown flags and stray arguments are usage errors.
 * A value that looks like a negative number (`--parallel -1`) is taken as
 * the flag's value, so the flag's own check rejects it by name; a flag that
 * takes one value given twice (`--date A --date B`) is a usage error rather
 * than last-wins. Flags declared `multiple` (`--select`) stay repeatable.
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
  // `--name -1` as `--name=-1`: parseArgs would call `-1` ambiguous.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([^=]+)$/.exec(args[i])?.[1];
    if (
      name !== undefined && options[name]?.type === "string" && i + 1 < args.length &&
      /^-\d/.test(args[i + 1])
    ) {
      joined.push(`${args[i]}=${args[++i]}`);
    } else joined.push(args[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joined,
      options,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]);
  }
  const seen = new Map<string, string | undefined>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option" || options[token.name]?.multiple) continue;
    if (seen.has(token.name)) {
      const values = [seen.get(token.name), token.value]
        .filter((v) => v !== undefined).map((v) => JSON.stringify(v));
      const what = values.length === 2 ? ` (${values.join(", then ")})` : "";
      throw new FlagRepeatedError(token.rawName, what);
    }
    seen.set(token.name, token.value);
  }
  return parsed.values as Record<string, string | boolean | string[] | undefined>;
}

/** A flag that takes one value was given more than once. */
export class FlagRepeatedError extends UsageError {
  /** Builds the error for `flag` (as written), with its values if any. */
  constructor(flag: string, values: string) {
    super(`${flag} is given more than once${values}; give it once`);
    this.name = "FlagRepeatedError";
  }
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

/**
 * Builds {@linkcode RunOptions} from parsed flags, the environment and the
 * profile.
 *
 * @example
 * ```ts
 * import { parseFlags, resolveRunOptions, RUN_FLAGS } from "./options.ts";
 * const flags = parseFlags(["--date", "2021-01-30", "--bucket", "./sample/bucket"], RUN_FLAGS);
 * const options = await resolveRunOptions(flags, { env: {} });
 * options.dates; // ["2021-01-30"]
 * options.initials; // "Guy_Fawkes"
 * ```
 */
export async function resolveRunOptions(
  flags: Record<string, string | boolean | string[] | undefined>,
  sources: OptionSources,
): Promise<RunOptions> {
  const str = (name: string) => flags[name] as string | undefined;
  const profile = await loadProfile({ path: str("config"), name: str("profile") });

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
    dates = [dates[resolveIndex(str("index")!, dates.length, sources.env)]];
  }

  const values = resolveParams(ALL_PARAMS, {
    flags,
    env: sources.env,
    profile,
    defaults: sources.defaultBucket === undefined ? {} : { bucket: sources.defaultBucket },
  });
  if (values.bucket === undefined || values.bucket === "") {
    throw new UsageError(
      "no bucket: pass --bucket s3://NAME (or a local folder) or set IMPRESSIONS_BUCKET",
    );
  }

  const hidden = new Set(["help"]);
  const recorded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) {
    if (hidden.has(key) || value === undefined) continue;
    recorded[key] = typeof value === "string"
      ? redact(value)
      : Array.isArray(value)
      ? value.map((v) => redact(v))
      : value;
  }
  return { ...values, bucket: values.bucket, dates, flags: recorded };
}
