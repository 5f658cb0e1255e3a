/**
 * Progress bars: drawn only on a terminal, throttled, cleared around log lines.
 */

import assert from "node:assert/strict";
import { createProgress, formatBar } from "../cli/progress.ts";

Deno.test("a bar shows share, amounts and units", () => {
  assert.equal(
    formatBar("2021-01-30", "raw_partition", {
      phase: "download",
      done: 5e6,
      total: 1e7,
      unit: "bytes",
    }, 10),
    "[2021-01-30] raw_partition download [#####.....]  50% 5.0 MB / 10.0 MB",
  );
  assert.equal(
    formatBar("2021-01-30", "deduped_impressions", { phase: "parse", done: 12345, unit: "rows" }),
    "[2021-01-30] deduped_impressions parse 12,345 rows",
  );
  assert.equal(
    formatBar("2021-01-30", "raw_partition", {
      phase: "download",
      done: 2e6,
      total: 8e6,
      unit: "bytes",
      detail: "1/4 objects",
    }, 8),
    "[2021-01-30] raw_partition download [##......]  25% 2.0 MB / 8.0 MB (1/4 objects)",
  );
});

Deno.test("updates are throttled and log lines clear the bar first", () => {
  let clock = 0;
  const out: string[] = [];
  const progress = createProgress({ write: (t) => out.push(t), now: () => clock, columns: 200 });
  const update = (done: number) =>
    progress.update("d", "a", { phase: "parse", done, total: 10, unit: "rows" });
  update(1);
  update(2); // within 100 ms: not drawn
  clock = 150;
  update(3);
  progress.line("a log line");
  progress.done();
  assert.deepEqual(out, [
    "\r\x1b[2K[d] a parse [##......................]  10% 1 / 10",
    "\r\x1b[2K[d] a parse [#######.................]  30% 3 / 10",
    "\r\x1b[2K",
    "a log line\n",
    "\r\x1b[2K[d] a parse [#######.................]  30% 3 / 10",
    "\r\x1b[2K",
  ]);
});
