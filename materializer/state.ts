/**
 * The one owner of the state layout: where a partition's asset entries
 * (manifests and their files), run records and partition locks live. Every
 * other module (the runner, history, report, insights, `clean`) goes through
 * a {@linkcode StateStore}, never through paths of its own.
 *
 * What decides "up to date" (manifests with their small JSON values, run
 * records, locks) is state; the bulky files an entry lists and the spill
 * files of a run are local scratch, named relative to their entry. Paths are
 * resolved against the store's absolute root when read, so a store works
 * from any working directory and after being moved or copied.
 *
 * Layout of the local store (`localState(dir)`):
 *
 * ```text
 * DIR/YYYY-MM-DD/ASSET/manifest.json   the entry's manifest, written last
 * DIR/YYYY-MM-DD/ASSET/...             the entry's files (scratch)
 * DIR/YYYY-MM-DD/.scratch/             a run's temporary files for that date
 * DIR/runs/RUN_ID.json                 run records
 * DIR/locks/YYYY-MM-DD.lock            one flock per date
 * ```
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import {
  commitEntry,
  createEntryWriter,
  type EntryWriter,
  type Manifest,
  type ManifestFields,
  type OpenedEntry,
  openEntry,
} from "./cache.ts";
import { acquireLock } from "./lock.ts";
import { removeLeftoverTemporaries } from "../resources/leftover_files.ts";
import { listRunRecords, type RunRecord, writeRunRecord } from "./runs.ts";

/** Where a run keeps what decides "up to date", and its scratch. */
export interface StateStore {
  /** Where the state is, for messages (never holds a secret). */
  readonly location: string;
  /** Opens and verifies an asset's entry for a partition. */
  openEntry(partition: string, asset: string, options?: { verify?: boolean }): Promise<OpenedEntry>;
  /** Starts a new entry; nothing is visible until {@linkcode StateStore.commitEntry}. */
  createEntry(
    partition: string,
    asset: string,
    options?: { checkpoint?: (file: string) => Promise<void> },
  ): EntryWriter;
  /** Makes an entry visible (its manifest last). */
  commitEntry(writer: EntryWriter, fields: ManifestFields): Promise<Manifest>;
  /** An entry's manifest without verifying its files, or `null` (missing or unreadable). */
  readManifest(partition: string, asset: string): Promise<Manifest | null>;
  /** Partitions (dates) that have any state, ascending. */
  partitions(): Promise<string[]>;
  /** When a partition's state was last written, or `null` when it has none. */
  lastWritten(partition: string): Promise<Date | null>;
  /** Removes a partition's entries and scratch. */
  removePartition(partition: string): Promise<void>;
  /** A folder for a partition's temporary files (spills), local to this machine. */
  scratchDir(partition: string): string;
  /**
   * Takes the partition's lock for writing; returns it (calling it releases
   * it). Fails with a `LockedError` naming the holder, or waits for it with
   * `wait`.
   */
  lock(partition: string, options: LockRequest): Promise<PartitionLock>;
  /**
   * Removes what dead runs left half-written for a partition (temporary
   * files); called with the partition's lock held. Returns how many.
   */
  removeLeftovers(partition: string): Promise<number>;
  /** Writes a run record. */
  writeRunRecord(record: RunRecord): Promise<void>;
  /** Run records, newest first. */
  listRunRecords(limit?: number): Promise<RunRecord[]>;
  /** Releases connections (shared stores). */
  close?(): void;
  /**
   * The process is stopping (SIGTERM, SIGINT): releases every lock it holds
   * at once, recording no work, so others need not wait for them to expire.
   */
  abandon?(): Promise<void>;
}

/** What {@linkcode StateStore.lock} is asked. */
export interface LockRequest {
  /** Wait for the holder instead of failing. */
  wait: boolean;
  /** The run taking it (named in a lease). */
  runId?: string;
  /**
   * Leases: when another run finished the partition's work at or after
   * this time (ISO 8601) and released it, do not take it: fail with
   * {@linkcode DoneElsewhereError} instead (a backfill shared by workers).
   */
  doneSince?: string;
}

