/**
 * `CAMPAIGN_ID` values: an integer or empty. `9624.0` and `09624` both mean
 * 9624 and are written out as `9624`. Values are kept as canonical decimal
 * strings so that 64-bit ids never lose precision.
 *
 * @module
 */

const INT64_MAX = "9223372036854775807";
const INT64_MIN_ABS = "9223372036854775808";

/** The outcome of {@linkcode parseCampaign}: a canonical id or a reason. */
export type CampaignParse = { id: string } | { error: string };

/**
 * Parses a trimmed campaign id into its canonical form (`""` for empty).
 *
 * @example
 * ```ts
 * import { parseCampaign } from "./campaign.ts";
 * parseCampaign("09624"); // { id: "9624" }
 * parseCampaign("9624.0"); // { id: "9624" }
 * parseCampaign("96.5"); // { error: "not an integer" }
 * ```
 */
export function parseCampaign(text: string): CampaignParse {
  if (text === "") return { id: "" };
  const match = /^([+-]?)(\d+)(?:\.(0+))?$/.exec(text);
  if (match === null) return { error: "not an integer" };
  const negative = match[1] === "-";
  const magnitude = match[2].replace(/^0+(?=\d)/, "");
  const limit = negative ? INT64_MIN_ABS : INT64_MAX;
  if (
    magnitude.length > limit.length ||
    (magnitude.length === limit.length && magnitude > limit)
  ) return { error: "out of the 64-bit integer range" };
  return { id: negative && magnitude !== "0" ? `-${magnitude}` : magnitude };
}

/**
 * Orders canonical campaign ids as numbers, the empty campaign last.
 *
 * @example
 * ```ts
 * import { compareCampaigns } from "./campaign.ts";
 * ["10", "", "9", "-3"].sort(compareCampaigns); // ["-3", "9", "10", ""]
 * ```
 */
export function compareCampaigns(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "") return 1;
  if (b === "") return -1;
  const na = a.startsWith("-");
  const nb = b.startsWith("-");
  if (na !== nb) return na ? -1 : 1;
  const byMagnitude = a.length !== b.length ? a.length - b.length : a < b ? -1 : 1;
  return na ? -byMagnitude : byMagnitude;
}
