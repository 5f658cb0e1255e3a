/**
 * Errors of the report.
 *
 * @module
 */

/**
 * The report cannot be built or written: a bad range, a chart that does not
 * render, or an output file that cannot be written.
 *
 * @example
 * ```ts
 * import { ReportError } from "./errors.ts";
 * const error = new ReportError("--to 2021-01-01 is before --from 2021-01-30");
 * error.name; // "ReportError"
 * ```
 */
export class ReportError extends Error {
  /** Builds the error; the message says what went wrong and where. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReportError";
  }
}
