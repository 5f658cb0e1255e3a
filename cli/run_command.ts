/**
 * `materialize` and `plan`: run (or plan) the selected assets for each date,
 * several dates at a time, then report per asset on stderr, published URIs
 * on stdout, and write a run record.
 *
 * @module
 */

import { DEFINITIONS } from "../assets/definitions.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { createLogger, type Logger } from "../materializer/log.ts";
import type { AssetOutcome, PartitionOutcome } from "../materializer/materialize.ts";
import { materialize, type RunResult } from "../materializer/run.ts";
import type { StateStore } from "../materializer/state.ts";
import { openConfiguredState } from "./state_option.ts";
import { redact, redactValue } from "../resources/secrets.ts";
import type { RunOptions } from "./options.ts";
import { createProgress } from "./progress.ts";
import { formatTable } from "./table.ts";
import type { CliIO } from "./io.ts";
import { EXIT_FAILURE, EXIT_OK } from "./errors.ts";
import type { RunObserver } from "./pipes_adapter.ts";

/** Options for {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** `materialize` or `plan`. */
  command: "materialize" | "plan";
  /** Resolved options. */
  options: RunOptions;
  /** Where output goes. */
  io: CliIO;
  /**
   * Called at each named point of a run (a lock taken, a cache write, an
   * upload, the run record) before going on; none by default.
   */
  checkpoint?: (name: string) => Promise<void>;
  /** Told of each asset's and each date's outcome (a Dagster Pipes session). */
  observer?: RunObserver;
}

/** Figures worth a glance, from an asset's metadata. */
export function keyFigures(metadata: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    if (key === "durationMs" || (typeof value !== "number" && typeof value !== "boolean")) continue;
    parts.push(`${key}=${value}`);
  }
  return parts.join(" ");
}

function assetLine(outcome: AssetOutcome): string {
  const seconds = (outcome.durationMs / 1000).toFixed(2);
  const base = `${outcome.asset}: ${outcome.status} in ${seconds} s`;
  if (outcome.status === "failed" || outcome.status === "skipped") {
    return `${base}: ${outcome.error}`;
  }
  // Why an asset that can work incrementally did not (`full: REASON`).
  const full = typeof outcome.metadata.full === "string" ? `full: ${outcome.metadata.full}` : "";
  const figures = [keyFigures(outcome.metadata), full].filter((f) => f !== "").join(" ");
  const warnings = outcome.checks.filter((c) => !c.passed)
    .map((c) => ` [${c.severity} ${c.name}: ${c.detail}]`).join("");
  return `${base}${figures ? ` (${figures})` : ""}${warnings}`;
}

/**
 * The secrets of a run: from the environment, and inside the URLs it was
 * given, whether by flag, variable or profile.
 *
 * @example
 * ```ts
 * import { runSecrets } from "./run_command.ts";
 * runSecrets({ endpoint: "http://u:pw-1234@minio:9000" }, {}); // ["u:pw-1234", "pw-1234"]
 * ```
 */
export function runSecrets(
  options: Partial<Pick<RunOptions, "endpoint" | "bucket" | "warehouse">>,
  env: Record<string, string | undefined>,
): string[] {
  return DEFINITIONS.secrets(options as RunOptions, env);
}

/**
 * Runs or plans the dates of `options`; returns the exit code.
 *
 * @example
 * ```ts
 * import { runCommand } from "./run_command.ts";
 * import { processIO } from "./io.ts";
 * import type { RunOptions } from "./options.ts";
 * declare const options: RunOptions;
 * const code = await runCommand({ command: "materialize", options, io: processIO() });
 * ```
 */
