/**
 * Writing files so that a crash never leaves a half-written file under its
 * final name: write to a unique temporary name beside it, then rename.
 *
 * @module
 */

import { dirname } from "node:path";

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
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  try {
    await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
