/**
 * A test hook for crash tests: with `IMPRESSIONS_PAUSE_AT=PREFIX` and
 * `IMPRESSIONS_PAUSE_FILE=PATH`, the run stops at the first checkpoint whose
 * name starts with PREFIX, writes that name to PATH and waits there, so the
 * test can kill (or stop) the process at a known point; removing PATH lets
 * it go on. Unset, it does nothing.
 *
 * @module
 */

/**
 * Builds the checkpoint function from the environment, or `undefined`.
 *
 * @example
 * ```ts
 * import { pausePoint } from "./pause_point.ts";
 * const checkpoint = pausePoint({}); // undefined: no pause requested
 * ```
 */
export function pausePoint(
  env: Record<string, string | undefined>,
): ((name: string) => Promise<void>) | undefined {
  const prefix = env.IMPRESSIONS_PAUSE_AT;
  const file = env.IMPRESSIONS_PAUSE_FILE;
  if (!prefix || !file) return undefined;
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
