/**
 * The library entry point: materialize (or plan) a selection of assets for
 * many partitions, a few at a time, each under its partition's lock, and
 * record the run. The CLI, the tests and other runners call this; it opens
 * nothing itself: resources, params and the state come from the caller.
 *
 * @module
 */

import type { AnyAsset, ProgressUpdate } from "./asset.ts";
import { mapConcurrent } from "./concurrency.ts";
import { createGraph, selectAssets } from "./graph.ts";
import { createLogger, type Logger } from "./log.ts";
import {
  type AssetOutcome,
  errorLine,
  materializePartition,
  type PartitionOutcome,
} from "./materialize.ts";
import { newRunId, RUN_RECORD_FORMAT, type RunRecord } from "./runs.ts";
import { LockedError } from "./lock.ts";
import { DoneElsewhereError, type PartitionLock, type StateStore } from "./state.ts";

/** Options for {@linkcode materialize}. */
export interface RunOptions<R, P> {
  /** Every asset of the pipeline, in any order. */
  assets: readonly AnyAsset[];
  /** Selection expressions (`name`, `+name`, `name+`); the default selection when absent. */
  select?: readonly string[];
  /** Partition dates, `YYYY-MM-DD`. */
  partitions: readonly string[];
  /** Storage and services the assets use. */
  resources: R;
  /** Run-wide settings. */
  params: P;
  /** Where manifests, run records, locks and scratch live. */
  state: StateStore;
  /** `materialize` (default) or `plan`: plan takes no lock and writes no record. */
  command?: "materialize" | "plan";
  /** Partitions run at once (default 1). */
  parallel?: number;
  /** Stop starting partitions after the first failure. */
  failFast?: boolean;
  /** Wait for another process's lock on a partition instead of failing it. */
  wait?: boolean;
  /** In a range, how often dates held by others are looked at again, ms (default 500). */
  pollMs?: number;
  /** Recompute every selected asset. */
  force?: boolean;
  /** Run id (a new one by default). */
  runId?: string;
  /** Flags as given (secrets removed), kept in the run record. */
  flags?: Record<string, unknown>;
  /** Removes secrets from the run record before it is written (e.g. from error text). */
  redactRecord?: (record: RunRecord) => RunRecord;
  /** Where assets log (nothing by default). */
  log?: Logger;
  /** Called when an asset of a partition finishes. */
  onAsset?: (partition: string, outcome: AssetOutcome, log: Logger) => void;
  /** Called when a partition ends, with its outcome. */
  onPartition?: (outcome: PartitionOutcome) => void;
  /** Called with assets' progress. */
  onProgress?: (partition: string, asset: string, update: ProgressUpdate) => void;
  /** Called at named points (`locked:DATE`, `run-record`, and the partition's own). */
  checkpoint?: (name: string) => Promise<void>;
}

/** What {@linkcode materialize} returns. */
export interface RunResult {
  /** The run record (written to the state for `materialize`). */
  record: RunRecord;
  /** Per partition, in the order given. */
  partitions: PartitionOutcome[];
  /** Whether any partition failed. */
  failed: boolean;
}

/**
 * Materializes (or plans) the selected assets for each partition.
 *
 * @example
 * ```ts
 * import { materialize } from "./run.ts";
 * import { defineAsset } from "./asset.ts";
 * import { jsonIO } from "./io.ts";
 * import { localState } from "./state.ts";
 * const answer = defineAsset({
 *   name: "answer",
 *   deps: {},
 *   codeVersion: "1",
 *   defaultSelected: true,
 *   io: jsonIO<number>(),
 *   compute: () => Promise.resolve(42),
 * });
 * const { failed, partitions } = await materialize({
 *   assets: [answer],
 *   partitions: ["2021-01-30", "2021-01-31"],
 *   resources: {},
 *   params: {},
 *   state: localState(await Deno.makeTempDir()),
 * });
 * failed; // false
 * partitions.map((p) => p.status); // ["materialized", "materialized"]
 * ```
 */
