/**
 * Errors of the local file system (a full disk, a read-only cache, a
 * missing permission): not transient storage errors, so never retried, and
 * reported as one line naming the path and the operating system's reason.
 *
 * @module
 */

/** What failed where, and the operating system's reason. */
export interface LocalIoProblem {
  /** What was being done: `write`, `create folder`, `open`... */
  operation: string;
  /** The path involved. */
  path: string;
  /** The operating system's words, e.g. `No space left on device (os error 28)`. */
  reason: string;
}

/** A local file operation failed; the run fails with exit code 1, without retries. */
export class LocalIoError extends Error {
  /** What failed where, and why. */
  readonly problem: LocalIoProblem;
  /** Builds the error: `cannot OPERATION PATH: REASON`. */
  constructor(problem: LocalIoProblem, options?: { cause?: unknown }) {
    super(`cannot ${problem.operation} ${problem.path}: ${problem.reason}`, {
      cause: options?.cause,
    });
    this.name = "LocalIoError";
    this.problem = problem;
  }
}

/**
 * Whether `error` comes from the operating system (a `Deno.errors` class or
 * an error carrying an `E...` code such as `ENOSPC`).
 *
 * @example
 * ```ts
 * import { isOsError } from "./local_io.ts";
 * isOsError(new Deno.errors.PermissionDenied("no")); // true
 * isOsError(new TypeError("body")); // false
 * ```
 */
export function isOsError(error: unknown): error is Error {
  if (!(error instanceof Error) || error instanceof LocalIoError) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) return true;
  return Object.values(Deno.errors).some((kind) => error instanceof kind);
}

/** The operating system's words, without Deno's `: writefile '/path'` suffix. */
function osReason(error: Error): string {
  return error.message.split("\n")[0].replace(/: [a-z_]+ '[^']*'(?: -> '[^']*')?$/, "");
}

/**
 * Turns an operating-system error into a {@linkcode LocalIoError} naming
 * `operation` and `path`; any other error is returned as it is.
 *
 * @example
 * ```ts
 * import { localIoError } from "./local_io.ts";
 * const error = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * (localIoError(error, "write", "/cache/a.csv") as Error).message;
 * // "cannot write /cache/a.csv: No space left on device (os error 28)"
 * ```
 */
export function localIoError(error: unknown, operation: string, path: string): unknown {
  if (!isOsError(error)) return error;
  return new LocalIoError({ operation, path, reason: osReason(error) }, { cause: error });
}

/**
 * Runs a local file operation, turning its operating-system errors into
 * {@linkcode LocalIoError}.
 *
 * @example
 * ```ts
 * import { withLocalIo } from "./local_io.ts";
 * await withLocalIo("create folder", "/tmp/x", () => Deno.mkdir("/tmp/x", { recursive: true }));
 * ```
 */
export async function withLocalIo<T>(
  operation: string,
  path: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw localIoError(error, operation, path);
  }
}
