/**
 * Pipes messages: the envelope (schema `PipesMessage`: `method`, `params`,
 * `__dagster_pipes_version`) and the params of each method the external
 * process sends.
 *
 * @module
 */

import { PIPES_PROTOCOL_VERSION } from "./context.ts";

/** The methods an external process may send. */
export type PipesMethod =
  | "opened"
  | "closed"
  | "log"
  | "report_asset_materialization"
  | "report_asset_check"
  | "report_custom_message"
  | "log_external_stream";

/** One message, one JSON line on the wire. */
export interface PipesMessage {
  /** Protocol version, {@linkcode PIPES_PROTOCOL_VERSION}. */
  __dagster_pipes_version: string;
  /** What the message reports. */
  method: PipesMethod;
  /** Its params (an object, or `null`). */
  params: Record<string, unknown> | null;
}

/** How the orchestrator should read a metadata value. */
export type PipesMetadataType =
  | "__infer__"
  | "text"
  | "url"
  | "path"
  | "notebook"
  | "json"
  | "md"
  | "float"
  | "int"
  | "bool"
  | "dagster_run"
  | "asset"
  | "null"
  | "table"
  | "table_schema"
  | "table_column_lineage"
  | "timestamp";

/** A typed metadata value. */
export interface PipesMetadataValue {
  /** Its type. */
  type: PipesMetadataType;
  /** The value as JSON. */
  raw_value: unknown;
}

/** Metadata by name. */
export type PipesMetadata = Record<string, PipesMetadataValue>;

/** Severity of an asset check. */
export type PipesAssetCheckSeverity = "WARN" | "ERROR";

/** Log levels the orchestrator understands. */
export type PipesLogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

/** An error, as `closed` carries it. */
export interface PipesException {
  /** Error class name. */
  name: string | null;
  /** Message. */
  message: string;
  /** Stack lines. */
  stack: string[];
  /** The error that caused it. */
  cause: PipesException | null;
  /** The error being handled when it was raised. */
  context: PipesException | null;
}

/** Params of `report_asset_materialization`. */
export interface PipesMaterializationParams {
  /** Asset key (slash-separated user string). */
  asset_key: string;
  /** Data version, if known. */
  data_version: string | null;
  /** Metadata, if any. */
  metadata: PipesMetadata | null;
}

/** Params of `report_asset_check`. */
export interface PipesAssetCheckParams {
  /** Asset key the check is attached to. */
  asset_key: string;
  /** Check name. */
  check_name: string;
  /** Whether it passed. */
  passed: boolean;
  /** Its severity. */
  severity: PipesAssetCheckSeverity;
  /** Metadata, if any. */
  metadata: PipesMetadata | null;
}

/**
 * Wraps params in the envelope.
 *
 * @example
 * ```ts
 * import { pipesMessage } from "./messages.ts";
 * pipesMessage("opened", { extras: {} });
 * // { __dagster_pipes_version: "0.1", method: "opened", params: { extras: {} } }
 * ```
 */
export function pipesMessage(
  method: PipesMethod,
  params: Record<string, unknown> | null,
): PipesMessage {
  return { __dagster_pipes_version: PIPES_PROTOCOL_VERSION, method, params };
}

/**
 * Turns an error into the protocol's exception shape; `cause` chains are kept.
 *
 * @example
 * ```ts
 * import { pipesException } from "./messages.ts";
 * pipesException(new Error("boom")).message; // "boom"
 * ```
 */
export function pipesException(error: unknown, depth = 0): PipesException {
  if (!(error instanceof Error)) {
    return { name: null, message: String(error), stack: [], cause: null, context: null };
  }
  const stack = (error.stack ?? "").split("\n").slice(1).map((line) => line.trim())
    .filter((line) => line.startsWith("at "));
  return {
    name: error.name,
    message: error.message,
    stack,
    cause: error.cause !== undefined && depth < 8 ? pipesException(error.cause, depth + 1) : null,
    context: null,
  };
}

function markFloats(value: unknown, mark: string): unknown {
  if (Array.isArray(value)) return value.map((v) => markFloats(v, mark));
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (
    record.type === "float" && typeof record.raw_value === "number" &&
    Number.isInteger(record.raw_value) && Object.keys(record).length === 2
  ) {
    return { type: "float", raw_value: `${mark}${record.raw_value}` };
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, markFloats(v, mark)]));
}

/**
 * Serializes a message as one JSON line. A `float` metadata value that
 * happens to be whole (`15`) is written as `15.0`: JSON has one number type,
 * but Dagster's reader checks that a float's raw value parses as a float.
 *
 * @example
 * ```ts
 * import { encodeMessage, pipesMessage } from "./messages.ts";
 * encodeMessage(pipesMessage("report_asset_materialization", {
 *   asset_key: "a", data_version: null, metadata: { ms: { type: "float", raw_value: 15 } },
 * }));
 * // ...,"metadata":{"ms":{"type":"float","raw_value":15.0}}}}
 * ```
 */
export function encodeMessage(message: PipesMessage): string {
  // A mark no text can contain: a fresh random id per message.
  const id = crypto.randomUUID();
  return JSON.stringify(markFloats(message, `${id}:`)).replaceAll(
    new RegExp(`"${id}:(-?\\d[\\de+-]*)"`, "g"),
    (_, number: string) => number.includes("e") ? number : `${number}.0`,
  );
}
