/**
 * The command line: picks the subcommand, turns flags into options and
 * calls the materializer. Returns an exit code; never prints a stack trace
 * for an expected error.
 *
 * @module
 */

import { ASSETS } from "../assets/mod.ts";
import { ImpressionDataError } from "../engine/scan_impressions.ts";
import { HeaderError } from "../engine/columns.ts";
import { createGraph, SelectionError } from "../materializer/graph.ts";
import { LockedError } from "../materializer/lock.ts";
import { ParamError } from "../materializer/params.ts";
import { StateError, type StateStore } from "../materializer/state.ts";
import { MissingPackageError } from "../resources/npm_package.ts";
import { leasesCommand } from "./leases_command.ts";
import { sharedState, STATE_FLAGS, stateFromFlags } from "./state_option.ts";
import { StorageError } from "../resources/errors.ts";
import { redact, secretsOf } from "../resources/secrets.ts";
import { GzipError } from "../resources/gunzip.ts";
import { escapeText } from "../engine/escape_text.ts";
import { LocalIoError } from "../resources/local_io.ts";
import { WarehouseError } from "../resources/warehouse.ts";
import { cleanCache, parseAge } from "./clean_command.ts";
import { parseDate } from "./dates.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.ts";
import { formatGraph } from "./graph_command.ts";
import { HELP } from "./help.ts";
import type { CliIO } from "./io.ts";
import { parseFlags, resolveRunOptions, RUN_FLAGS } from "./options.ts";
import { runCommand } from "./run_command.ts";
import { formatTable } from "./table.ts";
import { openPipesAdapter, type PipesAdapter } from "./pipes_adapter.ts";
import { PipesContextError, PipesReportError, PipesWriterError } from "../pipes/mod.ts";

/** What the command line needs besides its arguments. */
export interface MainOptions {
  /** Output streams and environment. */
  io: CliIO;
  /** Bucket used when none is given (the sample), if any. */
  defaultBucket?: string;
  /** What `today` means (tests). */
  now?: Date;
  /**
   * Called at each named point of a `materialize` run (a lock taken, a cache
   * write, an upload, the run record) before going on; none by default.
   */
  checkpoint?: (name: string) => Promise<void>;
}

/** The subcommands. */
export const COMMANDS = [
  "materialize",
  "plan",
  "graph",
  "runs",
  "leases",
  "clean",
  "insights",
  "report",
];

/**
 * Runs a command line; returns the exit code.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * import { processIO } from "./io.ts";
 * const code = await main(["graph"], { io: processIO() });
 * ```
 */
export async function main(args: string[], options: MainOptions): Promise<number> {
  let io = options.io;
  const [command, ...rest] = args;
  let pipes: PipesAdapter | undefined;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      io.stderr(HELP.main);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (!COMMANDS.includes(command)) {
      throw new UsageError(
        `unknown command ${JSON.stringify(command)}; commands: ${COMMANDS.join(", ")}`,
      );
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stderr(HELP[command]);
      return EXIT_OK;
    }
    switch (command) {
      case "materialize":
      case "plan": {
        // Under a Dagster Pipes launcher: messages out, the context's flags in.
        pipes = command === "materialize" ? await openPipesAdapter(io) : undefined;
        if (pipes) io = pipes.io;
        const flags = parseFlags(pipes ? pipes.args(rest) : rest, RUN_FLAGS);
        const runOptions = await resolveRunOptions(flags, {
          env: io.env,
          defaultBucket: options.defaultBucket,
          now: options.now,
        });
        const code = await runCommand({
          command,
          options: runOptions,
          io,
          checkpoint: options.checkpoint,
          observer: pipes?.observer,
        });
        await pipes?.close(code);
        return code;
      }
      case "graph": {
        const flags = parseFlags(rest, { format: { type: "string" } });
        const format = (flags.format as string | undefined) ?? "text";
        if (format !== "text" && format !== "mermaid" && format !== "json") {
          throw new UsageError(
            `--format must be text, mermaid or json, not ${JSON.stringify(format)}`,
          );
        }
        io.stdout(formatGraph(createGraph(ASSETS), format));
        return EXIT_OK;
      }
      case "insights":
        return await (await import("./insights_command.ts")).insightsCommand(rest, io, options.now);
      case "report":
        return await (await import("./report_command.ts")).reportCommand(rest, io, options.now);
      case "runs":
        return await runsCommand(rest, io);
      case "leases":
        return await leasesCommand(rest, io, options.now);
      case "clean": {
        const flags = parseFlags(rest, {
          date: { type: "string" },
          "older-than": { type: "string" },
          "dry-run": { type: "boolean" },
          ...STATE_FLAGS,
        });
        const date = flags.date as string | undefined;
        const age = flags["older-than"] as string | undefined;
        if ((date === undefined) === (age === undefined)) {
          throw new UsageError("clean needs exactly one of --date D or --older-than AGE");
        }
        const removed = await cleanCache({
          cacheDir: (flags["cache-dir"] as string | undefined) ?? ".cache",
          date: date === undefined ? undefined : parseDate(date, options.now),
          olderThanMs: age === undefined ? undefined : parseAge(age),
          dryRun: flags["dry-run"] === true,
          now: options.now,
        });
        if (flags.state !== undefined || io.env.IMPRESSIONS_STATE !== undefined) {
          removed.push(
            ...await cleanSharedState(flags, io.env, {
              date: date === undefined ? undefined : parseDate(date, options.now),
              olderThanMs: age === undefined ? undefined : parseAge(age),
              dryRun: flags["dry-run"] === true,
            }),
          );
        }
        const verb = flags["dry-run"] ? "would remove" : "removed";
        io.stderr(removed.length ? `${verb}: ${removed.join(", ")}` : "nothing to remove");
        return EXIT_OK;
      }
    }
    return EXIT_USAGE;
  } catch (error) {
    // One line, whatever the message quotes (an object key may hold a line break).
    const message = escapeText(
      redact(
        error instanceof Error ? error.message : String(error),
        secretsOf({ env: io.env, values: args }),
      ),
    );
    await pipes?.close(EXIT_FAILURE, message).catch(() => {});
    if (
      error instanceof UsageError || error instanceof SelectionError ||
      error instanceof ParamError
    ) {
      io.stderr(`usage error: ${message}`);
      io.stderr(`run with --help for the flags`);
      return EXIT_USAGE;
    }
    if (
      error instanceof StorageError || error instanceof ImpressionDataError ||
      error instanceof HeaderError || error instanceof LockedError ||
      error instanceof WarehouseError || error instanceof GzipError ||
      error instanceof LocalIoError || error instanceof PipesContextError ||
      error instanceof PipesWriterError || error instanceof PipesReportError ||
      error instanceof StateError || error instanceof MissingPackageError
    ) {
      io.stderr(`error: ${message}`);
      return EXIT_FAILURE;
    }
    io.stderr(`internal error: ${message}`);
    return EXIT_FAILURE;
  }
}

