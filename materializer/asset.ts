/**
 * What an asset is: a name, typed upstreams, a code version, a cache format
 * and a function from upstream values and a context to its value.
 *
 * @module
 */

import type { EntryReader, EntryWriter } from "./cache.ts";
import type { Bucket } from "../resources/storage.ts";
import type { Warehouse } from "../resources/warehouse.ts";
import type { Logger } from "./log.ts";

/** Shared services a run hands to its assets. */
export interface Resources {
  /** Where raw files are read and results published. */
  bucket: Bucket;
  /** The SQL warehouse, opened only when a selected asset `requires` it. */
  warehouse?: Warehouse;
}

/** Run-wide settings that assets read (never from env vars or globals). */
export interface RunParams {
  /** Initials in published object names. */
  initials: string;
  /** Prefix of published results, `results` by default. */
  resultsPrefix: string;
  /** Invalid rows tolerated before a day fails (0: strict). */
  maxInvalidRows: number;
  /** Retries of transient storage failures. */
  retries: number;
  /** Objects larger than two parts of this size are fetched as parallel ranges. */
  downloadPartBytes?: number;
  /** Concurrent object downloads. */
  downloadConcurrency: number;
  /** Check thresholds by check name (fractions, e.g. 0.2 for 20%). */
  thresholds: Record<string, number>;
  /** Memory budget in bytes for one partition's row processing. */
  memoryBudget: number;
  /** Worker threads for parsing (0: parse on the main thread). */
  workers: number;
  /** Also publish the deduplicated rows (`--with-rows`). */
  withRows?: boolean;
}

/** What an asset receives besides its upstream values. */
export interface AssetContext {
  /** The partition date, `YYYY-MM-DD`. */
  partition: string;
  /** Id of the run (as in its run record). */
  runId: string;
  /** Storage and other services. */
  resources: Resources;
  /** Run-wide settings. */
  params: RunParams;
  /** Where to log; goes to stderr. */
  log: Logger;
  /** A named point of the run (crash tests pause there); resolves at once otherwise. */
  checkpoint(name: string): Promise<void>;
  /** Reports progress (bytes downloaded, rows parsed) for progress bars. */
  progress(update: ProgressUpdate): void;
  /** Adds metadata to this asset's cache manifest and run record. */
  record(metadata: Record<string, unknown>): void;
  /** A scratch folder of this partition for temporary files (spills). */
  scratchDir: string;
  /** Files of the cache entry being written. */
  output: EntryWriter;
  /** The previous cache entry, for incremental work, or `null`. */
  previous: EntryReader | null;
  /** What `observe` returned in this run (sources only). */
  observation: unknown;
  /** Cached metadata of this asset for earlier partitions (newest first). */
  history(days: number): Promise<Record<string, unknown>[]>;
  /**
   * Hands an item of partial output (e.g. one downloaded object) to the
   * downstream prefetches started for this compute; does nothing otherwise.
   */
  announce(item: unknown): void;
  /**
   * In `compute`: what this asset's {@linkcode Prefetch} produced while its
   * upstream was computing, or `undefined` when none ran.
   */
  prefetched?: Promise<unknown>;
}

/**
 * Work an asset begins while one upstream is still computing (pipelining,
 * e.g. parsing objects as they arrive). The materializer starts it only
 * when the upstream computes in this run and this asset will compute after
 * it, feeds it what the upstream announces, and hands its result to
 * `compute` as `ctx.prefetched`.
 */
export interface Prefetch<P = unknown> {
  /** The key in `deps` of the upstream whose announcements feed it. */
  from: string;
  /**
   * Starts the work. `announcements` yields each item the upstream passes
   * to `ctx.announce` and ends when its compute returns; `signal` aborts
   * when the upstream fails or this asset will not compute.
   */
  start(announcements: AsyncIterable<unknown>, ctx: AssetContext, signal: AbortSignal): Promise<P>;
  /**
   * Releases what a result holds (workers, scratch files). Called once the
   * asset's compute has ended, or when it will not run; so it must also be
   * safe after compute consumed the result.
   */
  discard(result: P): Promise<void>;
}

/** How far an asset has come with one kind of work. */
export interface ProgressUpdate {
  /** What is being counted, e.g. `download` or `parse`. */
  phase: string;
  /** Units done so far. */
  done: number;
  /** Units in all, when known. */
  total?: number;
  /** `bytes`, `rows` or `objects`. */
  unit: "bytes" | "rows" | "objects";
  /** More figures for the bar, e.g. `3/4 objects` or `1,200,000 rows`. */
  detail?: string;
}

/** A source's view of the outside world, from which its version derives. */
export interface Observation {
  /** Stable text whose hash is the data version. */
  version: string;
  /** Anything `compute` and `explain` need (kept in the manifest). */
  detail: unknown;
}

