/**
 * Ready-made cache formats for asset values.
 *
 * @module
 */

import type { AssetIO } from "./asset.ts";

/**
 * Stores a JSON-serializable value inside the manifest.
 *
 * @example
 * ```ts
 * import { jsonIO } from "./io.ts";
 * const io = jsonIO<{ uri: string }>();
 * ```
 */
export function jsonIO<T>(): AssetIO<T> {
  return {
    write(value, out) {
      out.setValue(value);
      return Promise.resolve();
    },
    read(entry) {
      return Promise.resolve(entry.manifest.value as T);
    },
  };
}
