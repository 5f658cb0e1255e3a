/**
 * What an asset is: a name, typed upstreams, a code version, a cache format
 * and a function from upstream values and a context to its value.
 *
 * Generic over the resources `R` (storage and services a run opens) and the
 * params `P` (run-wide settings) of the pipeline it belongs to: the
 * framework never looks inside either.
 *
 * @module
 */

import type { EntryReader, EntryWriter } from "./cache.ts";
import type { Logger } from "./log.ts";

/** What an asset receives besides its upstream values. */
export interface AssetContext<R = unknown, P = unknown, O = unknown, A = unknown> {
  /** The partition date, `YYYY-MM-DD`. */
  partition: string;
  /** Id of the run (as in its run record). */
  runId: string;
  /** Storage and other services. */
  resources: R;
  /** Run-wide settings (never env vars or globals). */
  params: P;
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
  observation: O;
  /** Cached metadata of this asset for earlier partitions (newest first). */
  history(days: number): Promise<Record<string, unknown>[]>;
  /**
   * Hands an item of partial output (e.g. one downloaded object) to the
   * downstream prefetches started for this compute; does nothing otherwise.
   */
  announce(item: A): void;
  /**
   * Where this asset's inputs come from in this run: the sources upstream
   * of it, with their data versions and when they were observed (for a
   * sink to stamp on what it publishes). Absent outside a run.
   */
  provenance?(): Provenance;
}

/** What a run's value of an asset derives from; see {@linkcode AssetContext.provenance}. */
export interface Provenance {
  /** The run. */
  runId: string;
  /** Each source upstream (by name): its data version and when this run observed it (ISO 8601). */
  sources: Record<string, { version: string; observedAt: string }>;
  /** `incremental` when an upstream was reused or built on a previous entry, else `full`. */
  mode: "full" | "incremental";
}

/** The context `compute` receives: an {@linkcode AssetContext} and a prefetch's result. */
export interface ComputeContext<R = unknown, P = unknown, O = unknown, A = unknown, X = unknown>
  extends AssetContext<R, P, O, A> {
  /**
   * What this asset's {@linkcode Prefetch} produced while its upstream was
   * computing, or `undefined` when none ran.
   */
  prefetched?: Promise<X>;
}

/**
 * Work an asset begins while one upstream is still computing (pipelining,
 * e.g. parsing objects as they arrive). The materializer starts it only
 * when the upstream computes in this run and this asset will compute after
 * it, feeds it what the upstream announces, and hands its result to
 * `compute` as `ctx.prefetched`.
 */