/** Removes remote state of dates (never a live lease), and old run records and released leases. */
async function cleanSharedState(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
  options: { date?: string; olderThanMs?: number; dryRun: boolean },
): Promise<string[]> {
  const state = sharedState(await stateFromFlags(flags, env), "clean --state");
  try {
    const removed: string[] = [];
    const now = state.objects.storeNow();
    for (const date of await state.partitions()) {
      const old = options.olderThanMs !== undefined &&
        Date.parse(`${date}T00:00:00Z`) + 86_400_000 < now - options.olderThanMs;
      if (date !== options.date && !old) continue;
      if (!options.dryRun) await state.removePartition(date);
      removed.push(`${state.location}/${date}/`);
    }
    if (options.olderThanMs !== undefined) {
      removed.push(
        ...(await state.expire(options.olderThanMs, options.dryRun))
          .map((key) => `${state.location}/${key}`),
      );
    }
    return removed;
  } finally {
    state.close?.();
  }
}

async function runsCommand(args: string[], io: CliIO): Promise<number> {
  const show = args[0] === "show";
  const flags = parseFlags(show ? args.slice(2) : args, {
    limit: { type: "string" },
    format: { type: "string" },
    ...STATE_FLAGS,
  });
  const state = await stateFromFlags(flags, io.env);
  try {
    return await listRuns(state, show ? args[1] : undefined, flags, io);
  } finally {
    state.close?.();
  }
}

async function listRuns(
  state: StateStore,
  showId: string | undefined,
  flags: Record<string, unknown>,
  io: CliIO,
): Promise<number> {
  if (showId !== undefined) {
    if (!showId || showId.startsWith("-")) throw new UsageError("runs show needs a run id");
    const matches = (await state.listRunRecords()).filter((r) => r.runId.startsWith(showId));
    const record = matches.length === 1 ? matches[0] : null;
    if (!record) {
      throw new UsageError(
        `no single run matches ${JSON.stringify(showId)} in ${state.location}/runs`,
      );
    }
    io.stdout(JSON.stringify(record, null, 2));
    return EXIT_OK;
  }
  const format = (flags.format as string | undefined) ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--format must be text or json, not ${JSON.stringify(format)}`);
  }
  const limitText = flags.limit as string | undefined;
  if (limitText !== undefined && !/^\d+$/.test(limitText)) {
    throw new UsageError(`--limit must be a number, not ${JSON.stringify(limitText)}`);
  }
  // JSON: every record unless --limit; the table: the last 20 by default.
  const limit = limitText !== undefined ? +limitText : format === "json" ? Infinity : 20;
  const records = await state.listRunRecords(limit);
  if (format === "json") {
    io.stdout(JSON.stringify(records, null, 2));
    return EXIT_OK;
  }
  io.stdout(formatTable(
    ["run", "command", "started", "seconds", "dates", "status"],
    records.map((r) => [
      r.runId,
      r.command,
      r.startedAt,
      ((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1),
      r.partitions.length === 1
        ? r.partitions[0].partition
        : `${r.partitions[0]?.partition ?? ""}..${r.partitions.at(-1)?.partition ?? ""}`,
      r.status,
    ]),
  ));
  return EXIT_OK;
}