/** Another run did the partition's work since the time asked; nothing to do. */
export class DoneElsewhereError extends Error {
  /** The run that did it. */
  readonly runId: string;
  /** Builds the error for `partition` done by `runId`. */
  constructor(partition: string, runId: string) {
    super(`${partition} was done by run ${runId} during this run`);
    this.name = "DoneElsewhereError";
    this.runId = runId;
  }
}

/** A partition's lock, held until it is called (which releases it). */
export interface PartitionLock {
  /** Releases the lock; `didWork`: this run did the partition's work (leases remember it). */
  (didWork?: boolean): Promise<void>;
  /**
   * Throws unless the lock is still held (a lease can be lost: not renewed
   * in time, or taken over). Called before every write for the partition.
   */
  check(): void;
  /** The run that held it before, when the store knows (leases). */
  predecessor?: {
    /** The run that held it. */
    runId: string;
    /** Whether it was released or taken over after expiring. */
    how: "released" | "expired";
    /** The run that last did the partition's work, and when (ISO 8601). */
    done?: { runId: string; at: string };
  };
}

/** The state cannot be used safely; the run stops (exit 1). */
export class StateError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `partition` when it is a `YYYY-MM-DD` date; a `RangeError` otherwise. */
export function checkPartition(partition: string): string {
  if (!DATE.test(partition)) {
    throw new RangeError(`a partition must be YYYY-MM-DD, not ${JSON.stringify(partition)}`);
  }
  return partition;
}

/** `asset` when it is a snake_case name; a `RangeError` otherwise. */
export function checkAsset(asset: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(asset)) {
    throw new RangeError(`an asset name must be snake_case, not ${JSON.stringify(asset)}`);
  }
  return asset;
}

/**
 * The state in a local folder (the cache dir). Relative folders are resolved
 * once, here, against the working directory.
 *
 * @example
 * ```ts
 * import { localState } from "./state.ts";
 * const state = localState(await Deno.makeTempDir());
 * await state.partitions(); // []
 * await state.readManifest("2021-01-30", "raw_partition"); // null
 * ```
 */
export function localState(dir: string): StateStore {
  const root = isAbsolute(dir) ? dir : resolve(dir);
  const entryDir = (partition: string, asset: string) =>
    `${root}/${checkPartition(partition)}/${checkAsset(asset)}`;
  return {
    location: root,
    openEntry: (partition, asset, options) =>
      openEntry(entryDir(partition, asset), options?.verify ?? true),
    createEntry: (partition, asset, options) =>
      createEntryWriter(entryDir(partition, asset), options),
    commitEntry,
    async readManifest(partition, asset) {
      try {
        const manifest = JSON.parse(
          await Deno.readTextFile(`${entryDir(partition, asset)}/manifest.json`),
        );
        return manifest !== null && typeof manifest === "object" && manifest.format === 1
          ? manifest as Manifest
          : null;
      } catch {
        return null;
      }
    },
    async partitions() {
      const dates: string[] = [];
      try {
        for await (const entry of Deno.readDir(root)) {
          if (entry.isDirectory && DATE.test(entry.name)) dates.push(entry.name);
        }
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      return dates.sort();
    },
    async lastWritten(partition) {
      try {
        return (await Deno.lstat(`${root}/${checkPartition(partition)}`)).mtime;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      }
    },
    async removePartition(partition) {
      await Deno.remove(`${root}/${checkPartition(partition)}`, { recursive: true }).catch(
        (error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        },
      );
    },
    scratchDir: (partition) => `${root}/${checkPartition(partition)}/.scratch`,
    async lock(partition, options) {
      const release = await acquireLock({
        cacheDir: root,
        date: checkPartition(partition),
        wait: options.wait,
      });
      // An flock is held until released or the process ends: never lost.
      return Object.assign(release, { check() {} });
    },
    async removeLeftovers(partition) {
      return (await removeLeftoverTemporaries(`${root}/${checkPartition(partition)}`)).length;
    },
    async writeRunRecord(record) {
      await writeRunRecord(root, record);
    },
    listRunRecords: (limit) => listRunRecords(root, limit),
  };
}