/** How an asset's value is written to and read from its cache entry. */
export interface AssetIO<T> {
  /** Writes `value` into the entry; may call `out.setValue` for JSON. */
  write(value: T, out: EntryWriter): Promise<void>;
  /** Reads the value back. */
  read(entry: EntryReader): Promise<T>;
}

/** `error` checks block downstream assets; `warn` checks are reported. */
export type Severity = "error" | "warn";

/** The outcome of one check for one partition. */
export interface CheckResult {
  /** Check name. */
  name: string;
  /** Asset it is attached to. */
  asset: string;
  /** Its severity. */
  severity: Severity;
  /** Whether it passed. */
  passed: boolean;
  /** One line saying what was measured. */
  detail: string;
}

/** A check attached to an asset, evaluated after it materializes. */
export interface AssetCheck<T> {
  /** Name, unique within the asset. */
  name: string;
  /** Severity when it fails. */
  severity: Severity;
  /** Evaluates the check; returns whether it passed and what was measured. */
  evaluate(
    value: T,
    ctx: AssetContext,
    metadata: Record<string, unknown>,
  ): Promise<{ passed: boolean; detail: string }> | {
    passed: boolean;
    detail: string;
  };
}

// deno-lint-ignore no-explicit-any
type AnyAsset = Asset<any>;

/** The values of a dependency map, by key. */
export type DepValues<D extends Record<string, AnyAsset>> = {
  [K in keyof D]: D[K] extends Asset<infer V> ? V : never;
};

/** An asset definition. */
export interface Asset<T> {
  /** Unique name, `snake_case`. */
  readonly name: string;
  /** Upstream assets by the name `compute` receives them under. */
  readonly deps: Record<string, AnyAsset>;
  /** Bump when the output for the same input changes. */
  readonly codeVersion: string;
  /** Cache format. */
  readonly io: AssetIO<T>;
  /** One line for `graph` and `--help`. */
  readonly description: string;
  /** Whether a plain `materialize` runs it (with its upstreams). */
  readonly defaultSelected: boolean;
  /** Output-changing parameters, part of the data version. */
  params?(ctx: AssetContext): Record<string, unknown>;
  /** Sources: observes the outside world to derive the data version. */
  observe?(ctx: AssetContext): Promise<Observation>;
  /** Sources: why the observation differs from the cached one (`added: KEY`). */
  explain?(previous: unknown, current: unknown): string[];
  /** Computes the value from upstream values. */
  // deno-lint-ignore no-explicit-any
  compute(deps: any, ctx: AssetContext): Promise<T>;
  /** Sinks: whether a cached value is still true outside (e.g. HEAD). */
  isCurrent?(value: T, ctx: AssetContext): Promise<boolean>;
  /** Sinks: URIs of what the value published. */
  published?(value: T): string[];
  /** Work begun while an upstream computes; see {@linkcode Prefetch}. */
  readonly prefetch?: Prefetch;
  /** Checks evaluated after the asset materializes. */
  readonly checks: AssetCheck<T>[];
  /** Optional resources it needs; the CLI opens only those a selected asset requires. */
  readonly requires?: readonly (keyof Resources)[];
}

/** The fields of {@linkcode defineAsset}'s argument. */
export interface AssetSpec<T, D extends Record<string, AnyAsset>>
  extends
    Omit<Asset<T>, "deps" | "compute" | "checks" | "defaultSelected" | "description" | "prefetch"> {
  /** Upstream assets. */
  deps: D;
  /** Work begun while the upstream `from` computes. */
  // deno-lint-ignore no-explicit-any
  prefetch?: Prefetch<any> & { from: keyof D & string };
  /** Computes the value from the upstream values. */
  compute(deps: DepValues<D>, ctx: AssetContext): Promise<T>;
  /** Checks; none by default. */
  checks?: AssetCheck<T>[];
  /** Whether a plain `materialize` runs it; default `false`. */
  defaultSelected?: boolean;
  /** One line for `graph`. */
  description?: string;
}

/**
 * Defines an asset, typing `compute`'s first argument from `deps`.
 *
 * @example
 * ```ts
 * import { defineAsset } from "./asset.ts";
 * import { jsonIO } from "./io.ts";
 * const answer = defineAsset({
 *   name: "answer",
 *   deps: {},
 *   codeVersion: "1",
 *   io: jsonIO<number>(),
 *   compute: () => Promise.resolve(42),
 * });
 * ```
 */
export function defineAsset<T, D extends Record<string, AnyAsset>>(
  spec: AssetSpec<T, D>,
): Asset<T> {
  return {
    ...spec,
    checks: spec.checks ?? [],
    defaultSelected: spec.defaultSelected ?? false,
    description: spec.description ?? "",
  };
}
