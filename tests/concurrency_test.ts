/** Bounded concurrency helpers. */

import assert from "node:assert/strict";
import { mapConcurrent, RankedLimiter } from "../materializer/concurrency.ts";

Deno.test("RankedLimiter starts waiting tasks lowest rank first, never more than its limit", async () => {
  const limiter = new RankedLimiter(2);
  const order: number[] = [];
  let running = 0, most = 0;
  const task = (rank: number) =>
    limiter.run(rank, async () => {
      running++;
      most = Math.max(most, running);
      order.push(rank);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return rank;
    });
  const results = await Promise.all([50, 40, 30, 10, 20, 0].map(task));
  assert.deepEqual(results, [50, 40, 30, 10, 20, 0]);
  // The first two take the free slots; the rest start by rank.
  assert.deepEqual(order, [50, 40, 0, 10, 20, 30]);
  assert.equal(most, 2);
});

Deno.test("RankedLimiter frees the slot of a task that fails", async () => {
  const limiter = new RankedLimiter(1);
  await assert.rejects(limiter.run(0, () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await limiter.run(1, () => Promise.resolve("next")), "next");
});

Deno.test("mapConcurrent keeps input order and reports the first failure", async () => {
  assert.deepEqual(await mapConcurrent([3, 1, 2], 2, (n) => Promise.resolve(n * 2)), [6, 2, 4]);
  await assert.rejects(
    mapConcurrent(
      [1, 2, 3],
      2,
      (n) => n === 2 ? Promise.reject(new Error("two")) : Promise.resolve(n),
    ),
    /two/,
  );
});
