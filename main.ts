/**
 * Entry point: `deno task <command> ...` and the compiled executable.
 *
 * @example
 * ```sh
 * deno task materialize --date 2021-01-30
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { main } from "./cli/main.ts";
import { processIO } from "./cli/io.ts";

/** The sample bucket beside this file, when it exists (not in a compiled binary). */
function sampleBucket(): string | undefined {
  if (!import.meta.url.startsWith("file:")) return undefined;
  const path = fileURLToPath(new URL("./sample/bucket", import.meta.url));
  try {
    return Deno.statSync(`${path}/2021`).isDirectory ? path : undefined;
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args, { io: processIO(), defaultBucket: sampleBucket() }));
}