export interface Prefetch<X = unknown, A = unknown, R = unknown, P = unknown> {
  /** The key in `deps` of the upstream whose announcements feed it. */
  from: string;
  /**
   * Starts the work. `announcements` yields each item the upstream passes
   * to `ctx.announce` and ends when its compute returns; `signal` aborts
   * when the upstream fails or this asset will not compute.
   */
  start(
    announcements: AsyncIterable<A>,
    ctx: AssetContext<R, P>,
    signal: AbortSignal,
  ): Promise<X>;
  /**
   * Releases what a result holds (workers, scratch files). Called once the
   * asset's compute has ended, or when it will not run; so it must also be
   * safe after compute consumed the result.
   */
  discard(result: X): Promise<void>;
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
export interface Observation<O = unknown> {
  /** Stable text whose hash is the data version. */
  version: string;
  /** Anything `compute` and `explain` need (kept in the manifest). */
  detail: O;
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
export interface AssetCheck<T, R = unknown, P = unknown> {
  /** Name, unique within the asset. */
  name: string;
  /** Severity when it fails. */
  severity: Severity;
  /**
   * The default limit of a check that compares a measure with a limit (a
   * fraction); a pipeline may let its params override it by check name.
   */
  threshold?: number;
  /** Evaluates the check; returns whether it passed and what was measured. */
  evaluate(
    value: T,
    ctx: AssetContext<R, P>,
    metadata: Record<string, unknown>,
  ): Promise<{ passed: boolean; detail: string }> | {
    passed: boolean;
    detail: string;
  };
}

/** Any asset, whatever its value, resources and params (for graphs and runners). */
// deno-lint-ignore no-explicit-any
export type AnyAsset = Asset<any, any, any, any, any>;

/** The values of a dependency map, by key. */
export type DepValues<D extends Record<string, AnyAsset>> = {
  [K in keyof D]: D[K] extends Asset<infer V, infer _R, infer _P, infer _O, infer _A> ? V : never;
};

/** What an asset passes to `ctx.announce`. */
export type AnnouncedBy<U> = U extends Asset<infer _V, infer _R, infer _P, infer _O, infer A> ? A
  : never;

/**
 * An asset definition: `T` its value, `R` and `P` the pipeline's resources
 * and params, `O` what a source observes, `A` what it announces to prefetches.
 */
export interface Asset<T, R = unknown, P = unknown, O = unknown, A = unknown> {
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
  params?(ctx: AssetContext<R, P>): Record<string, unknown>;
  /** Sources: observes the outside world to derive the data version. */
  observe?(ctx: AssetContext<R, P>): Promise<Observation<O>>;
  /** Sources: why the observation differs from the cached one (`added: KEY`). */
  explain?(previous: O | undefined, current: O): string[];
  /**
   * Sources: whether an error of `compute` means the outside world moved
   * while it ran, so the run observes once more and retries once. Returns
   * the hint added to the error when the retry fails too, or `undefined`.
   */
  observeAgainOn?(error: unknown): string | undefined;
  /**
   * How a compute would go, for `plan` to say before doing it: one line such
   * as `incremental: 2 new objects` or `full: KEY changed`, from the
   * previous entry (`ctx.previous`) and the observations of the upstream
   * sources in this run, by their key in `deps`. `undefined`: nothing to say.
   */
  describeCompute?(
    ctx: AssetContext<R, P>,
    observations: Record<string, unknown>,
  ): string | undefined;
  /** Computes the value from upstream values (typed by `deps` in {@linkcode defineAsset}). */
  compute(deps: Record<string, unknown>, ctx: ComputeContext<R, P, O, A, unknown>): Promise<T>;
  /** Sinks: whether a cached value is still true outside (e.g. HEAD). */
  isCurrent?(value: T, ctx: AssetContext<R, P>): Promise<boolean>;
  /** Sinks: URIs of what the value published. */
  published?(value: T): string[];
  /** Work begun while an upstream computes; see {@linkcode Prefetch}. */
  // deno-lint-ignore no-explicit-any
  readonly prefetch?: Prefetch<any, any, R, P> & { from: string };
  /** Checks evaluated after the asset materializes. */
  readonly checks: AssetCheck<T, R, P>[];
  /** Optional resources it needs: a runner opens only those a selected asset requires. */
  readonly requires?: readonly (keyof R & string)[];
}

/** A prefetch fed by the upstream `from` of `D`, producing `X`. */
export type PrefetchFrom<D extends Record<string, AnyAsset>, X, R, P> = {
  [K in keyof D & string]: Prefetch<X, AnnouncedBy<D[K]>, R, P> & { from: K };
}[keyof D & string];

/** The fields of {@linkcode defineAsset}'s argument. */
export interface AssetSpec<
  T,
  D extends Record<string, AnyAsset>,
  R = unknown,
  P = unknown,
  O = unknown,
  A = unknown,
  X = unknown,
> extends
  Omit<
    Asset<T, R, P, O, A>,
    "deps" | "compute" | "checks" | "defaultSelected" | "description" | "prefetch"
  > {
  /** Upstream assets. */
  deps: D;
  /** Work begun while the upstream `from` computes. */
  prefetch?: PrefetchFrom<D, X, R, P>;
  /** Computes the value from the upstream values. */
  compute(deps: DepValues<D>, ctx: ComputeContext<R, P, O, A, X>): Promise<T>;
  /** Checks; none by default. */
  checks?: AssetCheck<T, R, P>[];
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
 * answer.name; // "answer"
 * ```
 */
export function defineAsset<
  T,
  D extends Record<string, AnyAsset>,
  R = unknown,
  P = unknown,
  O = unknown,
  A = unknown,
  X = unknown,
>(spec: AssetSpec<T, D, R, P, O, A, X>): Asset<T, R, P, O, A> {
  return {
    ...spec,
    checks: spec.checks ?? [],
    defaultSelected: spec.defaultSelected ?? false,
    description: spec.description ?? "",
  } as Asset<T, R, P, O, A>;
}

/**
 * `defineAsset` with a pipeline's resources `R` and params `P` fixed, so
 * that each asset file of the pipeline gets its context typed.
 *
 * @example
 * ```ts
 * import { assetsOf } from "./asset.ts";
 * import { jsonIO } from "./io.ts";
 * const { defineAsset } = assetsOf<{ clock: () => number }, { step: number }>();
 * const tick = defineAsset({
 *   name: "tick",
 *   deps: {},
 *   codeVersion: "1",
 *   io: jsonIO<number>(),
 *   compute: (_, ctx) => Promise.resolve(ctx.resources.clock() + ctx.params.step),
 * });
 * tick.name; // "tick"
 * ```
 */
export function assetsOf<R, P>(): {
  defineAsset<T, D extends Record<string, AnyAsset>, O = unknown, A = unknown, X = unknown>(
    spec: AssetSpec<T, D, R, P, O, A, X>,
  ): Asset<T, R, P, O, A>;
} {
  return { defineAsset };
}
