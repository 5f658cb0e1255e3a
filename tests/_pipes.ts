/**
 * Pipes test helpers: a context with every field `context.json` requires, and
 * a check of a wire line against `message.json` and the method's params.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { PipesContextData } from "../pipes/mod.ts";

/** A context with every field `context.json` requires. */
export function pipesContext(overrides: Partial<PipesContextData> = {}): PipesContextData {
  return {
    asset_keys: ["raw_partition", "published_csv"],
    code_version_by_asset_key: { raw_partition: "1", published_csv: "1" },
    provenance_by_asset_key: { raw_partition: null, published_csv: null },
    partition_key: "2021-01-30",
    partition_key_range: { start: "2021-01-30", end: "2021-01-30" },
    partition_time_window: {
      start: "2021-01-30T00:00:00+00:00",
      end: "2021-01-31T00:00:00+00:00",
    },
    run_id: "run-1",
    job_name: "__ASSET_JOB",
    retry_number: 0,
    extras: {},
    ...overrides,
  };
}

/**
 * The params Dagster's message handler reads for each method (it calls the
 * handler with them as keyword arguments, so a missing one fails there).
 */
const REQUIRED_PARAMS: Record<string, string[]> = {
  opened: ["extras"],
  closed: [],
  log: ["message", "level"],
  report_asset_materialization: ["asset_key", "data_version", "metadata"],
  report_asset_check: ["asset_key", "check_name", "passed", "severity", "metadata"],
};

/** Checks one wire line against `message.json` and the method's params. */
export function assertValidMessage(line: string): Record<string, unknown> {
  const message = JSON.parse(line);
  // message.json: required method (string) and params (object or null).
  assert.equal(typeof message.method, "string", line);
  assert.ok("params" in message, line);
  assert.ok(
    message.params === null ||
      (typeof message.params === "object" && !Array.isArray(message.params)),
    line,
  );
  assert.equal(message.__dagster_pipes_version, "0.1");
  for (const key of REQUIRED_PARAMS[message.method] ?? []) {
    assert.ok(key in message.params, `${message.method} lacks ${key}: ${line}`);
  }
  if (message.method === "closed" && message.params.exception) {
    for (const key of ["name", "message", "stack", "cause", "context"]) {
      assert.ok(key in message.params.exception, `exception lacks ${key}`);
    }
  }
  for (const value of Object.values(message.params?.metadata ?? {})) {
    assert.deepEqual(Object.keys(value as object).sort(), ["raw_value", "type"]);
  }
  return message;
}
