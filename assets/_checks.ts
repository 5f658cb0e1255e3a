/**
 * Checks shared by several assets.
 *
 * @module
 */

import type { AssetCheck, AssetContext } from "./_define.ts";

/** A value of counts that must add up to the day's in-date rows. */
export interface CountedRows {
  /** One entry per group, each with its count. */
  counts: readonly { count: number }[];
  /** Deduplicated rows of the partition date. */
  inDayRows: number;
}

/**
 * The `counts_sum_to_rows` error check: nothing lost, nothing counted twice.
 *
 * @example
 * ```ts
 * import { countsSumToRows } from "./_checks.ts";
 * const check = countsSumToRows();
 * // check.evaluate({ counts: [{ count: 2 }], inDayRows: 2 }, ctx, {}).passed === true
 * ```
 */
export function countsSumToRows<T extends CountedRows>(): AssetCheck<T> {
  return {
    name: "counts_sum_to_rows",
    severity: "error",
    evaluate(value) {
      const sum = value.counts.reduce((n, c) => n + c.count, 0);
      return {
        passed: sum === value.inDayRows,
        detail: `counts sum to ${sum}; deduplicated rows of the day: ${value.inDayRows}`,
      };
    },
  };
}

/**
 * A check that compares a measure with a limit: the limit is
 * `threshold` unless the run's params give another one for `name` (the
 * `thresholds` profile key, whose allowed names come from these checks).
 *
 * @example
 * ```ts
 * import { thresholdCheck } from "./_checks.ts";
 * const check = thresholdCheck<{ share: number }>({
 *   name: "small_share",
 *   severity: "warn",
 *   threshold: 0.2,
 *   evaluate: (value, limit) => ({ passed: value.share <= limit, detail: `${value.share}` }),
 * });
 * check.threshold; // 0.2
 * ```
 */
export function thresholdCheck<T>(options: {
  name: string;
  severity: "warn" | "error";
  threshold: number;
  evaluate(
    value: T,
    limit: number,
    ctx: AssetContext,
  ): { passed: boolean; detail: string } | Promise<{ passed: boolean; detail: string }>;
}): AssetCheck<T> {
  return {
    name: options.name,
    severity: options.severity,
    threshold: options.threshold,
    evaluate: (value, ctx) =>
      options.evaluate(value, ctx.params.thresholds[options.name] ?? options.threshold, ctx),
  };
}
