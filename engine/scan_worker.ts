/**
 * Worker entry: runs scan tasks sent by `day_scan.ts` and posts results
 * back, transferring the record buffers, and deduplicates blocks of
 * partitions (`dedupe_blocks.ts`) after the day is parsed.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { runScanTask, type ScanTask } from "./scan_task.ts";
import { type DedupeBlock, dedupeBlock } from "./dedupe_blocks.ts";

self.onmessage = async (event: MessageEvent<ScanTask | DedupeBlock>) => {
  const message = event.data;
  if ("kind" in message && message.kind === "dedupe") {
    const result = dedupeBlock(message);
    self.postMessage({ type: "result", result }, [result.counts.buffer as ArrayBuffer]);
    return;
  }
  const task = message as ScanTask;
  let last = 0;
  const result = await runScanTask(task, (bytes, rows) => {
    const now = performance.now();
    if (now - last > 200) {
      last = now;
      self.postMessage({ type: "progress", id: task.id, bytes, rows });
    }
  });
  // The partitions are views of one buffer: transfer it once, unless it is
  // shared (then posting it shares it). The columns kept in memory move too.
  const buffers = new Set<ArrayBufferLike>(result.records.map((r) => r.buffer));
  for (const column of [result.hours, result.campaigns]) {
    if (typeof column !== "string") { for (const piece of column) buffers.add(piece.buffer); }
  }
  self.postMessage(
    { type: "result", result },
    [...buffers].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
  );
};
