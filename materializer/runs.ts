/**
 * Run records: one JSON file per run under `<cache dir>/runs/`, in a stable,
 * documented format (see the README's "Run records" section) that other
 * tools can read, like dbt's `run_results.json`.
 *
 * @module
 */

import { writeFileAtomic } from "../resources/atomic_file.ts";
import type { PartitionOutcome } from "./materialize.ts";

/** The format tag of a run record. */
export const RUN_RECORD_FORMAT = "impressions-run/1";

/** One run. */
export interface RunRecord {
  /** Always {@linkcode RUN_RECORD_FORMAT}. */
  format: typeof RUN_RECORD_FORMAT;
  /** Sortable unique id, e.g. `20260101T120000123Z-4f2a`. */
  runId: string;
  /** Subcommand: `materialize` or `plan`. */
  command: string;
  /** Flags as given, secrets removed. */
  flags: Record<string, unknown>;
  /** Start time, ISO 8601. */
  startedAt: string;
  /** End time, ISO 8601. */
  endedAt: string;
  /** `success` when every partition succeeded. */
  status: "success" | "failed";
  /** Per partition, per asset outcomes. */
  partitions: PartitionOutcome[];
}

/** A new run id: UTC time to the millisecond plus a random suffix. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${crypto.randomUUID().slice(0, 4)}`;
}

/** The folder of run records. */
export function runsDir(cacheDir: string): string {
  return `${cacheDir}/runs`;
}

/**
 * Writes a run record atomically.
 *
 * @example
 * ```ts
 * import { newRunId, type RunRecord, writeRunRecord } from "./runs.ts";
 * declare const record: Omit<RunRecord, "runId">;
 * const path = await writeRunRecord(".cache", { ...record, runId: newRunId(new Date()) });
 * ```
 */
export async function writeRunRecord(cacheDir: string, record: RunRecord): Promise<string> {
  const path = `${runsDir(cacheDir)}/${record.runId}.json`;
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(record, null, 2) + "\n"));
  return path;
}

/** Reads run records, newest first. */
export async function listRunRecords(cacheDir: string, limit = Infinity): Promise<RunRecord[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(runsDir(cacheDir))) {
      if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  names.sort().reverse();
  const records: RunRecord[] = [];
  for (const name of names.slice(0, limit)) {
    try {
      const record = JSON.parse(await Deno.readTextFile(`${runsDir(cacheDir)}/${name}`));
      if (record.format === RUN_RECORD_FORMAT) records.push(record);
    } catch {
      // a record being written by another process, or not ours
    }
  }
  return records;
}
