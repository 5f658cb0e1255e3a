/**
 * Writing files so that a crash never leaves a half-written file under its
 * final name: write to a unique temporary name beside it, then rename.
 *
 * @module
 */

import { dirname } from "node:path";
import { withLocalIo } from "./local_io.ts";

let counter = 0;
let host: string | undefined;

/** This machine's name as it appears in temporary names: `[A-Za-z0-9-]`, at most 63. */
export function hostTag(): string {
  if (host === undefined) {
    let name = "localhost";
    try {
      name = Deno.hostname();
    } catch {
      // no permission to read it
    }
    host = name.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 63) || "localhost";
  }
  return host;
}

/**
 * A unique temporary path next to `path`, naming its writer so a later run
 * can tell a dead process's leftover from a live one's file:
 * `PATH.HOST@PID.TIME.N.tmp`.
 *
 * @example
 * ```ts
 * import { temporaryOwner, temporaryPath } from "./atomic_file.ts";
 * temporaryOwner(temporaryPath("/cache/a.csv"))?.pid === Deno.pid; // true
 * ```
 */
export function temporaryPath(path: string): string {
  return `${path}.${hostTag()}@${Deno.pid}.${Date.now().toString(36)}.${
    (counter++).toString(36)
  }.tmp`;
}

/**
 * The host and process that made a temporary path (see
 * {@linkcode temporaryPath}), or `null` for any other name.
 */
export function temporaryOwner(path: string): { host: string; pid: number } | null {
  const match = /\.([A-Za-z0-9-]{1,63})@(\d{1,10})\.[0-9a-z]+\.[0-9a-z]+\.tmp$/.exec(path);
  return match ? { host: match[1], pid: Number(match[2]) } : null;
}

/**
 * Writes `data` to `path` atomically, creating parent folders.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic_file.ts";
 * await writeFileAtomic("/tmp/out/a.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | ReadableStream<Uint8Array>,
): Promise<void> {
  await withLocalIo(
    "create folder",
    dirname(path),
    () => Deno.mkdir(dirname(path), { recursive: true }),
  );
  const temporary = temporaryPath(path);
  try {
    await withLocalIo("write", path, () => Deno.writeFile(temporary, data));
    await withLocalIo("rename into", path, () => Deno.rename(temporary, path));
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
