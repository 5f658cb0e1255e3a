/**
 * A one-line progress bar on a terminal's stderr, redrawn at most ten
 * times a second and cleared before any log line is written.
 *
 * @module
 */

import type { ProgressUpdate } from "../materializer/asset.ts";

/** A progress display. */
export interface Progress {
  /** Records an update from an asset of a date. */
  update(date: string, asset: string, update: ProgressUpdate): void;
  /** Writes a log line above the bar. */
  line(text: string): void;
  /** Removes the bar. */
  done(): void;
}

/** Options for {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Writes raw text (no newline added) to the terminal. */
  write(text: string): void;
  /** Terminal width in columns. */
  columns?: number;
  /** Milliseconds clock; replaced in tests. */
  now?: () => number;
}

function amount(value: number, unit: ProgressUpdate["unit"]): string {
  if (unit !== "bytes") return value.toLocaleString("en-US");
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} GB`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)} MB`;
  return `${(value / 1e3).toFixed(1)} kB`;
}

/**
 * Formats one bar line.
 *
 * @example
 * ```ts
 * import { formatBar } from "./progress.ts";
 * formatBar("2021-01-30", "raw_partition", { phase: "download", done: 5e6, total: 1e7, unit: "bytes" }, 10);
 * // "[2021-01-30] raw_partition download [#####.....]  50% 5.0 MB / 10.0 MB"
 * ```
 */
export function formatBar(
  date: string,
  asset: string,
  update: ProgressUpdate,
  width = 24,
): string {
  const head = `[${date}] ${asset} ${update.phase}`;
  if (!update.total) return `${head} ${amount(update.done, update.unit)} ${update.unit}`;
  const share = Math.min(1, update.done / update.total);
  const filled = Math.round(share * width);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  const percent = `${Math.floor(share * 100)}%`.padStart(4);
  const detail = update.detail ? ` (${update.detail})` : "";
  return `${head} ${bar} ${percent} ${amount(update.done, update.unit)} / ${
    amount(update.total, update.unit)
  }${detail}`;
}

/**
 * Creates a progress display that draws on `write`.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const progress = createProgress({ write: (t) => Deno.stderr.writeSync(new TextEncoder().encode(t)) });
 * progress.update("2021-01-30", "deduped_impressions", { phase: "parse", done: 1000, unit: "rows" });
 * progress.done();
 * ```
 */
export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const columns = options.columns ?? 100;
  let shown = false;
  let last = -Infinity;
  let latest = "";
  const clear = () => {
    if (shown) options.write("\r\x1b[2K");
    shown = false;
  };
  const draw = () => {
    options.write(`\r\x1b[2K${latest.slice(0, columns - 1)}`);
    shown = true;
    last = now();
  };
  return {
    update(date, asset, update) {
      latest = formatBar(date, asset, update);
      const finished = update.total !== undefined && update.done >= update.total;
      if (finished || now() - last >= 100) draw();
    },
    line(text) {
      clear();
      options.write(text + "\n");
      if (latest) draw();
    },
    done() {
      clear();
      latest = "";
    },
  };
}
