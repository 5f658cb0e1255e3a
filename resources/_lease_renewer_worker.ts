/**
 * The worker thread that renews a process's date leases (see
 * `s3_lease.ts`), so that CPU-heavy work on the main thread (parsing with
 * `--workers 0`, merging a day) cannot starve the renewals. It has its own
 * S3 client; for each lease it writes, in shared memory, until when the
 * lease is confirmed (`validUntil`, ms on the `performance.timeOrigin +
 * performance.now()` clock) and whether a renewal found it taken, which the
 * main thread reads synchronously before every write.
 *
 * Messages in: `open` (the state's connection options), `hold` (a lease:
 * id, key, ETag, body, shared cells), `stop` (id). Messages out: `renewed`
 * (id, ETag, body), `lost` (id, why), `stopped` (id, ETag, body), `error`
 * (a transient renewal failure, for the log).
 *
 * @module
 */

/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

import { type ObjectStore, openObjectStore, PreconditionFailedError } from "./s3_objects.ts";

interface Held {
  key: string;
  etag: string;
  body: Record<string, unknown> & { ttlMs: number };
  cells: Float64Array;
  timer: ReturnType<typeof setInterval>;
  renewing?: Promise<void>;
  stopped: boolean;
}

const clock = () => performance.timeOrigin + performance.now();
let store: Promise<ObjectStore> | undefined;
const held = new Map<number, Held>();

async function renew(id: number, lease: Held): Promise<void> {
  if (lease.stopped) return;
  const objects = await store!;
  const sentAt = clock();
  const body = {
    ...lease.body,
    expiresAt: new Date(objects.storeNow() + lease.body.ttlMs).toISOString(),
  };
  try {
    const etag = await objects.put(
      lease.key,
      new TextEncoder().encode(JSON.stringify(body) + "\n"),
      { ifMatch: lease.etag },
    );
    if (lease.stopped) return;
    lease.etag = etag;
    lease.body = body;
    lease.cells[0] = Math.max(lease.cells[0], sentAt + lease.body.ttlMs);
    self.postMessage({ type: "renewed", id, etag, body });
  } catch (error) {
    if (error instanceof PreconditionFailedError) {
      lease.cells[1] = 1;
      clearInterval(lease.timer);
      self.postMessage({ type: "lost", id });
    } else {
      self.postMessage({ type: "error", id, message: (error as Error).message });
    }
  }
}

self.onmessage = async (event: MessageEvent) => {
  const message = event.data;
  if (message.type === "open") {
    store = openObjectStore({ ...message.options, retry: { retries: 0 } });
  } else if (message.type === "hold") {
    const lease: Held = {
      key: message.key,
      etag: message.etag,
      body: message.body,
      cells: new Float64Array(message.cells),
      stopped: false,
      timer: setInterval(() => {
        lease.renewing ??= renew(message.id, lease).finally(() => (lease.renewing = undefined));
      }, Math.max(200, Math.floor(message.body.ttlMs / 3))),
    };
    held.set(message.id, lease);
  } else if (message.type === "stop") {
    const lease = held.get(message.id);
    if (!lease) return;
    clearInterval(lease.timer);
    await lease.renewing;
    lease.stopped = true;
    held.delete(message.id);
    self.postMessage({ type: "stopped", id: message.id, etag: lease.etag, body: lease.body });
  } else if (message.type === "close") {
    for (const lease of held.values()) clearInterval(lease.timer);
    (await store)?.close();
    self.close();
  }
};
