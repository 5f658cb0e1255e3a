/**
 * Reads only the header record of a CSV stream.
 *
 * @module
 */

import { createCsvScanner, fieldText } from "./csv_reader.ts";

class HeaderFound extends Error {}

/**
 * Returns the fields of the first record (`[]` for an empty input), reading
 * no further than needed.
 *
 * @example
 * ```ts
 * import { readHeader } from "./read_header.ts";
 * await readHeader([new TextEncoder().encode("\uFEFF A ,B\n1,2\n")]); // [" A ", "B"]
 * ```
 */
export async function readHeader(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<string[]> {
  let header: string[] = [];
  const scanner = createCsvScanner({
    onRecord(record) {
      for (let i = 0; i < record.count; i++) header.push(fieldText(record, i));
      throw new HeaderFound();
    },
  });
  try {
    for await (const chunk of chunks) scanner.push(chunk);
    scanner.end();
  } catch (error) {
    if (!(error instanceof HeaderFound)) throw error;
    return header;
  }
  header = [];
  return header;
}
