/**
 * The state on S3 (`--state s3://BUCKET/PREFIX`): manifests, run records and
 * date leases shared by every worker, so a fresh machine sees what others
 * did and many workers can split a backfill safely. Entry files (the bulky
 * intermediates) stay in this machine's cache dir, addressed by date and
 * asset; a manifest whose files are not here still says "up to date", and
 * the files are recomputed only when something must read them.
 *
 * Layout under PREFIX:
 *
 * ```text
 * format.json                        {"format":"impressions-state","version":1}
 * YYYY-MM-DD/ASSET/manifest.json     an entry's manifest (no local paths)
 * runs/RUN_ID.json                   run records (impressions-run/1)
 * leases/YYYY-MM-DD.json             one lease per date (see s3_lease.ts)
 * ```
 *
 * Every write for a date is made under that date's lease, checked just
 * before the write, and is conditional on what was read (`If-Match` on the
 * manifest's ETag, `If-None-Match: *` when there was none). Everything read
 * is untrusted: size-bounded, validated, and no path is taken from it.
 *
 * @module
 */

import { removeLeftoverTemporaries } from "./leftover_files.ts";
import {
  buildManifest,
  createEntryWriter,
  entryReader,
  filesProblem,
  type Manifest,
  manifestProblem,
  type OpenedEntry,
  removeUnlistedFiles,
} from "../materializer/cache.ts";
import { LockedError } from "../materializer/lock.ts";
import { RUN_RECORD_FORMAT, type RunRecord } from "../materializer/runs.ts";
import {
  checkAsset,
  checkPartition,
  type LockRequest,
  type PartitionLock,
  StateError,
  type StateStore,
} from "../materializer/state.ts";
import { isAbsolute, resolve } from "node:path";
import {
  acquireLease,
  forceRelease,
  holderOf,
  type Lease,
  type LeaseBody,
  leaseKey,
  LeaseRenewer,
  type LeaseState,
  readLease,
} from "./s3_lease.ts";
import {
  type ObjectStore,
  type ObjectStoreOptions,
  openObjectStore,
  PreconditionFailedError,
} from "./s3_objects.ts";

/** The state format this tool writes and reads. */
export const STATE_FORMAT_VERSION = 1;

/** The largest manifest read (a day's value with its campaign ids and invalid rows). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** The largest run record read. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RUN_ID = /^[0-9A-Za-z_-]{1,64}$/;

/** The store ignores conditional writes, so leases would not exclude anyone. */
export class UnsafeStoreError extends StateError {
  /** Builds the error for the state URI. */
  constructor(uri: string) {
    super(
      `the store behind ${uri} does not honour If-None-Match on PUT (a second create-only PUT ` +
        `succeeded instead of failing with 412), so leases cannot work; refusing to run with ` +
        `shared state there`,
    );
    this.name = "UnsafeStoreError";
  }
}

/** A lease as listed by `leases`. */
export interface ListedLease extends LeaseState {
  /** Its date. */
  date: string;
}

/** A state on S3, with what `leases` and `clean` need besides a {@linkcode StateStore}. */
export interface S3State extends StateStore {
  /** The objects (requests are counted there). */
  readonly objects: ObjectStore;
  /** Every lease, with whether it is free. */
  leases(): Promise<ListedLease[]>;
  /** Force-releases a date's lease; returns its holder, or `null`. */
  releaseLease(date: string): Promise<LeaseBody | null>;
  /** Removes run records and released or expired leases older than `ms` (by the store's clock). */
  expire(olderThanMs: number, dryRun?: boolean): Promise<string[]>;
}

/** Options for {@linkcode openS3State}. */
export interface S3StateOptions extends ObjectStoreOptions {
  /** This machine's cache dir: entry files and scratch. */
  cacheDir: string;
  /** Lease time to live, ms. */
  leaseTtlMs: number;
  /** Told about a lease renewal that failed for a transient reason. */
  onRenewError?: (error: Error) => void;
  /** Objects already opened (tests, or a caller counting requests). */
  objects?: ObjectStore;
  /** Skip the conditional-write probe (`runs`, `plan`, `report` only read). */
  readOnly?: boolean;
}

