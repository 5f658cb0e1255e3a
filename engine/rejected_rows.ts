/**
 * The CSV of rows left out as invalid: where each one is and why.
 *
 * @module
 */

import type { InvalidRow } from "./scan_impressions.ts";

/** Header of the rejected-rows CSV. */
export const REJECTED_HEADER = "OBJECT_KEY,LINE,COLUMN,VALUE,REASON";

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * Formats invalid rows as RFC 4180 CSV (quoted where needed, LF endings).
 *
 * @example
 * ```ts
 * import { formatRejectedCsv } from "./rejected_rows.ts";
 * formatRejectedCsv([{ key: "a.csv", line: 3, column: "CAMPAIGN_ID", value: "1,5", reason: "not an integer" }]);
 * // 'OBJECT_KEY,LINE,COLUMN,VALUE,REASON\na.csv,3,CAMPAIGN_ID,"1,5",not an integer\n'
 * ```
 */
export function formatRejectedCsv(rows: readonly InvalidRow[]): string {
  const lines = [REJECTED_HEADER];
  for (const row of rows) {
    lines.push(
      [row.key, String(row.line), row.column, row.value, row.reason].map(quote).join(","),
    );
  }
  return lines.join("\n") + "\n";
}
