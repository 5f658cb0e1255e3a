/**
 * The DuckDB contender of the benchmark: the whole job (dedupe on
 * IMPRESSION_ID + instant across the day's files, then impressions per
 * CAMPAIGN_ID and UTC hour of the date) as one SQL query over the same CSV
 * files, written in the pipeline's exact output format so that the outputs
 * compare byte for byte.
 *
 * Bench-only: `@duckdb/node-api` is never imported by the pipeline.
 *
 * ```sh
 * deno run --allow-ffi --allow-env --allow-read --allow-write bench/duckdb_query.ts \
 *   --date 2021-01-30 --out /tmp/duckdb.csv [--threads 2] FILE.csv...
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";

/** SQL string literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The query: every column read as VARCHAR; the id and datetime trimmed;
 * the datetime cast to TIMESTAMPTZ with the session in UTC, so that
 * `12:15:02` and `12:15:02.000` are the same instant, `Z` and `±HH:MM`
 * offsets apply and no offset means UTC; one row kept per (id, instant);
 * rows whose instant is on the partition's UTC date counted per campaign
 * and hour. Campaign ids are canonicalised like the pipeline does (`09624`
 * and `9624.0` are 9624; empty sorts last).
 *
 * DuckDB keeps microseconds, the pipeline nanoseconds: instants that differ
 * only below the microsecond would merge here (the synthetic days have
 * milliseconds at most). Duplicates in the synthetic days are exact copies,
 * so which copy is kept does not change the campaign.
 *
 * @example
 * ```ts
 * import { countsQuery } from "./duckdb_query.ts";
 * const sql = countsQuery(["/data/2021/01/30/part-0000.csv"], "2021-01-30");
 * // sql reads the file and groups by campaign and hour
 * ```
 */
export function countsQuery(files: readonly string[], date: string): string {
  const dayStartUs = Date.parse(`${date}T00:00:00Z`) * 1000;
  const dayEndUs = dayStartUs + 86_400_000_000;
  return `
WITH raw AS (
  SELECT trim(IMPRESSION_ID) AS id,
         CAST(trim(IMPRESSION_DATETIME) AS TIMESTAMPTZ) AS ts,
         trim(CAMPAIGN_ID) AS campaign
  FROM read_csv([${files.map(literal).join(", ")}], header = true, all_varchar = true)
),
deduped AS (
  SELECT id, ts, any_value(campaign) AS campaign
  FROM raw
  GROUP BY id, ts
),
by_text AS (
  SELECT campaign,
         CAST((epoch_us(ts) - ${dayStartUs}) // 3600000000 AS INTEGER) AS hour,
         count(*) AS n
  FROM deduped
  WHERE epoch_us(ts) >= ${dayStartUs} AND epoch_us(ts) < ${dayEndUs}
  GROUP BY ALL
),
canonical AS (
  SELECT CAST(nullif(regexp_replace(coalesce(campaign, ''), '\\.0+$', ''), '') AS HUGEINT)
           AS campaign_number,
         hour,
         n
  FROM by_text
)
SELECT CAST(campaign_number AS VARCHAR) AS campaign_id, hour, CAST(sum(n) AS BIGINT) AS n
FROM canonical
GROUP BY campaign_number, hour
ORDER BY campaign_number NULLS LAST, hour`;
}

/** Formats result rows as the pipeline's published CSV. */
export function formatRows(rows: readonly (readonly unknown[])[]): string {
  const lines = ["CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT"];
  for (const [campaign, hour, count] of rows) {
    lines.push(`${campaign ?? ""},${hour},${count}`);
  }
  return lines.join("\n") + "\n";
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      date: { type: "string" },
      out: { type: "string" },
      threads: { type: "string", default: "2" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (!values.date || !values.out || positionals.length === 0) {
    console.error(
      "usage: duckdb_query.ts --date YYYY-MM-DD --out PATH [--threads N] FILE.csv...",
    );
    return 2;
  }
  const instance = await DuckDBInstance.create(":memory:", { threads: values.threads });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const reader = await connection.runAndReadAll(countsQuery(positionals, values.date));
  await Deno.writeTextFile(values.out, formatRows(reader.getRows()));
  connection.closeSync();
  instance.closeSync();
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`duckdb_query: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
