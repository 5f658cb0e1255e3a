/**
 * Reliability figures for the suite's closing summary: tests append counts
 * (faults injected, crash points, bad inputs, fuzz cases) as JSON lines to
 * the file named by `IMPRESSIONS_TEST_SUMMARY`, which `.ci/run` adds up.
 *
 * @module
 */

/** Counts one test contributes. */
export interface SummaryCounts {
  /** Faults injected into storage (mock or HTTP proxy). */
  faults?: number;
  /** Crash points tried (process killed and rerun). */
  crashPoints?: number;
  /** Bad inputs run through the pipeline. */
  badInputs?: number;
  /** Fuzz cases run. */
  fuzzCases?: number;
  /** Runs after which published bytes were checked against the reference. */
  publishedChecks?: number;
  /** Runs that lost or altered a published byte (must stay 0). */
  publishedAltered?: number;
}

/** Appends counts to the summary file, if one is configured. */
export function recordSummary(counts: SummaryCounts): void {
  const path = Deno.env.get("IMPRESSIONS_TEST_SUMMARY");
  if (!path) return;
  Deno.writeTextFileSync(path, JSON.stringify(counts) + "\n", { append: true });
}
