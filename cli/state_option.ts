/**
 * Opens the state a command names: the cache dir (default) or shared state
 * on S3 (`--state s3://BUCKET/PREFIX`, env `IMPRESSIONS_STATE`, profile key
 * `state`), with the same endpoint, region and credential chain as the
 * bucket. The S3 client is loaded only for shared state.
 *
 * @module
 */

import { localState, type StateStore } from "../materializer/state.ts";
import type { Logger } from "../materializer/log.ts";

/** Options for {@linkcode openConfiguredState}. */
export interface StateOptions {
  /** `s3://BUCKET/PREFIX`, or `undefined` for the cache dir. */
  state?: string;
  /** This machine's cache dir. */
  cacheDir: string;
  /** S3-compatible endpoint. */
  endpoint?: string;
  /** Region. */
  region?: string;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Retries of transient failures. */
  retries?: number;
  /** Lease time to live, ms. */
  leaseTtlMs?: number;
  /** Only reading (`runs`, `plan`, `report`): no conditional-write probe. */
  readOnly?: boolean;
  /** Where lease renewal problems are logged. */
  log?: Logger;
}

/**
 * The state to use.
 *
 * @example
 * ```ts
 * import { openConfiguredState } from "./state_option.ts";
 * const state = await openConfiguredState({ cacheDir: ".cache" });
 * state.location; // the absolute cache dir
 * ```
 */
export async function openConfiguredState(options: StateOptions): Promise<StateStore> {
  if (options.state === undefined) return localState(options.cacheDir);
  const { openS3State } = await import("../resources/s3_state.ts");
  return await openS3State({
    uri: options.state,
    cacheDir: options.cacheDir,
    endpoint: options.endpoint,
    region: options.region,
    timeoutMs: options.timeoutMs,
    retry: { retries: options.retries ?? 4 },
    leaseTtlMs: options.leaseTtlMs ?? 60_000,
    readOnly: options.readOnly,
    onRenewError: (error) => options.log?.log("warn", `lease renewal failed: ${error.message}`),
  });
}
