/**
 * Secrets: where they come from, and the one function that removes them
 * from text before it is written anywhere (logs, errors, run records).
 *
 * A secret is the value of `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `PGPASSWORD`, or a credential
 * inside a URL the tool is given (an endpoint or a warehouse URL): its
 * password (or, in an http(s) URL, a user name standing alone, which is how
 * a token is given there), and the values of its query parameters. Cache manifests and data versions never hold a URL
 * as given: they hold {@linkcode publicUrl}, which has none of these.
 *
 * @module
 */

/** Environment variables whose values are secrets. */
export const SECRET_VARIABLES = [
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "PGPASSWORD",
] as const;

/** Environment variables that may hold a URL with credentials in it. */
export const URL_VARIABLES = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] as const;

/** Shorter values are removed only where they sit in a URL (elsewhere they would garble text). */
const MIN_FREE_TEXT_SECRET = 4;

/** A URL in free text: a scheme, `://`, then anything up to white space or a quote. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>`]*)/gi;

/** Schemes whose query strings are part of an object key, never a credential. */
const KEY_SCHEMES = new Set(["s3://", "file://"]);

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The credentials of one URL-like value: password or lone user, query values (raw and decoded). */
function credentialsIn(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const rest = match[2];
    const authority = rest.split(/[/?#]/, 1)[0];
    const at = authority.lastIndexOf("@");
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      const colon = userinfo.indexOf(":");
      if (colon >= 0) {
        const password = userinfo.slice(colon + 1);
        found.push(userinfo, password, safeDecode(password));
      } else if (/^https?:\/\/$/i.test(match[1])) {
        found.push(userinfo, safeDecode(userinfo));
      }
    }
    const query = /\?([^#]*)/.exec(rest.slice(authority.length))?.[1] ?? "";
    for (const pair of query.split("&")) {
      const value = pair.slice(pair.indexOf("=") + 1);
      if (pair.includes("=")) found.push(value, safeDecode(value.replaceAll("+", " ")));
    }
  }
  return found;
}

/** Where {@linkcode secretsOf} looks. */
export interface SecretSources {
  /** The environment the tool was started with. */
  env?: Record<string, string | undefined>;
  /** Other values that may be URLs with credentials: arguments, profile values. */
  values?: readonly (string | undefined)[];
}

/**
 * Every secret value the tool was given, longest first.
 *
 * @example
 * ```ts
 * import { secretsOf } from "./secrets.ts";
 * secretsOf({
 *   env: { PGPASSWORD: "hunter22" },
 *   values: ["http://alice:pw-1234@minio:9000/?token=abcd"],
 * }); // ["alice:pw-1234", "hunter22", "pw-1234", "abcd"]
 * ```
 */
export function secretsOf(sources: SecretSources): string[] {
  const env = sources.env ?? {};
  const found = new Set<string>();
  for (const name of SECRET_VARIABLES) found.add(env[name] ?? "");
  for (const value of [...URL_VARIABLES.map((name) => env[name]), ...(sources.values ?? [])]) {
    for (const secret of credentialsIn(value ?? "")) found.add(secret);
  }
  found.delete("");
  return [...found].sort((a, b) => b.length - a.length);
}

/** A URL in text with its `user:password` and query values replaced by `***`. */
function redactUrl(scheme: string, rest: string): string {
  const end = rest.search(/[/?#]/);
  let authority = end < 0 ? rest : rest.slice(0, end);
  let tail = end < 0 ? "" : rest.slice(end);
  const at = authority.lastIndexOf("@");
  // `user:password@` goes whole; a lone `user@` (`postgres://USER@HOST`) is a
  // secret only when it came in as one, and then `secrets` holds it.
  if (at >= 0 && authority.slice(0, at).includes(":")) authority = `***${authority.slice(at)}`;
  if (!KEY_SCHEMES.has(scheme.toLowerCase())) {
    tail = tail.replace(/\?[^#]*/, (query) => query.replace(/=[^&]*/g, "=***"));
  }
  return scheme + authority + tail;
}

/**
 * Removes secrets from text: in every URL, a `user:password` and the query
 * values (but for `s3://` and `file://`,
 * whose `?` belongs to a key); then every value of `secrets` at least four
 * characters long, wherever it occurs. The only redaction function: logs,
 * error messages and run records all go through it.
 *
 * @example
 * ```ts
 * import { redact } from "./secrets.ts";
 * redact("GET http://alice:pw@minio:9000/b?token=t1 failed: hunter22", ["hunter22"]);
 * // "GET http://***@minio:9000/b?token=*** failed: ***"
 * ```
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_IN_TEXT, (_, scheme: string, rest: string) => redactUrl(scheme, rest));
  for (const secret of secrets) {
    if (secret.length >= MIN_FREE_TEXT_SECRET) out = out.replaceAll(secret, "***");
  }
  return out;
}

/**
 * A JSON-like value with {@linkcode redact} applied to every string in it
 * (keys included), for records written whole.
 *
 * @example
 * ```ts
 * import { redactValue } from "./secrets.ts";
 * redactValue({ error: "PGPASSWORD hunter22 refused" }, ["hunter22"]);
 * // { error: "PGPASSWORD *** refused" }
 * ```
 */
export function redactValue<T>(value: T, secrets: readonly string[] = []): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redact(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).map(([k, inner]) => [redact(k, secrets), walk(inner)]),
      );
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * A URL as it may be written down: scheme, host, port and path, without
 * user, password, query or fragment; `undefined` when it does not parse.
 *
 * @example
 * ```ts
 * import { publicUrl } from "./secrets.ts";
 * publicUrl("http://alice:pw@MinIO:9000/?token=t"); // "http://minio:9000/"
 * ```
 */
export function publicUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}
