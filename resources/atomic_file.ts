/**
 * Writing files so that a crash never leaves a half-written file under its
 * final name: write to a unique temporary name beside it, then rename.
 *
 * @module
 */

import { dirname } from "node:path";
import { withLocalIo } from "./local_io.ts";

let counter = 0;

/** A unique temporary path next to `path`. */
export function temporaryPath(path: string): string {
  return `${path}.${Deno.pid}.${Date.now().toString(36)}.${(counter++).toString(36)}.tmp`;
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
