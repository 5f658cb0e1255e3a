/**
 * Publishing one object idempotently: HEAD first, upload only when the
 * content differs (by MD5, which S3 reports as a single-part ETag).
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { AssetContext } from "./_define.ts";
import { objectUri } from "../resources/storage.ts";

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
}

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
  const md5 = md5Hex(body);
  const head = await bucket.head(key);
  const uploaded = head?.md5 !== md5 || head.size !== body.length;
  if (uploaded) {
    await ctx.checkpoint(`upload:${key}`);
    await bucket.put(key, body, { contentType });
    await ctx.checkpoint(`uploaded:${key}`);
  }
  ctx.record({ uri: objectUri(bucket, key), bytes: body.length, uploaded });
  return { uri: objectUri(bucket, key), key, md5, bytes: body.length, uploaded };
}

/** Whether the object a receipt describes still holds that content. */
export async function receiptIsCurrent(receipt: Receipt, ctx: AssetContext): Promise<boolean> {
  const head = await ctx.resources.bucket.head(receipt.key);
  return head !== null && head.md5 === receipt.md5 && head.size === receipt.bytes;
}