/**
 * Makes sure the store fails a second create-only PUT with 412; throws
 * {@linkcode UnsafeStoreError} when it does not.
 *
 * @example
 * ```ts
 * import { probeConditionalWrites } from "./s3_state.ts";
 * import { openObjectStore } from "./s3_objects.ts";
 * await probeConditionalWrites(await openObjectStore({ uri: "s3://team-bucket/state" }));
 * ```
 */
export async function probeConditionalWrites(objects: ObjectStore): Promise<void> {
  const key = `probe/${crypto.randomUUID()}.json`;
  const body = new TextEncoder().encode('{"probe":true}\n');
  await objects.put(key, body, { ifNoneMatch: true });
  let honoured = false;
  try {
    await objects.put(key, body, { ifNoneMatch: true });
  } catch (error) {
    if (!(error instanceof PreconditionFailedError)) throw error;
    honoured = true;
  } finally {
    await objects.delete(key);
  }
  if (!honoured) throw new UnsafeStoreError(objects.uri);
}

/** Reads `format.json`, writing it when the state is new; refuses a newer format. */
async function checkFormat(objects: ObjectStore, readOnly: boolean): Promise<void> {
  const body = new TextEncoder().encode(
    JSON.stringify({ format: "impressions-state", version: STATE_FORMAT_VERSION }) + "\n",
  );
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await objects.get("format.json", 4096);
    if (!found) {
      if (readOnly) return;
      try {
        await objects.put("format.json", body, { ifNoneMatch: true });
        return;
      } catch (error) {
        if (!(error instanceof PreconditionFailedError)) throw error;
        continue; // another worker wrote it first
      }
    }
    let version: unknown;
    try {
      const v = JSON.parse(new TextDecoder().decode(found.body));
      version = v?.format === "impressions-state" ? v.version : undefined;
    } catch {
      version = undefined;
    }
    if (!Number.isSafeInteger(version) || (version as number) < 1) {
      throw new StateError(`${objects.uri}/format.json is not an impressions state format file`);
    }
    if ((version as number) > STATE_FORMAT_VERSION) {
      throw new StateError(
        `the state at ${objects.uri} has format version ${version}; this tool reads version ` +
          `${STATE_FORMAT_VERSION}: run a newer release of the tool`,
      );
    }
    return;
  }
  throw new StateError(`could not read or create ${objects.uri}/format.json`);
}

/**
 * Opens the state at `s3://BUCKET/PREFIX`: checks its format version and
 * (unless `readOnly`) that the store honours conditional writes.
 *
 * @example
 * ```ts
 * import { openS3State } from "./s3_state.ts";
 * const state = await openS3State({
 *   uri: "s3://team-bucket/impressions-state",
 *   cacheDir: ".cache",
 *   leaseTtlMs: 60_000,
 * });
 * await state.partitions();
 * state.close?.();
 * ```
 */
export async function openS3State(options: S3StateOptions): Promise<S3State> {
  const objects = options.objects ?? await openObjectStore(options);
  try {
    if (!options.readOnly) await probeConditionalWrites(objects);
    await checkFormat(objects, options.readOnly ?? false);
  } catch (error) {
    if (!options.objects) objects.close();
    throw error;
  }
  return new S3StateStore(objects, options);
}

class S3StateStore implements S3State {
  readonly objects: ObjectStore;
  readonly location: string;
  #root: string;
  #ttlMs: number;
  #onRenewError?: (error: Error) => void;
  #ownsObjects: boolean;
  /** ETag of each manifest as last read or written (`null`: there was none). */
  #etags = new Map<string, string | null>();
  #leases = new Map<string, Lease>();
  #renewer?: LeaseRenewer;
  #options: S3StateOptions;

  constructor(objects: ObjectStore, options: S3StateOptions) {
    this.objects = objects;
    this.location = objects.uri;
    this.#root = isAbsolute(options.cacheDir) ? options.cacheDir : resolve(options.cacheDir);
    this.#ttlMs = options.leaseTtlMs;
    this.#onRenewError = options.onRenewError;
    this.#ownsObjects = !options.objects;
    this.#options = options;
  }

