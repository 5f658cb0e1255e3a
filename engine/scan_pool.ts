/**
 * A small pool of parser workers (`scan_worker.ts`) taking scan tasks
 * first come, first served, started as tasks arrive; with no workers, tasks
 * run one at a time on the calling thread.
 *
 * @module
 */

import { runScanTask, type ScanTask, type ScanTaskResult } from "./scan_task.ts";
import { type DedupeBlock, dedupeBlock, type DedupeBlockResult } from "./dedupe_blocks.ts";

interface Job {
  task: ScanTask | DedupeBlock;
  onProgress: (bytes: number, rows: number) => void;
  /** Takes what the worker posted back: the result of `task`'s kind. */
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Runs scan tasks on up to `size` workers.
 *
 * @example
 * ```ts
 * import { ScanPool } from "./scan_pool.ts";
 * const pool = new ScanPool(2);
 * // const result = await pool.run(task, (bytes, rows) => {});
 * await pool.close();
 * ```
 */
export class ScanPool {
  #size: number;
  #workers: Worker[] = [];
  #idle: Worker[] = [];
  #queue: Job[] = [];
  #busy = new Map<Worker, Job>();
  #inline: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** A pool of `size` workers (0: run inline). */
  constructor(size: number) {
    this.#size = size;
  }

  /** Runs a task; its failures come back in the result, a dead worker rejects. */
  run(task: ScanTask, onProgress: (bytes: number, rows: number) => void): Promise<ScanTaskResult> {
    return this.#submit(task, onProgress, () => runScanTask(task, onProgress));
  }

  /**
   * Deduplicates a block of partitions and writes its share of the key
   * segment (see `dedupe_blocks.ts`). Jobs start in the order they are
   * given, which blocks rely on.
   */
  dedupe(block: DedupeBlock): Promise<DedupeBlockResult> {
    return this.#submit(block, () => {}, () => Promise.resolve(dedupeBlock(block)));
  }

  #submit<T>(
    task: ScanTask | DedupeBlock,
    onProgress: (bytes: number, rows: number) => void,
    inline: () => Promise<T>,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the parser pool is closed"));
    if (this.#size < 1) {
      const run = this.#inline.then(inline);
      this.#inline = run.catch(() => {});
      return run;
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ task, onProgress, resolve: resolve as (result: unknown) => void, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idle.pop() ??
        (this.#workers.length < this.#size ? this.#spawn() : undefined);
      if (!worker) return;
      const job = this.#queue.shift()!;
      this.#busy.set(worker, job);
      worker.postMessage(job.task);
    }
  }

  #spawn(): Worker {
    const worker = new Worker(new URL("./scan_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (event) => {
      const job = this.#busy.get(worker);
      if (!job) return;
      const message = event.data;
      if (message.type === "progress") {
        job.onProgress(message.bytes, message.rows);
        return;
      }
      this.#busy.delete(worker);
      this.#idle.push(worker);
      job.resolve(message.result);
      this.#dispatch();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      this.#workers = this.#workers.filter((w) => w !== worker);
      worker.terminate();
      job?.reject(new Error(`parser worker failed: ${event.message}`));
      this.#dispatch();
    };
    this.#workers.push(worker);
    return worker;
  }

  /** Stops the workers; tasks not finished reject. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const worker of this.#workers) worker.terminate();
    const error = new Error("the parser pool is closed");
    for (const job of [...this.#queue, ...this.#busy.values()]) job.reject(error);
    this.#queue = [];
    this.#busy.clear();
    this.#workers = [];
    this.#idle = [];
    await this.#inline;
  }
}
