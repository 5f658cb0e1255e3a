/**
 * Aligned text tables for terminals.
 *
 * @module
 */

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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => {
      const cell = c ?? "";
      if (i === cells.length - 1 && align?.[i] !== "right") return cell;
      return align?.[i] === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
    }).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
