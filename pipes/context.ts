/**
 * The Dagster Pipes context: its types (from the protocol's `context.json`
 * schema) and the bootstrap that finds it. A Pipes launcher sets two
 * environment variables, `DAGSTER_PIPES_CONTEXT` and `DAGSTER_PIPES_MESSAGES`,
 * each base64 of zlib-compressed JSON. The first holds the context's params
 * (`{"path": FILE}` with the context as JSON in that file, or `{"data": {...}}`
 * with the context itself); the second the message writer's params (see
 * `writer.ts`).
 *
 * @module
 */

/** The protocol version this implementation speaks. */
export const PIPES_PROTOCOL_VERSION = "0.1";

/** The environment variable with the context loader's params. */
export const DAGSTER_PIPES_CONTEXT_ENV_VAR = "DAGSTER_PIPES_CONTEXT";

/** The environment variable with the message writer's params. */
export const DAGSTER_PIPES_MESSAGES_ENV_VAR = "DAGSTER_PIPES_MESSAGES";

/** Params passed from the orchestrator to a loader or writer. */
export type PipesParams = Record<string, unknown>;

/** An inclusive range of partition keys. */
export interface PipesPartitionKeyRange {
  /** First key. */
  start: string;
  /** Last key. */
  end: string;
}

/** A span of time, for time-based partitions (timestamps as strings). */
export interface PipesTimeWindow {
  /** Start timestamp. */
  start: string;
  /** End timestamp. */
  end: string;
}

/** Where an asset's current data came from. */
export interface PipesDataProvenance {
  /** Code version that produced it. */
  code_version: string;
  /** Data versions of its inputs, by asset key. */
  input_data_versions: Record<string, string>;
  /** Whether the data version was given by user code. */
  is_user_provided: boolean;
}

/** What the orchestrator tells the external process (schema `PipesContextData`). */
export interface PipesContextData {
  /** Selected asset keys (slash-separated user strings), or `null` outside an asset step. */
  asset_keys: string[] | null;
  /** Code version by asset key. */
  code_version_by_asset_key: Record<string, string | null> | null;
  /** Provenance by asset key. */
  provenance_by_asset_key: Record<string, PipesDataProvenance | null> | null;
  /** The partition key, when exactly one partition is targeted. */
  partition_key: string | null;
  /** The targeted partition keys, when partitioned. */
  partition_key_range: PipesPartitionKeyRange | null;
  /** The targeted time window, for time partitions. */
  partition_time_window: PipesTimeWindow | null;
  /** Dagster run id. */
  run_id: string;
  /** Job name, if any. */
  job_name: string | null;
  /** Retry number of the run (0 for the first attempt). */
  retry_number: number;
  /** Anything the launcher added. */
  extras: Record<string, unknown>;
}

/** The two params objects of a Pipes launch. */
export interface PipesBootstrap {
  /** Params of the context loader. */
  context: PipesParams;
  /** Params of the message writer. */
  messages: PipesParams;
}

