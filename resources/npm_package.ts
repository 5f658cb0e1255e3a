/**
 * Loading the npm packages the pipeline needs only for some runs (the AWS
 * SDK, the config schema's zod, PostgreSQL, Parquet, the report's charts).
 *
 * The run tasks read packages from `node_modules` as `deno task setup` (or
 * `deno install`) left it, with no install check at start-up: that check
 * cost some 40 to 70 ms of every run, and a run on a local folder needs no
 * package at all. A package missing there fails with
 * {@linkcode MissingPackageError}, which says what to run.
 *
 * @module
 */

/** An npm package that is not installed in `node_modules`. */
export class MissingPackageError extends Error {
  /** The package's name. */
  readonly package: string;

  /** Builds the error for package `name`. */
  constructor(name: string) {
    super(
      `the npm package ${name} is not installed in node_modules: run 'deno task setup' once in the project folder`,
    );
    this.name = "MissingPackageError";
    this.package = name;
  }
}

/**
 * The package Deno could not find in `node_modules`, from its error (it
 * names it as `'npm:NAME@VERSION'`), or null for any other error.
 */
export function missingPackage(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  if ((error as { code?: unknown }).code !== "ERR_MODULE_NOT_FOUND") return null;
  const found = /Could not find a matching package for 'npm:((?:@[^/'@]+\/)?[^/'@]+)/.exec(
    error.message,
  );
  return found ? found[1] : null;
}

/**
 * Runs `load`, a dynamic `import` of a module that loads npm packages
 * (written out at the call, so that `deno compile` embeds it), and turns a
 * package missing from `node_modules` into {@linkcode MissingPackageError}.
 *
 * @example
 * ```ts
 * import { loadPackage } from "./npm_package.ts";
 * const { z } = await loadPackage(() => import("zod"));
 * z.string().parse("ok");
 * ```
 */
export async function loadPackage<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const name = missingPackage(error);
    if (name !== null) throw new MissingPackageError(name);
    throw error;
  }
}
