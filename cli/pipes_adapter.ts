/**
 * `materialize` under a Dagster Pipes launcher: the context fills in the
 * flags not given (partition key → `--date`, selected asset keys →
 * `--select`, extras `bucket`, `initials`, `cache_dir`, `endpoint_url`,
 * `region` → their flags), each asset's outcome becomes a materialization
 * with typed metadata and our data version plus its check results, and the
 * session closes with the run's one-line error on failure. Everything
 * Pipes-specific lives in `pipes/`; this file only translates.
 *
 * @module
 */

import {
  metadataValue,
  openPipesSession,
  type PipesMetadata,
  type PipesSession,
} from "../pipes/mod.ts";
import type { AssetOutcome, PartitionOutcome } from "../materializer/materialize.ts";
import type { CliIO } from "./io.ts";
import { UsageError } from "./errors.ts";
import { redact, secretsOf } from "../resources/secrets.ts";

/** Receives outcomes as `runCommand` learns of them. */
export interface RunObserver {
  /** An asset of a date finished (any status). */
  asset(partition: string, outcome: AssetOutcome): void;
  /** A date finished (any status). */
  partition(outcome: PartitionOutcome): void;
}

/** A Pipes session seen from the CLI. */
export interface PipesAdapter {
  /** The CLI's output, moved off the stream the messages use. */
  io: CliIO;
  /** Sends the outcomes to Dagster. */
  observer: RunObserver;
  /** The arguments with the flags the context supplies added. */
  args(args: string[]): string[];
  /** Sends `closed` (with the error when `code` is not 0) and flushes. */
  close(code: number, error?: string): Promise<void>;
}

/** Extras copied to flags when the flag is not given. */
const EXTRA_FLAGS: Record<string, string> = {
  bucket: "--bucket",
  initials: "--initials",
  cache_dir: "--cache-dir",
  endpoint_url: "--endpoint-url",
  region: "--region",
};

/**
 * Removes secrets from text bound for Dagster: the one redaction of logs and
 * run records (URL user, password and query values, and the environment's
 * secret values).
 */
export function scrubber(env: Record<string, string | undefined>): (text: string) => string {
  const secrets = secretsOf({ env });
  return (text) => redact(text, secrets);
}

/** The last part of a Pipes asset key (`prefix/name` → `name`; `\/` escapes a slash). */
function assetName(key: string): string {
  const parts = key.split(/(?<!\\)\//);
  return parts[parts.length - 1].replaceAll("\\/", "/");
}

function typedMetadata(outcome: AssetOutcome): PipesMetadata {
  const metadata: PipesMetadata = { status: { type: "text", raw_value: outcome.status } };
  for (const [key, value] of Object.entries(outcome.metadata)) {
    metadata[key] = /Ms$/.test(key) && typeof value === "number"
      ? { type: "float", raw_value: value }
      : metadataValue(value);
  }
  metadata.wallMs = { type: "float", raw_value: outcome.durationMs };
  if (outcome.reasons.length > 0) metadata.reasons = { type: "json", raw_value: outcome.reasons };
  return metadata;
}

function hasFlag(args: string[], flag: string): boolean {
  return args.some((a) => a === flag || a.startsWith(`${flag}=`));
}

/**
 * Opens the Pipes session when the bootstrap variables are set; `undefined`
 * otherwise (nothing changes then).
 *
 * @example
 * ```ts
 * import { openPipesAdapter } from "./pipes_adapter.ts";
 * import { processIO } from "./io.ts";
 * const pipes = await openPipesAdapter(processIO());
 * // pipes is undefined unless DAGSTER_PIPES_CONTEXT is set
 * ```
 */
export async function openPipesAdapter(io: CliIO): Promise<PipesAdapter | undefined> {
  const session: PipesSession | undefined = await openPipesSession({
    env: io.env,
    stdout: io.stdout,
    stderr: io.stderr,
    s3: {
      endpoint: io.env.AWS_ENDPOINT_URL_S3 ?? io.env.AWS_ENDPOINT_URL,
      region: io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
    },
    scrub: scrubber(io.env),
  });
  if (!session) return undefined;
  const { context } = session;
  const keyOf = new Map<string, string>();
  for (const key of context.asset_keys ?? []) keyOf.set(assetName(key), key);
  let sent = Promise.resolve();
  let firstError: string | undefined;
  const queue = (report: () => Promise<void>) => {
    sent = sent.then(report).catch((error) => {
      firstError ??= (error as Error).message.split("\n")[0];
    });
  };
  const moved: CliIO = session.stream === "stdout"
    ? { ...io, stdout: io.stderr }
    : session.stream === "stderr"
    ? {
      ...io,
      stderr: io.stdout,
      stderrRaw: (text) => io.stdout(text.replace(/\n$/, "")),
      stderrIsTerminal: false,
    }
    : io;
  return {
    io: moved,
    args(args) {
      const out = [...args];
      if (!hasFlag(args, "--date") && !hasFlag(args, "--from") && !hasFlag(args, "--to")) {
        const range = context.partition_key_range;
        if (range && range.start !== range.end) {
          throw new UsageError(
            `a Pipes run covers one partition; got the range ${range.start}..${range.end}`,
          );
        }
        const date = context.partition_key ?? range?.start;
        if (date) out.push("--date", date);
      }
      if (!hasFlag(args, "--select") && context.asset_keys?.length) {
        out.push("--select", [...keyOf.keys()].join(","));
      }
      for (const [extra, flag] of Object.entries(EXTRA_FLAGS)) {
        const value = context.extras[extra];
        if (typeof value === "string" && value !== "" && !hasFlag(args, flag)) {
          out.push(flag, value);
        }
      }
      return out;
    },
    observer: {
      asset(partition, outcome) {
        const key = context.asset_keys ? keyOf.get(outcome.asset) : outcome.asset;
        const line = `${partition} ${outcome.asset}: ${outcome.status}${
          outcome.error ? `: ${outcome.error}` : ""
        }`;
        const failed = outcome.status === "failed" || outcome.status === "skipped";
        queue(() => session.log(line, failed ? "ERROR" : "INFO"));
        if (key === undefined || failed) return;
        queue(() =>
          session.reportAssetMaterialization({
            assetKey: key,
            dataVersion: outcome.dataVersion,
            metadata: typedMetadata(outcome),
          })
        );
        for (const check of outcome.checks) {
          queue(() =>
            session.reportAssetCheck({
              assetKey: key,
              checkName: check.name,
              passed: check.passed,
              severity: check.severity === "warn" ? "WARN" : "ERROR",
              metadata: { detail: { type: "text", raw_value: check.detail } },
            })
          );
        }
      },
      partition(outcome) {
        if (outcome.status === "failed") firstError ??= outcome.error;
      },
    },
    async close(code, error) {
      await sent;
      const message = error ?? (code === 0 ? undefined : firstError ?? `exit code ${code}`);
      await session.close(
        message === undefined ? undefined : {
          name: "MaterializeError",
          message,
          stack: [],
          cause: null,
          context: null,
        },
      );
    },
  };
}