  #localDir(partition: string, asset: string): string {
    return `${this.#root}/${checkPartition(partition)}/${checkAsset(asset)}`;
  }

  #manifestKey(partition: string, asset: string): string {
    return `${checkPartition(partition)}/${checkAsset(asset)}/manifest.json`;
  }

  async #fetchManifest(
    partition: string,
    asset: string,
  ): Promise<{ manifest: Manifest; problem?: undefined } | { manifest: null; problem: string }> {
    const key = this.#manifestKey(partition, asset);
    const object = await this.objects.get(key, MAX_MANIFEST_BYTES);
    this.#etags.set(key, object?.etag ?? null);
    if (!object) return { manifest: null, problem: "never materialized" };
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(object.body));
    } catch {
      return { manifest: null, problem: "its manifest is unreadable" };
    }
    const problem = manifestProblem(value, partition, asset);
    return problem ? { manifest: null, problem } : { manifest: value as Manifest };
  }

  async openEntry(
    partition: string,
    asset: string,
    options?: { verify?: boolean },
  ): Promise<OpenedEntry> {
    const { manifest, problem } = await this.#fetchManifest(partition, asset);
    if (!manifest) return { entry: null, problem };
    const dir = this.#localDir(partition, asset);
    const missing = await filesProblem(dir, manifest, options?.verify ?? true);
    const entry = entryReader(dir, manifest);
    return missing ? { entry, missing: `${missing} on this machine` } : { entry };
  }

  createEntry(
    partition: string,
    asset: string,
    options?: { checkpoint?: (file: string) => Promise<void> },
  ) {
    return createEntryWriter(this.#localDir(partition, asset), options);
  }

  async commitEntry(
    writer: ReturnType<typeof createEntryWriter>,
    fields: Parameters<StateStore["commitEntry"]>[1],
  ): Promise<Manifest> {
    const lease = this.#leases.get(fields.partition);
    if (!lease) {
      throw new StateError(`no lease held on ${fields.partition}; cannot write its state`);
    }
    const manifest = buildManifest(writer, fields);
    const key = this.#manifestKey(fields.partition, fields.asset);
    const body = new TextEncoder().encode(JSON.stringify(manifest) + "\n");
    if (!this.#etags.has(key)) await this.#fetchManifest(fields.partition, fields.asset);
    for (let attempt = 0;; attempt++) {
      const etag = this.#etags.get(key) ?? null;
      lease.check();
      try {
        this.#etags.set(
          key,
          await this.objects.put(
            key,
            body,
            etag ? { ifMatch: etag } : { ifNoneMatch: true },
            () => lease.check(),
          ),
        );
        break;
      } catch (error) {
        if (!(error instanceof PreconditionFailedError) || attempt > 0) throw error;
        // A writer that lost its lease wrote since we read. We hold the
        // lease (checked again before the write): read anew and write ours.
        await this.#fetchManifest(fields.partition, fields.asset);
      }
    }
    await removeUnlistedFiles(writer.dir, manifest);
    return manifest;
  }

  async readManifest(partition: string, asset: string): Promise<Manifest | null> {
    return (await this.#fetchManifest(partition, asset)).manifest;
  }

  async partitions(): Promise<string[]> {
    return (await this.objects.folders("")).filter((d) => DATE.test(d)).sort();
  }

  async removePartition(partition: string): Promise<void> {
    checkPartition(partition);
    const lease = await readLease(this.objects, partition);
    if (lease && !lease.free) throw new LockedError(partition, holderOf(lease.body));
    for await (const object of this.objects.list(`${partition}/`)) {
      await this.objects.delete(object.key);
    }
    if (lease) await this.objects.delete(leaseKey(partition));
    await Deno.remove(`${this.#root}/${partition}`, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /** Remote dates are judged by the date itself (see `clean`): no time is kept for them. */
  lastWritten(_partition: string): Promise<Date | null> {
    return Promise.resolve(null);
  }

  async removeLeftovers(partition: string): Promise<number> {
    return (await removeLeftoverTemporaries(`${this.#root}/${checkPartition(partition)}`)).length;
  }

  scratchDir(partition: string): string {
    return `${this.#root}/${checkPartition(partition)}/.scratch`;
  }

  async lock(partition: string, options: LockRequest) {
    const lease = await acquireLease(this.objects, {
      date: checkPartition(partition),
      runId: options.runId ?? "unknown",
      doneSince: options.doneSince,
      ttlMs: this.#ttlMs,
      wait: options.wait,
      onRenewError: this.#onRenewError,
      // One renewing thread per state, started with the first lease.
      renewer: this.#options.objects ? undefined : this.#renewer ??= new LeaseRenewer(
        this.#options,
        this.#onRenewError,
      ),
    });
    this.#leases.set(partition, lease);
    const release = async (didWork?: boolean) => {
      this.#leases.delete(partition);
      await lease.release(didWork);
    };
    const lock: PartitionLock = Object.assign(release, {
      check: () => lease.check(),
      predecessor: lease.predecessor
        ? {
          runId: lease.predecessor.body.runId,
          how: lease.predecessor.how,
          done: lease.predecessor.body.done,
        }
        : undefined,
    });
    return lock;
  }

  async writeRunRecord(record: RunRecord): Promise<void> {
    if (!RUN_ID.test(record.runId)) {
      throw new StateError(`a run id must match ${RUN_ID}, not ${JSON.stringify(record.runId)}`);
    }
    const body = new TextEncoder().encode(JSON.stringify(record, null, 1) + "\n");
    await this.objects.put(`runs/${record.runId}.json`, body, null);
  }

  async listRunRecords(limit = Infinity): Promise<RunRecord[]> {
    const names: string[] = [];
    for await (const object of this.objects.list("runs/")) {
      const name = object.key.slice("runs/".length);
      if (/^[0-9A-Za-z_-]{1,64}\.json$/.test(name)) names.push(name);
    }
    names.sort().reverse();
    const records: RunRecord[] = [];
    for (const name of names) {
      if (records.length >= limit) break;
      const object = await this.objects.get(`runs/${name}`, MAX_RECORD_BYTES).catch(() => null);
      if (!object) continue;
      try {
        const record = JSON.parse(new TextDecoder().decode(object.body));
        if (
          record?.format === RUN_RECORD_FORMAT && typeof record.runId === "string" &&
          Array.isArray(record.partitions) && typeof record.startedAt === "string"
        ) records.push(record);
      } catch {
        // not a run record of ours
      }
    }
    return records;
  }

  async leases(): Promise<ListedLease[]> {
    const out: ListedLease[] = [];
    for await (const object of this.objects.list("leases/")) {
      const date = object.key.slice("leases/".length).replace(/\.json$/, "");
      if (!DATE.test(date)) continue;
      const lease = await readLease(this.objects, date);
      if (lease) out.push({ ...lease, date });
    }
    return out.sort((a, b) => a.date.localeCompare(b.date));
  }

  releaseLease(date: string): Promise<LeaseBody | null> {
    return forceRelease(this.objects, checkPartition(date));
  }

  async expire(olderThanMs: number, dryRun = false): Promise<string[]> {
    const removed: string[] = [];
    const now = this.objects.storeNow();
    for await (const object of this.objects.list("runs/")) {
      if (now - object.lastModified <= olderThanMs) continue;
      if (!dryRun) await this.objects.delete(object.key);
      removed.push(object.key);
    }
    for (const lease of await this.leases()) {
      if (!lease.free || now - lease.expiresAtMs <= olderThanMs) continue;
      if (!dryRun) await this.objects.delete(leaseKey(lease.date));
      removed.push(leaseKey(lease.date));
    }
    return removed;
  }

  async abandon(): Promise<void> {
    const held = [...this.#leases.values()];
    this.#leases.clear();
    await Promise.allSettled(held.map((lease) => lease.release(false)));
  }

  close(): void {
    this.#renewer?.close();
    if (this.#ownsObjects) this.objects.close();
  }
}
