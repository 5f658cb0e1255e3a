/**
 * Opens the state a command names: the cache dir (default) or shared state
 * on S3 (`--state s3://BUCKET/PREFIX`, env `IMPRESSIONS_STATE`, profile key
 * `state`), with the same endpoint, region and credential chain as the
 * bucket. The S3 client is loaded only for shared state. Also the flags of
 * the commands that only read or tidy the state (`runs`, `leases`,
 * `clean`, `report`).
 *
 * @module
 */

import { localState, type StateStore } from "../materializer/state.ts";
import type { Logger } from "../materializer/log.ts";
import type { S3State } from "../resources/s3_state.ts";
import { UsageError } from "./errors.ts";
import { RUN_PARAMS } from "./run_params.ts";

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

/** Flags that say where the state is. */
export const STATE_FLAGS = {
  state: { type: "string" },
  "cache-dir": { type: "string" },
  "endpoint-url": { type: "string" },
  region: { type: "string" },
} as const;

/**
 * Opens the state named by `--state` (or `IMPRESSIONS_STATE`), else the
 * cache dir, for reading or tidying (no probe unless `write`).
 */
export function stateFromFlags(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
  options: { write?: boolean } = {},
): Promise<StateStore> {
  const str = (name: string) => flags[name] as string | undefined;
  const state = str("state") ?? env.IMPRESSIONS_STATE;
  if (state !== undefined) {
    RUN_PARAMS.state.fromText!(state, str("state") !== undefined ? "--state" : "IMPRESSIONS_STATE");
  }
  return openConfiguredState({
    state,
    cacheDir: str("cache-dir") ?? ".cache",
    endpoint: str("endpoint-url") ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
    region: str("region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    readOnly: !options.write,
  });
}

/** The shared state behind a store, or a usage error naming the command. */
export function sharedState(state: StateStore, command: string): S3State {
  if (!("leases" in state)) {
    throw new UsageError(`${command} needs --state s3://BUCKET/PREFIX (or IMPRESSIONS_STATE)`);
  }
  return state as S3State;
}
