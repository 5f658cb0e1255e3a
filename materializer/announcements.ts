/**
 * The queue between an upstream's `ctx.announce` and a downstream
 * prefetch: pushed on one side, iterated on the other, ended once.
 *
 * @module
 */

/**
 * An async iterable of announced items, in the order pushed.
 *
 * @example
 * ```ts
 * import { Announcements } from "./announcements.ts";
 * const feed = new Announcements();
 * feed.push("a.csv");
 * feed.end();
 * for await (const item of feed) console.log(item); // "a.csv"
 * ```
 */
export class Announcements implements AsyncIterable<unknown> {
  #items: unknown[] = [];
  #ended = false;
  #wake: (() => void) | null = null;

  /** Adds an item; ignored after {@linkcode Announcements.end}. */
  push(item: unknown): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#wake?.();
  }

  /** No more items: iteration finishes once the queue is drained. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    while (true) {
      if (this.#items.length > 0) {
        yield this.#items.shift();
      } else if (this.#ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = null;
      }
    }
  }
}
