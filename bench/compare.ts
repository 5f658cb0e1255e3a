/**
 * Compares the hourly-count CSVs of the benchmark's contenders row by row.
 *
 * @module
 */

/** The header every contender writes. */
export const COUNTS_HEADER = "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT";

/** One parsed counts file. */
export interface CountsFile {
  /** `campaign,hour` → count, in file order. */
  counts: Map<string, number>;
  /** Sum of all counts. */
  total: number;
  /** Problems with the file's form (header, malformed or repeated rows). */
  problems: string[];
}

/**
 * Parses a counts CSV.
 *
 * @example
 * ```ts
 * import { parseCounts } from "./compare.ts";
 * const parsed = parseCounts("CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n7,3,2\n,0,1\n");
 * // parsed.counts is Map { "7,3" => 2, ",0" => 1 }, parsed.total is 3
 * ```
 */
export function parseCounts(text: string): CountsFile {
  const problems: string[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  else problems.push("no final newline");
  if (lines[0] !== COUNTS_HEADER) problems.push(`header is ${JSON.stringify(lines[0])}`);
  const counts = new Map<string, number>();
  let total = 0;
  for (let i = 1; i < lines.length; i++) {
    const match = /^(-?\d*),(\d{1,2}),(\d+)$/.exec(lines[i]);
    if (match === null) {
      if (problems.length < 10) problems.push(`line ${i + 1} is ${JSON.stringify(lines[i])}`);
      continue;
    }
    const key = `${match[1]},${+match[2]}`;
    if (counts.has(key) && problems.length < 10) problems.push(`line ${i + 1} repeats ${key}`);
    counts.set(key, (counts.get(key) ?? 0) + +match[3]);
    total += +match[3];
  }
  return { counts, total, problems };
}

/** How one contender's output compares with the reference. */
export interface Comparison {
  /** Whether every row is the same (same campaigns, hours and counts). */
  agree: boolean;
  /** Whether the files are byte-identical. */
  identical: boolean;
  /** Number of (campaign, hour) rows that differ or exist on one side only. */
  differingRows: number;
  /** The first differing rows, `campaign,hour: reference vs other`. */
  firstDifferences: string[];
  /** Totals of both sides. */
  totals: { reference: number; other: number };
}

/**
 * Compares every row of `other` with `reference`.
 *
 * @example
 * ```ts
 * import { compareCounts } from "./compare.ts";
 * const a = "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n7,3,2\n";
 * const b = "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n7,3,1\n";
 * compareCounts(a, b).firstDifferences; // ["7,3: 2 vs 1"]
 * ```
 */
export function compareCounts(reference: string, other: string, show = 5): Comparison {
  const a = parseCounts(reference);
  const b = parseCounts(other);
  const differences: string[] = [];
  let differingRows = 0;
  for (const [key, count] of a.counts) {
    const theirs = b.counts.get(key);
    if (theirs !== count) {
      differingRows++;
      if (differences.length < show) differences.push(`${key}: ${count} vs ${theirs ?? "none"}`);
    }
  }
  for (const [key, count] of b.counts) {
    if (!a.counts.has(key)) {
      differingRows++;
      if (differences.length < show) differences.push(`${key}: none vs ${count}`);
    }
  }
  for (const problem of b.problems) {
    if (differences.length < show) differences.push(`form: ${problem}`);
  }
  return {
    agree: differingRows === 0 && b.problems.length === 0,
    identical: reference === other,
    differingRows,
    firstDifferences: differences,
    totals: { reference: a.total, other: b.total },
  };
}
