/**
 * Private helpers of the report: escaping and number formatting.
 *
 * @module
 */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML and SVG, in content and in quoted attributes.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./_helpers.ts";
 * escapeXml('<a href="x">'); // "&lt;a href=&quot;x&quot;&gt;"
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/**
 * A whole number with thousands separators; every digit kept.
 *
 * @example
 * ```ts
 * import { formatCount } from "./_helpers.ts";
 * formatCount(1234567); // "1,234,567"
 * ```
 */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 20 });
}

/**
 * A share as a percentage with two decimals, e.g. `9.48%`.
 *
 * @example
 * ```ts
 * import { formatShare } from "./_helpers.ts";
 * formatShare(33 / 348); // "9.48%"
 * ```
 */
export function formatShare(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

/**
 * Milliseconds as seconds, e.g. `1.25 s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./_helpers.ts";
 * formatDuration(1250); // "1.25 s"
 * ```
 */
export function formatDuration(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(2)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * The first 12 characters of a data version.
 *
 * @example
 * ```ts
 * import { shortVersion } from "./_helpers.ts";
 * shortVersion("66a9bfa816fdade1e47a"); // "66a9bfa816fd"
 * ```
 */
export function shortVersion(version: string): string {
  return version.slice(0, 12);
}
