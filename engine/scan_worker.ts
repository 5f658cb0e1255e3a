/**
 * Worker entry: runs scan tasks sent by `day_scan.ts` and posts results
 * back, transferring the record buffers.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { runScanTask, type ScanTask } from "./scan_task.ts";

self.onmessage = async (event: MessageEvent<ScanTask>) => {
  const task = event.data;
  let last = 0;
  const result = await runScanTask(task, (bytes, rows) => {
    const now = performance.now();
    if (now - last > 200) {
      last = now;
      self.postMessage({ type: "progress", id: task.id, bytes, rows });
    }
  });
  self.postMessage(
    { type: "result", result },
    // The partitions are views of one buffer: transfer it once.
    [...new Set(result.records.map((r) => r.buffer as ArrayBuffer))],
  );
};
