/**
 * Data versions: the hash of what determines an asset's output.
 *
 * @module
 */

import { sha256Hex } from "./cache.ts";

/** Inputs of {@linkcode dataVersion}. */
export interface VersionInputs {
  /** Asset name. */
  asset: string;
  /** Its code version. */
  codeVersion: string;
  /** Output-changing parameters. */
  params: Record<string, unknown>;
  /** Data versions of the upstreams, by asset name. */
  upstream: Record<string, string>;
  /** For sources: the observation's version text. */
  observed?: string;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Hashes the inputs into a data version (hex, 64 characters); key order
 * does not matter.
 *
 * @example
 * ```ts
 * import { dataVersion } from "./versions.ts";
 * dataVersion({ asset: "a", codeVersion: "1", params: {}, upstream: {} });
 * ```
 */
export function dataVersion(inputs: VersionInputs): string {
  return sha256Hex(JSON.stringify(canonical(inputs)));
}
