/**
 * Publishing one object idempotently: HEAD first, upload only when the
 * content differs (by MD5, which S3 reports as a single-part ETag).
 *
 * The upload is conditional where the store supports it (`If-Match` on the
 * ETag the HEAD saw, `If-None-Match: *` when there was no object) and the
 * object carries its provenance as metadata: the version of the input
 * listing and when it was listed, the run id, full or incremental. A run
 * never replaces a publication that came from a later listing of different
 * inputs: it yields to it ("newer publication by run ..."), so two runs
 * racing on a date end with the object of the later listing, whichever
 * uploads last. A failed conditional upload looks again.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { AssetContext } from "./_define.ts";
import { objectUri } from "../resources/storage.ts";
import { ObjectChangedError } from "../resources/errors.ts";

/** What a sink returns: where it published and what. */
export interface Receipt {
  /** Object URI. */
  uri: string;
  /** Object key. */
  key: string;
  /** Hex MD5 of the content. */
  md5: string;
  /** Content size in bytes. */
  bytes: number;
  /** Whether this run uploaded it (false: it was already there). */
  uploaded: boolean;
  /** The run whose newer publication this run left in place, if it yielded. */
  yieldedTo?: string;
}

/** What a published object says about where it came from (S3 user metadata). */
export interface PublishedProvenance {
  /** Version of the input listing (the sources' data versions). */
  listingVersion: string;
  /** When the inputs were listed (ISO 8601). */
  listedAt: string;
  /** The run that published it. */
  runId: string;
  /** `full` or `incremental`. */
  mode: string;
}

/** The provenance metadata this run stamps on what it publishes, or `undefined` outside a run. */
export function provenanceOf(ctx: AssetContext): PublishedProvenance | undefined {
  const provenance = ctx.provenance?.();
  if (!provenance) return undefined;
  const sources = Object.entries(provenance.sources).sort(([a], [b]) => a.localeCompare(b));
  return {
    listingVersion: createHash("sha256")
      .update(JSON.stringify(sources.map(([name, s]) => [name, s.version])))
      .digest("hex").slice(0, 32),
    listedAt: sources.map(([, s]) => s.observedAt).sort()[0] ?? "",
    runId: provenance.runId,
    mode: provenance.mode,
  };
}

const META = {
  listingVersion: "listing-version",
  listedAt: "listed-at",
  runId: "run-id",
  mode: "mode",
} as const;

/**
 * Reads provenance from an object's metadata; `undefined` when absent or
 * malformed (metadata is untrusted).
 *
 * @example
 * ```ts
 * import { readProvenance } from "./_publish.ts";
 * readProvenance({ "run-id": "r" }); // undefined: incomplete
 * ```
 */
export function readProvenance(
  metadata: Record<string, string> | undefined,
): PublishedProvenance | undefined {
  if (!metadata) return undefined;
  const out: Record<string, string> = {};
  for (const [field, name] of Object.entries(META)) {
    const value = metadata[name];
    if (typeof value !== "string" || value.length > 128) return undefined;
    out[field] = value;
  }
  return /^\d{4}-\d{2}-\d{2}T/.test(out.listedAt)
    ? out as unknown as PublishedProvenance
    : undefined;
}

function asMetadata(p: PublishedProvenance): Record<string, string> {
  return {
    [META.listingVersion]: p.listingVersion,
    [META.listedAt]: p.listedAt,
    [META.runId]: p.runId,
    [META.mode]: p.mode,
  };
}

/**
 * The run whose publication `head` is, when it came from a later listing
 * of different inputs than this run's (so this run must leave it alone).
 *
 * @example
 * ```ts
 * import { newerPublication } from "./_publish.ts";
 * // const by = newerPublication(await ctx.resources.bucket.head(key), ctx);
 * // if (by) leave the object alone
 * ```
 */
export function newerPublication(
  head: { metadata?: Record<string, string> } | null,
  ctx: AssetContext,
): PublishedProvenance | undefined {
  const theirs = readProvenance(head?.metadata);
  const mine = provenanceOf(ctx);
  return theirs && mine && theirs.listingVersion !== mine.listingVersion &&
      theirs.listedAt > mine.listedAt
    ? theirs
    : undefined;
}

