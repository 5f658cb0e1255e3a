/**
 * The one way untrusted text (object keys, field values, header names) is
 * quoted in messages, so that every message stays one line and no byte of
 * an object reaches a terminal as a control sequence.
 *
 * @module
 */

// C0 and C1 controls, DEL, line and paragraph separators, and lone surrogates.
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

/**
 * `text` with control characters written as JSON-style escapes (`\n`,
 * `\t`, `\u001b`, also C1 controls, U+2028, U+2029 and lone surrogates);
 * every printable character, `/`, `.`, `\` and non-ASCII letters included,
 * is kept as it is. The result holds no control character, so escaping it
 * again changes nothing.
 *
 * @example
 * ```ts
 * import { escapeText } from "./escape_text.ts";
 * escapeText("2021/01/30/new\nline\u001b[31m.csv"); // "2021/01/30/new\\nline\\u001b[31m.csv"
 * escapeText("2021/01/30/café.csv"); // "2021/01/30/café.csv"
 * ```
 */
export function escapeText(text: string): string {
  return text.replace(
    UNSAFE,
    (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
