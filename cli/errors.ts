/**
 * Command-line errors and exit codes.
 *
 * @module
 */

/** Exit code of a successful run. */
export const EXIT_OK = 0;
/** Exit code of a data or storage error. */
export const EXIT_FAILURE = 1;
/** Exit code of a usage error. */
export const EXIT_USAGE = 2;

/** A bad command line or configuration: exit code 2. */
export class UsageError extends Error {
  /** Builds the error; the message says what to change. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
