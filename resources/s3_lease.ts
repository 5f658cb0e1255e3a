/**
 * Date leases in an S3 prefix: one small object per date,
 * `leases/YYYY-MM-DD.json`, taken with `If-None-Match: *`, renewed with
 * `If-Match` every third of its TTL and released by a conditional write
 * that marks it released. Whether another holder's lease has expired is
 * judged by the store's clock (its `Last-Modified` against the `Date` of the
 * response that read it), never this machine's, so a skewed clock cannot
 * steal a live lease; an expired or released lease is taken over with
 * `If-Match` on its ETag, so exactly one taker wins.
 *
 * A holder fences itself: it refuses to write once a renewal has not been
 * confirmed within the TTL (by its own monotonic clock, which keeps running
 * while the process is stopped), or once a renewal found the lease taken.
 *
 * @module
 */

import { LockedError, type LockInfo } from "../materializer/lock.ts";
import { DoneElsewhereError } from "../materializer/state.ts";
import { StorageError } from "./errors.ts";
import { type ObjectStore, PreconditionFailedError } from "./s3_objects.ts";

/** The format tag of a lease object. */
export const LEASE_FORMAT = "impressions-lease/1";

/** Leases are small; anything larger is not ours. */
const MAX_LEASE_BYTES = 4096;

/** `Last-Modified` has whole seconds: judging expiry allows one more. */
const CLOCK_GRAIN_MS = 1000;

/** What a lease object holds. */
export interface LeaseBody {
  /** Always {@linkcode LEASE_FORMAT}. */
  format: typeof LEASE_FORMAT;
  /** The date it covers. */
  date: string;
  /** Holder's host name. */
  host: string;
  /** Holder's process id. */
  pid: number;
  /** Holder's run id. */
  runId: string;
  /** Time to live after each renewal, ms. */
  ttlMs: number;
  /** When it was taken (store clock, ISO 8601). */
  since: string;
  /** When it expires unless renewed (store clock, ISO 8601). */
  expiresAt: string;
  /** Set when released: the holder is done with the date. */
  releasedAt?: string;
  /** The run that last did the date's work, and when it finished (carried by later holders). */
  done?: { runId: string; at: string };
}

/** A lease as read, with what the store says about it. */
export interface LeaseState {
  /** Its body. */
  body: LeaseBody;
  /** Its ETag. */
  etag: string;
  /** Whether it is released or expired by the store's clock. */
  free: boolean;
  /** Expiry by the store's clock, ms since the epoch. */
  expiresAtMs: number;
}

/** The holder lost its lease: it may write nothing more for the date. */
export class LeaseLostError extends Error {
  /** Builds the error for `date`, saying why. */
  constructor(date: string, why: string) {
    super(`lost the lease on ${date}: ${why}; writing nothing more for it`);
    this.name = "LeaseLostError";
  }
}

/** The lease key of a date. */
export function leaseKey(date: string): string {
  return `leases/${date}.json`;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/**
 * Parses a lease object; `null` when it is not a valid lease (untrusted).
 *
 * @example
 * ```ts
 * import { parseLease } from "./s3_lease.ts";
 * parseLease(new TextEncoder().encode("{}"), "2021-01-30"); // null
 * ```
 */
export function parseLease(bytes: Uint8Array, date: string): LeaseBody | null {
  if (bytes.length > MAX_LEASE_BYTES) return null;
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    const ok = v && typeof v === "object" && v.format === LEASE_FORMAT && v.date === date &&
      typeof v.host === "string" && v.host.length <= 255 &&
      Number.isSafeInteger(v.pid) && typeof v.runId === "string" && v.runId.length <= 64 &&
      Number.isSafeInteger(v.ttlMs) && v.ttlMs >= 1000 && v.ttlMs <= 86_400_000 &&
      typeof v.since === "string" && typeof v.expiresAt === "string" &&
      (v.releasedAt === undefined || typeof v.releasedAt === "string") &&
      (v.done === undefined || (v.done !== null && typeof v.done === "object" &&
        typeof v.done.runId === "string" && v.done.runId.length <= 64 &&
        typeof v.done.at === "string"));
    return ok ? v as LeaseBody : null;
  } catch {
    return null;
  }
}