export async function runCommand(
  { command, options, io, checkpoint, observer }: RunCommandOptions,
): Promise<number> {
  const progress = io.stderrIsTerminal && !options.quiet && options.logFormat === "text"
    ? createProgress({ write: io.stderrRaw, columns: io.columns })
    : undefined;
  const secrets = runSecrets(options, io.env);
  const log: Logger = createLogger({
    format: options.logFormat,
    level: options.quiet ? "error" : "info",
    write: progress ? progress.line : io.stderr,
    redact: secrets,
  });
  const selection = selectAssets(createGraph(DEFINITIONS.assets), options.select);
  const assetParams = DEFINITIONS.assetParams(options, {
    concurrentPartitions: Math.min(options.parallel, options.dates.length),
  });
  const state: StateStore = await openConfiguredState({
    ...options,
    readOnly: command === "plan",
    log,
  });
  const opened = await DEFINITIONS.openResources(options, {
    selection,
    assetParams: options,
    stateDir: options.cacheDir,
    env: io.env,
    log,
  }).catch((error) => {
    state.close?.();
    throw error;
  });
  // Stopped (a pod evicted, Ctrl-C): hand held date leases back at once.
  const stop = (signal: Deno.Signal, code: number) => () => {
    log.log("warn", `${signal}: releasing held date leases and stopping`);
    state.abandon!().catch(() => {}).finally(() => Deno.exit(code));
  };
  const signals: [Deno.Signal, () => void][] = state.abandon
    ? [["SIGTERM", stop("SIGTERM", 143)], ["SIGINT", stop("SIGINT", 130)]]
    : [];
  for (const [signal, handler] of signals) Deno.addSignalListener(signal, handler);
  let result: RunResult;
  try {
    result = await materialize({
      assets: DEFINITIONS.assets,
      select: options.select,
      partitions: options.dates,
      resources: opened.resources,
      params: assetParams,
      state,
      command,
      parallel: options.parallel,
      failFast: options.failFast,
      wait: options.wait,
      force: options.force,
      flags: options.flags,
      redactRecord: (record) => redactValue(record, secrets),
      log,
      checkpoint,
      onProgress: progress && ((date, asset, update) => progress.update(date, asset, update)),
      onAsset: (date, a, dateLog) => {
        if (command === "materialize") {
          observer?.asset(date, a);
          dateLog.log(a.status === "failed" ? "error" : "info", assetLine(a), {
            event: "asset",
            ...a,
          });
        }
      },
      onPartition: (outcome) => {
        if (command === "materialize") observer?.partition(outcome);
      },
    });
  } finally {
    for (const [signal, handler] of signals) Deno.removeSignalListener(signal, handler);
    progress?.done();
    await opened.close();
    state.close?.();
  }
  const outcomes = result.partitions;

  const failed = outcomes.filter((o) => o.status === "failed");
  if (command === "plan") {
    for (const outcome of outcomes) io.stdout(redact(formatPlan(outcome), secrets));
    return failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
  }
  for (const outcome of outcomes) {
    for (const asset of outcome.assets) for (const uri of asset.published) io.stdout(uri);
  }
  if (options.dates.length > 1) {
    // With shared state, say which dates this worker did and which others did.
    const shared = options.state !== undefined || outcomes.some((o) => o.doneBy);
    io.stderr(redact(
      formatTable(
        shared ? ["date", "status", "by", "reason"] : ["date", "status", "reason"],
        outcomes.map((o) => [
          o.partition,
          o.doneBy ? "done by another run" : o.status,
          ...(shared ? [o.doneBy ?? (o.status === "failed" ? "" : "this run")] : []),
          o.error ?? "",
        ]),
      ),
      secrets,
    ));
  } else if (failed.length > 0 && options.logFormat === "text") {
    io.stderr(redact(`error: ${failed[0].error}`, secrets));
  }
  if (options.report !== undefined) {
    const { reportAfterRun } = await import("./report_command.ts");
    const shared = options.state === undefined
      ? undefined
      : await openConfiguredState({ ...options, readOnly: true });
    try {
      if (!(await reportAfterRun({ ...options, state: shared }, io))) return EXIT_FAILURE;
    } finally {
      shared?.close?.();
    }
  }
  return failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
}

/** The plan of one date: each asset, up to date or stale with its reasons. */
export function formatPlan(outcome: PartitionOutcome): string {
  const lines = [outcome.partition];
  for (const asset of outcome.assets) {
    const status = asset.status === "failed" ? `cannot plan: ${asset.error}` : asset.status;
    lines.push(`  ${asset.asset}: ${status}`);
    for (const reason of asset.reasons) lines.push(`    ${reason}`);
  }
  if (outcome.assets.length === 0 && outcome.error) lines.push(`  cannot plan: ${outcome.error}`);
  return lines.join("\n");
}
