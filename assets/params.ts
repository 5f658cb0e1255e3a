/**
 * The impressions pipeline's params: one schema from which the CLI's flags,
 * the profile keys and their validation, `--help` and the tests' defaults
 * are derived. Adding a parameter is one field here.
 *
 * `ASSET_PARAMS` are what assets read (`ctx.params`); `RESOURCE_PARAMS` say
 * where bytes live and are only used to open resources, so an endpoint URL
 * (which may carry credentials) never reaches an asset or a manifest.
 *
 * @module
 */

import {
  customParam,
  integerParam,
  ParamError,
  type ParamValues,
  switchParam,
  textParam,
} from "../materializer/params.ts";
import { redact } from "../resources/secrets.ts";
import { ASSETS } from "./mod.ts";

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * Parses a size like `1GiB`, `512MiB` or `1000000` (bytes); `undefined` when
 * it is not one.
 *
 * @example
 * ```ts
 * import { sizeInBytes } from "./params.ts";
 * sizeInBytes("1GiB"); // 1073741824
 * sizeInBytes("lots"); // undefined
 * ```
 */
export function sizeInBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] || "b").toLowerCase()];
  if (!match || unit === undefined || +match[1] * unit < 1) return undefined;
  return Math.floor(+match[1] * unit);
}

/**
 * Parses a duration like `30s`, `500ms`, `2m` or a number of seconds into
 * milliseconds; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import { durationMs } from "./params.ts";
 * durationMs("2m"); // 120000
 * ```
 */
export function durationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match || +match[1] <= 0) return undefined;
  const factor = match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1000;
  return Math.round(+match[1] * factor);
}

const SIZE_RULE = "must look like 1GiB, 512MiB or a number of bytes";
const INITIALS = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_PREFIX = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** What assets read. */
export const ASSET_PARAMS = {
  initials: textParam({
    flag: "initials",
    metavar: "XX",
    env: ["IMPRESSIONS_INITIALS"],
    profile: "initials",
    pattern: INITIALS,
    rule: "must match [A-Za-z0-9_-]{1,32}",
    default: "Guy_Fawkes",
    test: "T",
    group: "Where",
    help: "initials in result names, [A-Za-z0-9_-]{1,32}",
  }),
  resultsPrefix: customParam({
    profile: "resultsPrefix",
    schema: (zod) =>
      zod.string().regex(KEY_PREFIX, "must be a relative key prefix without '..'")
        .refine((p) => !p.split("/").includes(".."), "must not contain '..'"),
    default: "results",
    group: "Where",
    help: "key prefix of published results",
  }),
  retries: integerParam({
    flag: "retries",
    metavar: "N",
    profile: "retries",
    min: 0,
    max: 20,
    default: 4,
    test: 0,
    group: "How",
    help: "retries of transient S3 errors",
  }),
  maxInvalidRows: integerParam({
    flag: "max-invalid-rows",
    metavar: "N",
    profile: "maxInvalidRows",
    min: 0,
    max: 1e12,
    default: 0,
    group: "How",
    help: "leave out up to N invalid rows per day, listed in rejected_*.csv; a file cut off " +
      "inside a quoted field counts one, from there to its end",
  }),
  memoryBudget: customParam({
    flag: "memory-budget",
    metavar: "SIZE",
    profile: "memoryBudget",
    schema: (zod) =>
      zod.string().refine((t) => sizeInBytes(t) !== undefined, SIZE_RULE)
        .transform((t) => sizeInBytes(t)!),
    fromText(text, source) {
      const bytes = sizeInBytes(text);
      if (bytes === undefined) {
        throw new ParamError(`${source} ${SIZE_RULE}, not ${JSON.stringify(text)}`);
      }
      return bytes;
    },
    default: 1 << 30,
    shownDefault: "1GiB",
    group: "How",
    help: "memory for row processing, shared by parallel dates",
  }),
  workers: integerParam({
    flag: "workers",
    metavar: "N",
    min: 0,
    max: 64,
    default: 2,
    test: 0,
    group: "How",
    help: "parser workers per date, 0 for none",
  }),
  thresholds: customParam({
    profile: "thresholds",
    // The names are those of the pipeline's checks that have a threshold.
    schema: (zod) =>
      zod.object(Object.fromEntries(
        ASSETS.flatMap((asset) => asset.checks)
          .filter((check) => check.threshold !== undefined)
          .map((check) => [check.name, zod.number().min(0).max(1).optional()]),
      )).strict().transform((t) => t as Record<string, number>),
    default: {},
    group: "How",
    help: "limits of the checks that have one (fractions), by check name",
  }),
  copyObjects: switchParam({
    flag: "copy-objects",
    profile: "copyObjects",
    default: false,
    group: "How",
    help: "copy a local folder bucket's objects into the cache instead of reading them where " +
      "they lie (a snapshot, for a folder that may change or sits on a slow mount)",
  }),
  withRows: switchParam({
    flag: "with-rows",
    default: false,
    group: "What",
    help: "also write the deduplicated rows as Parquet (published_parquet)",
  }),
};

/** Where bytes live: used to open resources, never handed to assets. */
export const RESOURCE_PARAMS = {
  bucket: textParam({
    flag: "bucket",
    metavar: "B",
    env: ["IMPRESSIONS_BUCKET"],
    profile: "bucket",
    group: "Where",
    shownDefault: "the sample bucket shipped in sample/bucket",
    help: "s3://NAME, NAME, file:///abs/path or ./path",
  }),
  endpoint: customParam({
    flag: "endpoint-url",
    metavar: "URL",
    env: ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"],
    profile: "endpointUrl",
    schema: (zod) => zod.url(),
    fromText(text, source) {
      if (!/^https?:\/\/[^\s]+$/.test(text)) {
        throw new ParamError(
          `${source} must be an http(s) URL, not ${JSON.stringify(redact(text))}`,
        );
      }
      return text;
    },
    group: "Where",
    help: "S3-compatible endpoint",
  }),
  region: textParam({
    flag: "region",
    metavar: "R",
    env: ["AWS_REGION", "AWS_DEFAULT_REGION"],
    profile: "region",
    pattern: /^[a-z0-9-]{2,32}$/,
    rule: "must look like eu-west-1",
    shownDefault: "us-east-1",
    group: "Where",
    help: "AWS region",
  }),
  timeoutMs: customParam({
    flag: "timeout",
    metavar: "T",
    profile: "timeoutSeconds",
    schema: (zod) => zod.number().positive().max(3600).transform((s) => s * 1000),
    fromText(text, source) {
      const ms = durationMs(text);
      if (ms === undefined) {
        throw new ParamError(
          `${source} must look like 30s, 500ms or 2m, not ${JSON.stringify(text)}`,
        );
      }
      return ms;
    },
    shownDefault: "none",
    group: "How",
    help: "per-request S3 timeout, e.g. 30s (profile: timeoutSeconds)",
  }),
  warehouse: textParam({
    flag: "warehouse",
    metavar: "W",
    profile: "warehouse",
    group: "Where",
    help: "SQL warehouse for warehouse_hourly_counts: postgres://USER@HOST:PORT/DB, sqlite:PATH " +
      "or a file path (default: CACHE_DIR/warehouse.sqlite)",
  }),
};

/** The values of {@linkcode ASSET_PARAMS}. */
export type AssetParamValues = ParamValues<typeof ASSET_PARAMS>;

/** The values of {@linkcode RESOURCE_PARAMS}. */
export type ResourceParamValues = ParamValues<typeof RESOURCE_PARAMS>;
