/**
 * `materialize` and `plan`: run (or plan) the selected assets for each date,
 * several dates at a time, then report per asset on stderr, published URIs
 * on stdout, and write a run record.
 *
 * @module
 */

import { ASSETS } from "../assets/mod.ts";
import type { Resources, RunParams } from "../assets/_define.ts";
import { createGraph, selectAssets } from "../materializer/graph.ts";
import { createLogger, type Logger } from "../materializer/log.ts";
import type { AssetOutcome, PartitionOutcome } from "../materializer/materialize.ts";
import { materialize, type RunResult } from "../materializer/run.ts";
import type { StateStore } from "../materializer/state.ts";
import { openConfiguredState } from "./state_option.ts";
import { openBucket } from "../resources/bucket.ts";
import type { RunOptions } from "./options.ts";
import { pausePoint } from "./pause_point.ts";
import { createProgress } from "./progress.ts";
import { formatTable } from "./table.ts";
import type { CliIO } from "./io.ts";
import { openConfiguredWarehouse } from "./warehouse_option.ts";
import { EXIT_FAILURE, EXIT_OK } from "./errors.ts";

/** Options for {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** `materialize` or `plan`. */
  command: "materialize" | "plan";
  /** Resolved options. */
  options: RunOptions;
  /** Where output goes. */
  io: CliIO;
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
  const figures = keyFigures(outcome.metadata);
  const warnings = outcome.checks.filter((c) => !c.passed)
    .map((c) => ` [${c.severity} ${c.name}: ${c.detail}]`).join("");
  return `${base}${figures ? ` (${figures})` : ""}${warnings}`;
}

function runParams(options: RunOptions): RunParams {
  const concurrentDates = Math.max(1, Math.min(options.parallel, options.dates.length));
  return {
    endpoint: options.endpoint,
    initials: options.initials,
    resultsPrefix: options.resultsPrefix,
    maxInvalidRows: options.maxInvalidRows,
    retries: options.retries,
    downloadConcurrency: 8,
    thresholds: options.thresholds,
    memoryBudget: Math.floor(options.memoryBudget / concurrentDates),
    workers: options.workers,
    withRows: options.withRows,
  };
}

/** Secret values from the environment that must never be printed. */
export function secretsOf(env: Record<string, string | undefined>): string[] {
  return ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD"]
    .map((name) => env[name])
    .filter((v): v is string => typeof v === "string" && v.length > 0);
}

/**
 * Runs or plans the dates of `options`; returns the exit code.
 *
 * @example
 * ```ts
 * import { runCommand } from "./run_command.ts";
 * // const code = await runCommand({ command: "materialize", options, io });
 * ```
 */
export async function runCommand({ command, options, io }: RunCommandOptions): Promise<number> {
  const progress = io.stderrIsTerminal && !options.quiet && options.logFormat === "text"
    ? createProgress({ write: io.stderrRaw, columns: io.columns })
    : undefined;
  const log: Logger = createLogger({
    format: options.logFormat,
    level: options.quiet ? "error" : "info",
    write: progress ? progress.line : io.stderr,
    redact: secretsOf(io.env),
  });
  const checkpoint = pausePoint(io.env);
  const selection = selectAssets(createGraph(ASSETS), options.select);
  const state: StateStore = await openConfiguredState({
    ...options,
    readOnly: command === "plan",
    log,
  });
  const bucket = await openBucket({
    bucket: options.bucket,
    endpoint: options.endpoint,
    region: options.region,
    timeoutMs: options.timeoutMs,
    retry: {
      retries: options.retries,
      onRetry: ({ attempt, delayMs, error }) =>
        log.log("warn", `retry ${attempt}/${options.retries} in ${delayMs} ms: ${error.message}`),
    },
  });
  // Opened only when a selected asset needs it; closed with the bucket.
  const warehouse = selection.some((a) => a.requires?.includes("warehouse"))
    ? await openConfiguredWarehouse({ ...options, env: io.env }).catch((error) => {
      bucket.close();
      state.close?.();
      throw error;
    })
    : undefined;
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
    result = await materialize<Resources, RunParams>({
      assets: ASSETS,
      select: options.select,
      partitions: options.dates,
      resources: { bucket, warehouse },
      params: runParams(options),
      state,
      command,
      parallel: options.parallel,
      failFast: options.failFast,
      wait: options.wait,
      force: options.force,
      flags: options.flags,
      log,
      checkpoint,
      onProgress: progress && ((date, asset, update) => progress.update(date, asset, update)),
      onAsset: (_date, a, dateLog) => {
        if (command === "materialize") {
          dateLog.log(a.status === "failed" ? "error" : "info", assetLine(a), {
            event: "asset",
            ...a,
          });
        }
      },
    });
  } finally {
    for (const [signal, handler] of signals) Deno.removeSignalListener(signal, handler);
    progress?.done();
    bucket.close();
    state.close?.();
    await warehouse?.close();
  }
  const outcomes = result.partitions;

  const failed = outcomes.filter((o) => o.status === "failed");
  if (command === "plan") {
    for (const outcome of outcomes) io.stdout(formatPlan(outcome));
    return failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
  }
  for (const outcome of outcomes) {
    for (const asset of outcome.assets) for (const uri of asset.published) io.stdout(uri);
  }
  if (options.dates.length > 1) {
    // With shared state, say which dates this worker did and which others did.
    const shared = options.state !== undefined || outcomes.some((o) => o.doneBy);
    io.stderr(formatTable(
      shared ? ["date", "status", "by", "reason"] : ["date", "status", "reason"],
      outcomes.map((o) => [
        o.partition,
        o.doneBy ? "done by another run" : o.status,
        ...(shared ? [o.doneBy ?? (o.status === "failed" ? "" : "this run")] : []),
        o.error ?? "",
      ]),
    ));
  } else if (failed.length > 0 && options.logFormat === "text") {
    io.stderr(`error: ${failed[0].error}`);
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
