/**
 * Logging to stderr, as plain lines or one JSON event per line. Stdout is
 * kept for published URIs only.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type Level = "debug" | "info" | "warn" | "error";

/** Where assets and the materializer write what happens. */
export interface Logger {
  /** Logs a message with optional structured fields. */
  log(level: Level, message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every event. */
  child(fields: Record<string, unknown>): Logger;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** `text` (default) or `json` lines. */
  format?: "text" | "json";
  /** Least severe level written; `info` by default. */
  level?: Level;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  /** Values never to print (secrets); replaced by `***` (see `redact` in resources/secrets.ts). */
  redact?: string[];
}

import { redact, redactValue } from "../resources/secrets.ts";
import { escapeText } from "../engine/escape_text.ts";

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const encoder = new TextEncoder();

/** Writes a line to stderr. */
export function writeStderr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger({ format: "json", write: (l) => lines.push(l) });
 * log.child({ date: "2021-01-30" }).log("info", "materialized");
 * // lines[0] is {"time":"…","level":"info","message":"materialized","date":"2021-01-30"}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? "text";
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? writeStderr;
  const secrets = options.redact ?? [];
  const make = (base: Record<string, unknown>): Logger => ({
    log(level, message, fields) {
      if (RANK[level] < min) return;
      // Redacted before formatting, so a secret that JSON would escape is still found.
      const all = redactValue({ ...base, ...fields }, secrets);
      const text = redact(message, secrets);
      let line: string;
      if (format === "json") {
        line = JSON.stringify({ time: new Date().toISOString(), level, message: text, ...all });
      } else {
        const prefix = typeof all.date === "string" ? `[${all.date}] ` : "";
        const tag = level === "info" || level === "debug" ? "" : `${level}: `;
        line = `${prefix}${tag}${text}`;
      }
      // One line whatever a message quotes; in JSON, escapes stay valid JSON.
      write(escapeText(line));
    },
    child(fields) {
      return make({ ...base, ...fields });
    },
  });
  return make({});
}
