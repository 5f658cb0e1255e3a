/**
 * PostgreSQL for tests: the server named by `PG_TEST_URL` (`.ci/run` starts
 * a throwaway cluster and sets it), with one fresh database per test so that
 * test files running in parallel never see each other's rows.
 *
 * Without `PG_TEST_URL`, a PostgreSQL test is skipped and says why in its
 * name; under `CI=true` it fails instead.
 *
 * @module
 */

import postgres from "postgres";
import { postgresClientOptions } from "../resources/postgres_warehouse.ts";

/** The admin URL of the test server, if any. */
export const PG_TEST_URL = Deno.env.get("PG_TEST_URL") || undefined;

const IN_CI = Deno.env.get("CI") === "true";

function client(url: string) {
  return postgres(url, { ...postgresClientOptions(url), max: 1 });
}

/**
 * A test that gets the URL of a fresh database on the test server, dropped
 * afterwards; skipped (outside CI) or failing (under `CI=true`) without one.
 *
 * @example
 * ```ts
 * import { postgresTest } from "./_postgres.ts";
 * Deno.test(postgresTest("loads rows", async (url, t) => {
 *   // ...
 * }));
 * ```
 */
export function postgresTest(
  name: string,
  fn: (url: string, t: Deno.TestContext) => Promise<void>,
): Deno.TestDefinition {
  if (PG_TEST_URL) {
    return {
      name: `${name} (PostgreSQL)`,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: (t) => withDatabase(PG_TEST_URL!, (url) => fn(url, t)),
    };
  }
  if (IN_CI) {
    return {
      name: `${name} (PostgreSQL)`,
      fn() {
        throw new Error(
          "PG_TEST_URL is not set under CI=true: .ci/run starts PostgreSQL and exports it",
        );
      },
    };
  }
  return {
    name: `${name} (PostgreSQL; skipped: PG_TEST_URL is not set, .ci/run starts a server)`,
    ignore: true,
    fn: () => {},
  };
}

/**
 * Creates a database, runs `fn` with its URL, drops it.
 *
 * @example
 * ```ts
 * import { withDatabase } from "./_postgres.ts";
 * // await withDatabase(adminUrl, async (url) => { ... });
 * ```
 */
export async function withDatabase<T>(
  adminUrl: string,
  fn: (url: string) => Promise<T>,
): Promise<T> {
  const name = `impressions_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = client(adminUrl);
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      return await fn(url.toString());
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/**
 * Runs SQL on a database and returns its rows (a short-lived connection).
 *
 * @example
 * ```ts
 * import { pgQuery } from "./_postgres.ts";
 * // const rows = await pgQuery(url, "SELECT count(*)::int AS n FROM loads");
 * ```
 */
export async function pgQuery(url: string, text: string): Promise<Record<string, unknown>[]> {
  const sql = client(url);
  try {
    return [...await sql.unsafe(text)];
  } finally {
    await sql.end({ timeout: 5 });
  }
}
