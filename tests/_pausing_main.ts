/**
 * A test-only entry point for the crash tests: the same `main` as `main.ts`,
 * with a checkpoint hook that stops the run at the first checkpoint whose
 * name starts with POINT, writes that name to FILE and waits there until the
 * test kills (or stops) the process, or removes FILE to let it go on.
 *
 * `deno run <the materialize task's permissions> tests/_pausing_main.ts POINT FILE materialize ...`
 *
 * @module
 */

import { main } from "../cli/main.ts";
import { processIO } from "../cli/io.ts";

/**
 * A checkpoint hook that pauses at the first checkpoint starting with
 * `prefix`: it writes the checkpoint's name to `file`, then resolves only
 * once `file` is removed.
 *
 * @example
 * ```ts
 * import { pauseAt } from "./_pausing_main.ts";
 * const checkpoint = pauseAt("run-record", "/tmp/paused");
 * await checkpoint("locked:2021-01-30"); // not the point: returns at once
 * ```
 */
export function pauseAt(prefix: string, file: string): (name: string) => Promise<void> {
  let paused = false;
  return async (name) => {
    if (paused || !name.startsWith(prefix)) return;
    paused = true;
    await Deno.writeTextFile(file, name);
    // Wait until killed, or until the file is removed (then go on).
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        await Deno.stat(file);
      } catch {
        return;
      }
    }
  };
}

if (import.meta.main) {
  const [point, file, ...args] = Deno.args;
  if (!point || !file) {
    console.error("usage: _pausing_main.ts POINT FILE <command> [flags]");
    Deno.exit(2);
  }
  Deno.exit(await main(args, { io: processIO(), checkpoint: pauseAt(point, file) }));
}
