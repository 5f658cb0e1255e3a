/**
 * Aligned text tables for terminals. Cells are escaped with `escapeText`
 * (a device type read from an object may hold anything).
 *
 * @module
 */

import { escapeText } from "../engine/escape_text.ts";

/**
 * Formats rows under a header, columns padded to their widest cell.
 *
 * @example
 * ```ts
 * import { formatTable } from "./table.ts";
 * formatTable(["date", "status"], [["2021-01-30", "materialized"]]);
 * // "date        status\n2021-01-30  materialized"
 * ```
 */
export function formatTable(
  header: string[],
  rows: string[][],
  align?: ("left" | "right")[],
): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => escapeText(r[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => {
      const cell = escapeText(c ?? "");
      if (i === cells.length - 1 && align?.[i] !== "right") return cell;
      return align?.[i] === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
    }).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