/** A malformed bootstrap or context; the message says which value and why. */
export class PipesContextError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PipesContextError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function base64Bytes(text: string, what: string): Uint8Array {
  const clean = text.trim();
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) {
    throw new PipesContextError(`${what} is not base64: ${JSON.stringify(clean.slice(0, 40))}`);
  }
  const binary = atob(clean.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const body = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/**
 * Decodes a bootstrap value: base64, then zlib inflate, then JSON.
 *
 * @example
 * ```ts
 * import { decodeParam, encodeParam } from "./context.ts";
 * const value = await decodeParam(await encodeParam({ path: "/tmp/context.json" }));
 * // value is { path: "/tmp/context.json" }
 * ```
 */
export async function decodeParam(text: string, what = "Pipes param"): Promise<unknown> {
  const bytes = base64Bytes(text, what);
  let inflated: Uint8Array;
  try {
    inflated = await pipe(bytes, new DecompressionStream("deflate"));
  } catch (error) {
    throw new PipesContextError(
      `${what} is not zlib-compressed: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  try {
    return JSON.parse(new TextDecoder().decode(inflated));
  } catch (error) {
    throw new PipesContextError(
      `${what} is not JSON: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}

/**
 * Encodes a value the way a Pipes launcher does: JSON, zlib, base64.
 *
 * @example
 * ```ts
 * import { encodeParam } from "./context.ts";
 * const text = await encodeParam({ stdio: "stderr" });
 * ```
 */
export async function encodeParam(value: unknown): Promise<string> {
  const bytes = await pipe(
    new TextEncoder().encode(JSON.stringify(value)),
    new CompressionStream("deflate"),
  );
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Reads the bootstrap from environment variables; `undefined` when the
 * process was not launched by Pipes (no `DAGSTER_PIPES_CONTEXT`).
 *
 * @example
 * ```ts
 * import { readBootstrap } from "./context.ts";
 * const bootstrap = await readBootstrap({});
 * // bootstrap is undefined
 * ```
 */
export async function readBootstrap(
  env: Record<string, string | undefined>,
): Promise<PipesBootstrap | undefined> {
  const contextText = env[DAGSTER_PIPES_CONTEXT_ENV_VAR];
  if (contextText === undefined || contextText === "") return undefined;
  const messagesText = env[DAGSTER_PIPES_MESSAGES_ENV_VAR];
  if (messagesText === undefined || messagesText === "") {
    throw new PipesContextError(
      `${DAGSTER_PIPES_CONTEXT_ENV_VAR} is set but ${DAGSTER_PIPES_MESSAGES_ENV_VAR} is not`,
    );
  }
  const context = await decodeParam(contextText, DAGSTER_PIPES_CONTEXT_ENV_VAR);
  const messages = await decodeParam(messagesText, DAGSTER_PIPES_MESSAGES_ENV_VAR);
  if (!isObject(context)) {
    throw new PipesContextError(`${DAGSTER_PIPES_CONTEXT_ENV_VAR} must hold a JSON object`);
  }
  if (!isObject(messages)) {
    throw new PipesContextError(`${DAGSTER_PIPES_MESSAGES_ENV_VAR} must hold a JSON object`);
  }
  return { context, messages };
}

const NULLABLE_STRING = (v: unknown) => v === null || typeof v === "string";
const NULLABLE_OBJECT = (v: unknown) => v === null || isObject(v);
const RANGE = (v: unknown) =>
  v === null || (isObject(v) && typeof v.start === "string" && typeof v.end === "string");

/** Each required field of `PipesContextData` and what it must be. */
const FIELDS: Record<keyof PipesContextData, [string, (v: unknown) => boolean]> = {
  asset_keys: [
    "an array of strings or null",
    (v) => v === null || (Array.isArray(v) && v.every((k) => typeof k === "string")),
  ],
  code_version_by_asset_key: ["an object or null", NULLABLE_OBJECT],
  provenance_by_asset_key: ["an object or null", NULLABLE_OBJECT],
  partition_key: ["a string or null", NULLABLE_STRING],
  partition_key_range: ["{start, end} or null", RANGE],
  partition_time_window: ["{start, end} or null", RANGE],
  run_id: ["a string", (v) => typeof v === "string"],
  job_name: ["a string or null", NULLABLE_STRING],
  retry_number: ["an integer", (v) => Number.isInteger(v)],
  extras: ["an object", isObject],
};

/**
 * Checks a decoded context against the schema's required fields and types.
 *
 * @example
 * ```ts
 * import { validateContext } from "./context.ts";
 * validateContext({
 *   asset_keys: ["a"], code_version_by_asset_key: null, provenance_by_asset_key: null,
 *   partition_key: null, partition_key_range: null, partition_time_window: null,
 *   run_id: "r", job_name: null, retry_number: 0, extras: {},
 * });
 * ```
 */
export function validateContext(value: unknown): PipesContextData {
  if (!isObject(value)) throw new PipesContextError("the Pipes context is not a JSON object");
  for (const [field, [expected, ok]] of Object.entries(FIELDS)) {
    if (!(field in value)) {
      throw new PipesContextError(`the Pipes context has no field ${JSON.stringify(field)}`);
    }
    if (!ok(value[field])) {
      throw new PipesContextError(
        `the Pipes context's ${field} must be ${expected}, not ${
          JSON.stringify(value[field])?.slice(0, 60)
        }`,
      );
    }
  }
  return value as unknown as PipesContextData;
}

/**
 * Loads the context its params point at: the file at `path` (JSON), or
 * the object at `data`.
 *
 * @example
 * ```ts
 * import { loadContext } from "./context.ts";
 * const context = await loadContext({
 *   data: {
 *     asset_keys: null, code_version_by_asset_key: null, provenance_by_asset_key: null,
 *     partition_key: "2021-01-30", partition_key_range: { start: "2021-01-30", end: "2021-01-30" },
 *     partition_time_window: null, run_id: "r", job_name: null, retry_number: 0, extras: {},
 *   },
 * });
 * // context.partition_key is "2021-01-30"
 * ```
 */
export async function loadContext(params: PipesParams): Promise<PipesContextData> {
  if (typeof params.path === "string") {
    let text: string;
    try {
      text = await Deno.readTextFile(params.path);
    } catch (error) {
      throw new PipesContextError(
        `cannot read the Pipes context file ${JSON.stringify(params.path)}: ${
          (error as Error).message.split("\n")[0]
        }`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new PipesContextError(
        `the Pipes context file ${JSON.stringify(params.path)} is not JSON: ${
          (error as Error).message.split("\n")[0]
        }`,
      );
    }
    return validateContext(parsed);
  }
  if ("data" in params) return validateContext(params.data);
  throw new PipesContextError(
    `the Pipes context params need "path" or "data", got keys ${
      JSON.stringify(Object.keys(params))
    }`,
  );
}
