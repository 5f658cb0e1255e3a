/**
 * The floor of the benchmark: a Deno process that reads every byte of the
 * given files and does nothing else with them but count newlines (so the
 * reads cannot be optimised away). No job can be faster than this on the
 * same files and runtime.
 *
 * ```sh
 * deno run --allow-read bench/floor.ts FILE.csv...
 * ```
 *
 * Prints `<bytes> <newlines>` on stdout.
 *
 * @module
 */

/** Read size: large enough that system calls do not matter. */
const CHUNK = 1 << 20;

/**
 * Reads a file to the end and counts its newline bytes.
 *
 * @example
 * ```ts
 * import { readAndCount } from "./floor.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "a\nb\n");
 * await readAndCount(path); // { bytes: 4, newlines: 2 }
 * ```
 */
export async function readAndCount(path: string): Promise<{ bytes: number; newlines: number }> {
  const buffer = new Uint8Array(CHUNK);
  let bytes = 0;
  let newlines = 0;
  using file = await Deno.open(path);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    bytes += n;
    const view = n === CHUNK ? buffer : buffer.subarray(0, n);
    for (let at = view.indexOf(10); at !== -1; at = view.indexOf(10, at + 1)) newlines++;
  }
  return { bytes, newlines };
}

if (import.meta.main) {
  let bytes = 0;
  let newlines = 0;
  for (const path of Deno.args) {
    const counted = await readAndCount(path);
    bytes += counted.bytes;
    newlines += counted.newlines;
  }
  console.log(`${bytes} ${newlines}`);
}