/** Who holds a lease, for "held by" messages. */
export function holderOf(body: LeaseBody): LockInfo {
  return {
    pid: body.pid,
    host: body.host,
    since: body.since,
    runId: body.runId,
    expiresAt: body.expiresAt,
  };
}

/**
 * Reads the lease of a date and judges it by the store's clock; `null`
 * when there is none. A lease that does not parse counts as free once its
 * `Last-Modified` is older than `fallbackTtlMs`.
 */
export async function readLease(
  store: ObjectStore,
  date: string,
  fallbackTtlMs = 60_000,
): Promise<LeaseState | null> {
  const object = await store.get(leaseKey(date), MAX_LEASE_BYTES);
  if (!object) return null;
  const now = store.storeNow();
  const body = parseLease(object.body, date);
  const ttl = body?.ttlMs ?? fallbackTtlMs;
  const expiresAtMs = object.lastModified + ttl + CLOCK_GRAIN_MS;
  const shown: LeaseBody = body ?? {
    format: LEASE_FORMAT,
    date,
    host: "?",
    pid: 0,
    runId: "unreadable lease",
    ttlMs: ttl,
    since: new Date(object.lastModified).toISOString(),
    expiresAt: new Date(expiresAtMs).toISOString(),
  };
  return {
    body: shown,
    etag: object.etag,
    free: body?.releasedAt !== undefined || now >= expiresAtMs,
    expiresAtMs,
  };
}

/** Options for {@linkcode acquireLease}. */
export interface AcquireOptions {
  /** The date. */
  date: string;
  /** This run's id. */
  runId: string;
  /** Time to live, ms. */
  ttlMs: number;
  /** Wait for a live holder instead of failing. */
  wait: boolean;
  /** Poll interval while waiting, ms (default a third of the TTL, at most 2 s). */
  pollMs?: number;
  /** Told about a renewal that failed for a transient reason. */
  onRenewError?: (error: Error) => void;
  /** Renews from a worker thread (else a timer on this thread). */
  renewer?: LeaseRenewer;
  /** Fail with `DoneElsewhereError` when another run released the date with its work done since then. */
  doneSince?: string;
}

/** What the lease replaced when taken. */
export interface Predecessor {
  /** The previous holder. */
  body: LeaseBody;
  /** `released` (it finished) or `expired` (it stopped renewing). */
  how: "released" | "expired";
}

/** The clock leases are timed on: monotonic, shared by the main thread and the renewer. */
const clock = () => performance.timeOrigin + performance.now();

/**
 * Renews this process's leases from a worker thread, so CPU-heavy work on
 * the main thread cannot starve renewals (see `_lease_renewer_worker.ts`).
 * One per state; {@linkcode LeaseRenewer.close} ends the thread.
 */
export class LeaseRenewer {
  #worker: Worker;
  #next = 1;
  #stops = new Map<number, (result: { etag: string; body: LeaseBody }) => void>();
  #updates = new Map<number, (etag: string, body: LeaseBody) => void>();
  #onError?: (error: Error) => void;

  /** Starts the thread with the state's connection options. */
  constructor(
    options: { uri: string; endpoint?: string; region?: string; timeoutMs?: number },
    onError?: (error: Error) => void,
  ) {
    this.#onError = onError;
    this.#worker = new Worker(new URL("./_lease_renewer_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.postMessage({
      type: "open",
      options: {
        uri: options.uri,
        endpoint: options.endpoint,
        region: options.region,
        timeoutMs: options.timeoutMs,
      },
    });
    this.#worker.onmessage = (event: MessageEvent) => {
      const m = event.data;
      if (m.type === "renewed") this.#updates.get(m.id)?.(m.etag, m.body);
      else if (m.type === "stopped") {
        this.#updates.delete(m.id);
        this.#stops.get(m.id)?.({ etag: m.etag, body: m.body });
        this.#stops.delete(m.id);
      } else if (m.type === "error") this.#onError?.(new Error(m.message));
    };
  }

  /** Starts renewing a lease; returns its id. */
  hold(
    key: string,
    etag: string,
    body: LeaseBody,
    cells: Float64Array,
    onRenewed: (etag: string, body: LeaseBody) => void,
  ): number {
    const id = this.#next++;
    this.#updates.set(id, onRenewed);
    this.#worker.postMessage({ type: "hold", id, key, etag, body, cells: cells.buffer });
    return id;
  }

  /** Stops renewing a lease; resolves with its last ETag and body. */
  stop(id: number): Promise<{ etag: string; body: LeaseBody }> {
    return new Promise((resolve) => {
      this.#stops.set(id, resolve);
      this.#worker.postMessage({ type: "stop", id });
    });
  }

  /** Ends the thread. */
  close(): void {
    this.#worker.terminate();
  }
}