/** At most this many conditional uploads per object before giving up. */
const PUBLISH_ATTEMPTS = 5;

/**
 * The key of a published result: `results/YYYY/MM/DD/NAME_YYYYMMDD_INITIALS.EXT`.
 *
 * @example
 * ```ts
 * import { resultKey } from "./_publish.ts";
 * import type { AssetContext } from "./_define.ts";
 * declare const ctx: AssetContext; // partition "2021-01-30", initials "GF"
 * const key = resultKey(ctx, "daily_agg", "csv");
 * // "results/2021/01/30/daily_agg_20210130_GF.csv"
 * ```
 */
export function resultKey(ctx: AssetContext, name: string, extension: string): string {
  const date = ctx.partition;
  return `${ctx.params.resultsPrefix}/${date.replaceAll("-", "/")}/${name}_${
    date.replaceAll("-", "")
  }_${ctx.params.initials}.${extension}`;
}

/**
 * The parameters that change what a publishing asset writes, and where:
 * part of its data version, so a new bucket or initials republish. The
 * bucket is its identity (endpoint included, credentials never), so the
 * manifest records where the results went without any secret.
 *
 * @example
 * ```ts
 * import { publishParams } from "./_publish.ts";
 * import type { AssetContext } from "./_define.ts";
 * declare const ctx: AssetContext;
 * const { bucket, initials } = publishParams(ctx);
 * ```
 */
export function publishParams(ctx: AssetContext): Record<string, unknown> {
  return {
    bucket: ctx.resources.bucket.identity,
    initials: ctx.params.initials,
    resultsPrefix: ctx.params.resultsPrefix,
  };
}

/** Hex MD5 of bytes. */
export function md5Hex(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** Uploads `body` to `key` unless the object there already has that content. */
export async function publishObject(
  ctx: AssetContext,
  key: string,
  body: Uint8Array,
  contentType: string,
): Promise<Receipt> {
  const bucket = ctx.resources.bucket;
  const uri = objectUri(bucket, key);
  const md5 = md5Hex(body);
  const mine = provenanceOf(ctx);
  for (let attempt = 1;; attempt++) {
    const head = await bucket.head(key);
    const theirs = newerPublication(head, ctx);
    if (head && mine && theirs) {
      ctx.log.log(
        "info",
        `${uri}: newer publication by run ${theirs.runId} (inputs listed at ${theirs.listedAt}, ` +
          `after this run's ${mine.listedAt}); leaving it in place`,
      );
      ctx.record({ uri, bytes: head.size, uploaded: false, yieldedTo: theirs.runId });
      return {
        uri,
        key,
        md5: head.md5 ?? "",
        bytes: head.size,
        uploaded: false,
        yieldedTo: theirs.runId,
      };
    }
    const uploaded = head?.md5 !== md5 || head.size !== body.length;
    if (uploaded) {
      await ctx.checkpoint(`upload:${key}`);
      try {
        await bucket.put(key, body, {
          contentType,
          ...(head ? { ifMatch: head.etag } : { ifNoneMatch: true }),
          ...(mine ? { metadata: asMetadata(mine) } : {}),
        });
      } catch (error) {
        // Published by another run since the HEAD: look again.
        if (error instanceof ObjectChangedError && attempt < PUBLISH_ATTEMPTS) continue;
        throw error;
      }
      await ctx.checkpoint(`uploaded:${key}`);
    }
    ctx.record({ uri, bytes: body.length, uploaded });
    return { uri, key, md5, bytes: body.length, uploaded };
  }
}

/** Whether the object a receipt describes still holds that content. */
export async function receiptIsCurrent(receipt: Receipt, ctx: AssetContext): Promise<boolean> {
  const head = await ctx.resources.bucket.head(receipt.key);
  return head !== null && head.md5 === receipt.md5 && head.size === receipt.bytes;
}
