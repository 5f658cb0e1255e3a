/**
 * Checks shared by several assets.
 *
 * @module
 */

import type { AssetCheck } from "./_define.ts";

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