export async function materialize<R, P>(options: RunOptions<R, P>): Promise<RunResult> {
  const command = options.command ?? "materialize";
  const log = options.log ?? createLogger({ level: "error", write: () => {} });
  const selection = selectAssets(createGraph(options.assets), options.select);
  const startedAt = new Date();
  const runId = options.runId ?? newRunId(startedAt);
  let stop = false;
  const range = options.partitions.length > 1;
  // `waited`: a later round for a date another worker held.
  const runOne = async (
    partition: string,
    wait: boolean,
    waited = false,
  ): Promise<PartitionOutcome | "held"> => {
    const partitionLog = log.child({ date: partition });
    if (stop) return { partition, status: "failed", assets: [], error: "not run (--fail-fast)" };
    let lock: PartitionLock | undefined;
    let didWork = false;
    try {
      if (command === "materialize") {
        try {
          lock = await options.state.lock(partition, {
            wait,
            runId,
            // In a range, a date another worker finished during this run is not looked at again.
            doneSince: range && !options.force ? startedAt.toISOString() : undefined,
          });
        } catch (error) {
          if (error instanceof DoneElsewhereError) {
            partitionLog.log("info", `done by run ${error.runId} during this run`);
            const done: PartitionOutcome = {
              partition,
              status: "up to date",
              assets: [],
              doneBy: error.runId,
            };
            options.onPartition?.(done);
            return done;
          }
          // In a range, a date another worker holds is done after the free ones.
          if (range && !wait && error instanceof LockedError) {
            if (!waited) partitionLog.log("info", `${errorLine(error)}; doing free dates first`);
            return "held";
          }
          throw error;
        }
        await options.checkpoint?.(`locked:${partition}`);
        // Holding the partition's lock: what dead runs left half-written goes.
        const leftovers = await options.state.removeLeftovers(partition);
        if (leftovers > 0) {
          partitionLog.log("info", `removed ${leftovers} temporary files of dead processes`);
        }
      }
      const outcome = await materializePartition({
        selection,
        partition,
        runId,
        state: options.state,
        resources: options.resources,
        params: options.params,
        log: partitionLog,
        force: options.force,
        plan: command === "plan",
        checkpoint: options.checkpoint,
        fence: lock?.check,
        onProgress: options.onProgress &&
          ((asset, update) => options.onProgress!(partition, asset, update)),
        onAsset: options.onAsset &&
          ((outcome) => options.onAsset!(partition, outcome, partitionLog)),
      });
      const done = lock?.predecessor?.done;
      if (
        outcome.status === "up to date" && done && done.runId !== runId &&
        (wait || waited || done.at >= startedAt.toISOString())
      ) outcome.doneBy = done.runId;
      didWork = outcome.status === "materialized";
      if (outcome.status === "failed" && options.failFast) stop = true;
      options.onPartition?.(outcome);
      return outcome;
    } catch (error) {
      if (options.failFast) stop = true;
      const message = errorLine(error);
      partitionLog.log("error", message);
      const failed: PartitionOutcome = { partition, status: "failed", assets: [], error: message };
      options.onPartition?.(failed);
      return failed;
    } finally {
      await lock?.(didWork);
    }
  };
  const parallel = Math.max(1, options.parallel ?? 1);
  const first = await mapConcurrent(
    options.partitions,
    parallel,
    (partition) => runOne(partition, options.wait ?? false),
  );
  // Dates held by other workers: look at each again, round after round,
  // until it is done or its lease expires (then it is taken over).
  const held = options.partitions.filter((_, i) => first[i] === "held");
  const laterBy = new Map<string, PartitionOutcome>();
  for (let pending = held; pending.length > 0;) {
    const still: string[] = [];
    await mapConcurrent(pending, parallel, async (partition) => {
      const outcome = await runOne(partition, false, true);
      if (outcome === "held") still.push(partition);
      else laterBy.set(partition, outcome);
    });
    pending = held.filter((p) => still.includes(p));
    if (pending.length > 0) await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
  const partitions = options.partitions.map((partition, i) => {
    const outcome = first[i];
    return outcome === "held" ? laterBy.get(partition)! : outcome;
  });
  const failed = partitions.some((o) => o.status === "failed");
  const recorded: RunRecord = {
    format: RUN_RECORD_FORMAT,
    runId,
    command,
    flags: options.flags ?? {},
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    status: failed ? "failed" : "success",
    partitions,
  };
  const record = options.redactRecord?.(recorded) ?? recorded;
  if (command === "materialize") {
    await options.checkpoint?.("run-record");
    try {
      await options.state.writeRunRecord(record);
      log.log("debug", `run record ${runId}`);
    } catch (error) {
      // A state that cannot be written (a full or read-only disk) has
      // already failed the run with that reason: say it once. After a
      // success, it is the run's error.
      if (!failed) throw error;
      log.log("debug", `run record ${runId} not written: ${errorLine(error)}`);
    }
  }
  return { record, partitions, failed };
}
