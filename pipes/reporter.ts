/**
 * A Pipes session: loads the context, opens the message writer, sends
 * `opened`, then the reports, then `closed`.
 *
 * @module
 */

import { loadContext, type PipesContextData, readBootstrap } from "./context.ts";
import {
  type PipesAssetCheckSeverity,
  type PipesException,
  pipesException,
  type PipesLogLevel,
  type PipesMessage,
  pipesMessage,
  type PipesMetadata,
  type PipesMetadataValue,
  type PipesMethod,
} from "./messages.ts";
import { type MessageWriterOptions, openMessageWriter, type PipesMessageWriter } from "./writer.ts";

/** A report the session refuses (unknown asset key, reported twice, closed). */
export class PipesReportError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PipesReportError";
  }
}

/** What an asset materialization reports. */
export interface MaterializationReport {
  /** Asset key as a slash-separated user string. */
  assetKey: string;
  /** Data version. */
  dataVersion?: string;
  /** Typed metadata (see {@linkcode metadataValue}). */
  metadata?: PipesMetadata;
}

/** What an asset check reports. */
export interface AssetCheckReport {
  /** Asset key the check belongs to. */
  assetKey: string;
  /** Check name. */
  checkName: string;
  /** Whether it passed. */
  passed: boolean;
  /** Severity (default `ERROR`). */
  severity?: PipesAssetCheckSeverity;
  /** Typed metadata. */
  metadata?: PipesMetadata;
}

/** An open session. */
export interface PipesSession {
  /** The context the orchestrator sent. */
  readonly context: PipesContextData;
  /** The standard stream messages go to, if one: other output belongs on the other. */
  readonly stream?: "stdout" | "stderr";
  /** Reports a materialization (once per asset key). */
  reportAssetMaterialization(report: MaterializationReport): Promise<void>;
  /** Reports a check result. */
  reportAssetCheck(report: AssetCheckReport): Promise<void>;
  /** Sends a log line to the orchestrator's event log. */
  log(message: string, level?: PipesLogLevel): Promise<void>;
  /** Sends `closed` (with the error, on failure) and flushes; idempotent. */
  close(error?: unknown): Promise<void>;
}

/** Options for {@linkcode openPipesSession}. */
export interface PipesSessionOptions extends MessageWriterOptions {
  /** Environment holding `DAGSTER_PIPES_CONTEXT` and `DAGSTER_PIPES_MESSAGES`. */
  env: Record<string, string | undefined>;
  /** Applied to every string of every message before it is written (secrets out). */
  scrub?: (text: string) => string;
  /** Extras for the `opened` message. */
  openedExtras?: Record<string, unknown>;
}

/**
 * Infers a typed metadata value from a JSON value: whole numbers are `int`,
 * other numbers `float`, booleans `bool`, strings with a scheme (`s3://`,
 * `https://`, `file://`) `url`, other strings `text`, `null` `null`, arrays and
 * objects `json`.
 *
 * @example
 * ```ts
 * import { metadataValue } from "./reporter.ts";
 * metadataValue(315); // { type: "int", raw_value: 315 }
 * metadataValue("s3://b/k.csv"); // { type: "url", raw_value: "s3://b/k.csv" }
 * ```
 */
export function metadataValue(value: unknown): PipesMetadataValue {
  if (value === null || value === undefined) return { type: "null", raw_value: null };
  if (typeof value === "number") {
    return { type: Number.isInteger(value) ? "int" : "float", raw_value: value };
  }
  if (typeof value === "boolean") return { type: "bool", raw_value: value };
  if (typeof value === "string") {
    return { type: /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(value) ? "url" : "text", raw_value: value };
  }
  return { type: "json", raw_value: value };
}

function scrubbed(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === "string") return scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubbed(v, scrub));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [scrub(k), scrubbed(v, scrub)]),
    );
  }
  return value;
}

/**
 * Opens a session when the environment has the Pipes bootstrap; `undefined`
 * otherwise. Sends `opened` before returning.
 *
 * @example
 * ```ts
 * import { openPipesSession } from "./reporter.ts";
 * const session = await openPipesSession({ env: {} });
 * // session is undefined: not launched by Pipes
 * ```
 */
export async function openPipesSession(
  options: PipesSessionOptions,
): Promise<PipesSession | undefined> {
  const bootstrap = await readBootstrap(options.env);
  if (!bootstrap) return undefined;
  const context = await loadContext(bootstrap.context);
  const writer: PipesMessageWriter = openMessageWriter(bootstrap.messages, options);
  const scrub = options.scrub ?? ((text: string) => text);
  const materialized = new Set<string>();
  let closed = false;
  const send = async (method: PipesMethod, params: Record<string, unknown> | null) => {
    if (closed) throw new PipesReportError(`cannot send ${method}: the Pipes session is closed`);
    const message = pipesMessage(method, params && scrubbed(params, scrub) as typeof params);
    await writer.write(message as PipesMessage);
  };
  const knownKey = (assetKey: string, method: string) => {
    const keys = context.asset_keys;
    if (keys && !keys.includes(assetKey)) {
      throw new PipesReportError(
        `${method}: asset key ${JSON.stringify(assetKey)} is not one of ${JSON.stringify(keys)}`,
      );
    }
  };
  await send("opened", { extras: options.openedExtras ?? {} });
  return {
    context,
    stream: writer.stream,
    async reportAssetMaterialization(report) {
      knownKey(report.assetKey, "report_asset_materialization");
      if (materialized.has(report.assetKey)) {
        throw new PipesReportError(
          `report_asset_materialization: ${JSON.stringify(report.assetKey)} was already reported`,
        );
      }
      materialized.add(report.assetKey);
      await send("report_asset_materialization", {
        asset_key: report.assetKey,
        data_version: report.dataVersion ?? null,
        metadata: report.metadata ?? null,
      });
    },
    async reportAssetCheck(report) {
      knownKey(report.assetKey, "report_asset_check");
      await send("report_asset_check", {
        asset_key: report.assetKey,
        check_name: report.checkName,
        passed: report.passed,
        severity: report.severity ?? "ERROR",
        metadata: report.metadata ?? null,
      });
    },
    async log(message, level = "INFO") {
      await send("log", { message, level });
    },
    async close(error) {
      if (closed) return;
      const exception: PipesException | undefined = error === undefined
        ? undefined
        : isPipesException(error)
        ? error
        : pipesException(error);
      await send("closed", exception ? { exception } : {});
      closed = true;
      await writer.close();
    },
  };
}

function isPipesException(value: unknown): value is PipesException {
  return typeof value === "object" && value !== null && "message" in value &&
    "stack" in value && Array.isArray((value as PipesException).stack) &&
    !(value instanceof Error);
}