/** A lease held by this process. */
export class Lease {
  /** The date. */
  readonly date: string;
  /** What it replaced, if anything. */
  readonly predecessor: Predecessor | null;
  #store: ObjectStore;
  #body: LeaseBody;
  #etag: string;
  /** [0]: confirmed until (on {@linkcode clock}); [1]: 1 once a renewal found it taken. */
  #cells = new Float64Array(new SharedArrayBuffer(16));
  #lost: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #renewing: Promise<void> | undefined;
  #onRenewError?: (error: Error) => void;
  #renewer?: LeaseRenewer;
  #renewerId = 0;

  /** A lease just written (`sentAt` on {@linkcode clock}); renewed by `renewer`, else by a timer here. */
  constructor(
    store: ObjectStore,
    body: LeaseBody,
    etag: string,
    sentAt: number,
    predecessor: Predecessor | null,
    options: { onRenewError?: (error: Error) => void; renewer?: LeaseRenewer } = {},
  ) {
    this.date = body.date;
    this.#store = store;
    this.#body = body;
    this.#etag = etag;
    this.#cells[0] = sentAt + body.ttlMs;
    this.predecessor = predecessor;
    this.#onRenewError = options.onRenewError;
    this.#renewer = options.renewer;
    if (this.#renewer) {
      this.#renewerId = this.#renewer.hold(leaseKey(this.date), etag, body, this.#cells, (e, b) => {
        this.#etag = e;
        this.#body = b;
      });
    } else {
      this.#timer = setInterval(() => {
        this.#renewing ??= this.#renew().finally(() => (this.#renewing = undefined));
      }, Math.max(200, Math.floor(body.ttlMs / 3)));
    }
  }

  /** The lease as written. */
  get body(): LeaseBody {
    return this.#body;
  }

  /** Why it was lost, or `undefined` while held. */
  get lost(): string | undefined {
    if (this.#lost) return this.#lost;
    if (this.#cells[1] === 1) {
      this.#lost = "a renewal found it taken over";
      return this.#lost;
    }
    // Keep a margin for the store's one-second clock grain.
    const margin = Math.min(CLOCK_GRAIN_MS, this.#body.ttlMs / 4);
    if (clock() > this.#cells[0] - margin) {
      // Once lost, lost for good: a late renewal does not make earlier writes safe again.
      this.#lost = `no renewal confirmed within its ${this.#body.ttlMs / 1000} s TTL`;
    }
    return this.#lost;
  }

  /** Throws {@linkcode LeaseLostError} unless the lease is still held. */
  check(): void {
    const lost = this.lost;
    if (lost) throw new LeaseLostError(this.date, lost);
  }

  async #renew(): Promise<void> {
    if (this.lost) return;
    const sentAt = clock();
    const body = this.#stamp({ ...this.#body });
    try {
      this.#etag = await this.#store.put(leaseKey(this.date), encode(body), {
        ifMatch: this.#etag,
      });
      this.#body = body;
      this.#cells[0] = sentAt + body.ttlMs;
    } catch (error) {
      if (error instanceof PreconditionFailedError) {
        const now = await readLease(this.#store, this.date).catch(() => null);
        this.#lost = now
          ? `taken over by run ${now.body.runId} (process ${now.body.pid} on ${now.body.host})`
          : "its lease object was removed";
      } else {
        this.#onRenewError?.(error as Error);
      }
    }
  }

  #stamp(body: LeaseBody): LeaseBody {
    body.expiresAt = new Date(this.#store.storeNow() + body.ttlMs).toISOString();
    return body;
  }

  /**
   * Stops renewing and marks the lease released (unless it was lost).
   * `didWork`: this run did the date's work; otherwise the previous
   * holder's record of who did is carried on.
   */
  async release(didWork = false): Promise<void> {
    clearInterval(this.#timer);
    await this.#renewing;
    if (this.#renewer) {
      const last = await this.#renewer.stop(this.#renewerId);
      this.#etag = last.etag;
      this.#body = last.body;
    }
    if (this.lost) return;
    const at = new Date(this.#store.storeNow()).toISOString();
    const done = didWork ? { runId: this.#body.runId, at } : this.predecessor?.body.done;
    const body: LeaseBody = { ...this.#body, releasedAt: at, ...(done ? { done } : {}) };
    try {
      await this.#store.put(leaseKey(this.date), encode(body), { ifMatch: this.#etag });
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
    }
    this.#lost = "released";
  }
}

function encode(body: LeaseBody): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(body) + "\n");
}

/**
 * Takes the lease of a date: creates it, or takes over a released or
 * expired one; fails with a `LockedError` naming a live holder, or waits
 * for it with `wait`.
 *
 * @example
 * ```ts
 * import { acquireLease } from "./s3_lease.ts";
 * import { openObjectStore } from "./s3_objects.ts";
 * const store = await openObjectStore({ uri: "s3://team-bucket/state" });
 * const lease = await acquireLease(store, {
 *   date: "2021-01-30", runId: "r1", ttlMs: 60_000, wait: false,
 * });
 * try {
 *   lease.check(); // before every write for the date
 * } finally {
 *   await lease.release();
 * }
 * ```
 */
export async function acquireLease(store: ObjectStore, options: AcquireOptions): Promise<Lease> {
  const pollMs = options.pollMs ?? Math.min(2000, Math.floor(options.ttlMs / 3));
  for (;;) {
    const current = await readLease(store, options.date, options.ttlMs);
    if (current && !current.free) {
      if (!options.wait) throw new LockedError(options.date, holderOf(current.body));
      await new Promise((r) => setTimeout(r, pollMs));
      continue;
    }
    const done = current?.body.releasedAt ? current.body.done : undefined;
    if (
      done && options.doneSince !== undefined && done.runId !== options.runId &&
      done.at >= options.doneSince
    ) throw new DoneElsewhereError(options.date, done.runId);
    const now = store.storeNow();
    const body: LeaseBody = {
      format: LEASE_FORMAT,
      date: options.date,
      host: hostname(),
      pid: Deno.pid,
      runId: options.runId,
      ttlMs: options.ttlMs,
      since: new Date(now).toISOString(),
      expiresAt: new Date(now + options.ttlMs).toISOString(),
    };
    const sentAt = clock();
    try {
      const etag = await store.put(
        leaseKey(options.date),
        encode(body),
        current ? { ifMatch: current.etag } : { ifNoneMatch: true },
      );
      const predecessor: Predecessor | null = current
        ? { body: current.body, how: current.body.releasedAt ? "released" : "expired" }
        : null;
      return new Lease(store, body, etag, sentAt, predecessor, {
        onRenewError: options.onRenewError,
        renewer: options.renewer,
      });
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      // Another worker won the race: look again.
    }
  }
}

/**
 * Force-releases a date's lease (an operator's `leases release`); returns
 * the holder it removed, or `null` when there was none.
 */
export async function forceRelease(store: ObjectStore, date: string): Promise<LeaseBody | null> {
  const current = await readLease(store, date);
  if (!current) return null;
  const body: LeaseBody = {
    ...current.body,
    releasedAt: new Date(store.storeNow()).toISOString(),
  };
  try {
    await store.put(leaseKey(date), encode(body), { ifMatch: current.etag });
  } catch (error) {
    if (error instanceof PreconditionFailedError) {
      throw new StorageError(`the lease on ${date} changed while releasing it; try again`);
    }
    throw error;
  }
  return current.body;
}
