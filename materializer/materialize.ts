/**
 * Materializes one partition: for each selected asset in topological order,
 * derives its data version, reuses a verified entry of the state with the
 * same version, or computes the value and writes a new entry (files first,
 * manifest last). With `plan`, it only says what would happen and why.
 *
 * The steps of one asset, each a method of {@linkcode PartitionRun}:
 * `observe` (sources) and derive the version, `decide` whether the entry is
 * current (`staleReasons`, and a sink's `isCurrent`), then `reuse` the entry
 * or `compute` the value (starting downstream prefetches first), evaluate
 * its checks and `commit` the entry.
 *
 * @module
 */

import type {
  AnyAsset,
  AssetContext,
  CheckResult,
  ComputeContext,
  ProgressUpdate,
  Provenance,
} from "./asset.ts";
import { Announcements } from "./announcements.ts";
import type { EntryReader } from "./cache.ts";
import { partitionHistory } from "./history.ts";
import type { Logger } from "./log.ts";
import type { StateStore } from "./state.ts";
import { dataVersion } from "./versions.ts";
import { escapeText } from "../engine/escape_text.ts";

/** What a data version was derived from, kept to explain staleness. */
interface VersionInputs {
  params: Record<string, unknown>;
  upstream: Record<string, string>;
  observation?: unknown;
}

/** A downstream's prefetch running while its upstream computes. */
interface RunningPrefetch {
  /** The downstream asset. */
  asset: AnyAsset;
  /** Name of the upstream feeding it. */
  from: string;
  /** The downstream's data version it was started for. */
  version: string;
  feed: Announcements;
  abort: AbortController;
  result: Promise<unknown>;
}

/** What happened to one asset of a partition. */
export type AssetStatus =
  | "materialized"
  | "up to date"
  | "failed"
  | "skipped"
  | "stale";

/** The outcome for one asset of one partition. */
export interface AssetOutcome {
  /** Asset name. */
  asset: string;
  /** What happened (`stale` only when planning). */
  status: AssetStatus;
  /** Why it was (or would be) recomputed. */
  reasons: string[];
  /** Data version, when known. */
  dataVersion?: string;
  /** Code version of the asset. */
  codeVersion: string;
  /** Wall time in milliseconds. */
  durationMs: number;
  /** Recorded figures. */
  metadata: Record<string, unknown>;
  /** Check results. */
  checks: CheckResult[];
  /** One-line error, when it failed or was skipped. */
  error?: string;
  /** URIs published by a sink. */
  published: string[];
}

/** The outcome of a partition. */
export interface PartitionOutcome {
  /** Partition date. */
  partition: string;
  /** `materialized` when anything was computed, `failed` when anything failed. */
  status: "materialized" | "up to date" | "failed" | "planned";
  /** Per asset, in order. */
  assets: AssetOutcome[];
  /** The first error, one line. */
  error?: string;
  /**
   * The run that did this partition's work, when another run (a worker
   * sharing the state) finished it while this one waited or came later.
   */
  doneBy?: string;
}

/** Options for {@linkcode materializePartition}. */
export interface MaterializeOptions<R = unknown, P = unknown> {
  /** Assets to run, in topological order, upstreams included. */
  selection: readonly AnyAsset[];
  /** Partition date, `YYYY-MM-DD`. */
  partition: string;
  /** Run id, passed to assets. */
  runId?: string;
  /** Receives progress updates from assets. */
  onProgress?: (asset: string, update: ProgressUpdate) => void;
  /** Where entries, manifests and scratch live. */
  state: StateStore;
  /** Storage and services. */
  resources: R;
  /** Run-wide settings. */
  params: P;
  /** Logger for this partition. */
  log: Logger;
  /** Recompute every selected asset. */
  force?: boolean;
  /** Only say what would happen. */
  plan?: boolean;
  /**
   * Called at named points of the run (`after-asset:NAME`, `before-commit:NAME`,
   * `cache-write:NAME/FILE`, `NAME:POINT`); crash tests pause there.
   */
  checkpoint?: (name: string) => Promise<void>;
  /**
   * Throws when the partition's lock was lost; called after every
   * checkpoint, so before each upload and each state write.
   */
  fence?: () => void;
  /** Called when an asset finishes (for progress and summaries). */
  onAsset?: (outcome: AssetOutcome) => void;
}

/**
 * One line for an error: its message, never a stack trace, with control
 * characters (a line break in a key, say) escaped, so nothing is cut.
 */
export function errorLine(error: unknown): string {
  return escapeText(error instanceof Error ? error.message : String(error));
}

/**
 * Runs (or plans) the selected assets for one partition.
 *
 * @example
 * ```ts
 * import { materializePartition } from "./materialize.ts";
 * import { defineAsset } from "./asset.ts";
 * import { jsonIO } from "./io.ts";
 * import { createLogger } from "./log.ts";
 * import { localState } from "./state.ts";
 * const answer = defineAsset({
 *   name: "answer",
 *   deps: {},
 *   codeVersion: "1",
 *   io: jsonIO<number>(),
 *   compute: () => Promise.resolve(42),
 * });
 * const outcome = await materializePartition({
 *   selection: [answer],
 *   partition: "2021-01-30",
 *   state: localState(await Deno.makeTempDir()),
 *   resources: {},
 *   params: {},
 *   log: createLogger({ format: "text", level: "error", write: () => {} }),
 * });
 * outcome.assets.map((a) => `${a.asset} ${a.status}`); // ["answer materialized"]
 * ```
 */
export function materializePartition<R, P>(
  options: MaterializeOptions<R, P>,
): Promise<PartitionOutcome> {
  return new PartitionRun(options).run();
}

/** The state of one partition's run, shared by the steps of each asset. */
class PartitionRun<R, P> {
  #options: MaterializeOptions<R, P>;
  /** Data versions derived so far, by asset. */
  #versions = new Map<string, string>();
  /** Assets a plan found stale. */
  #stale = new Set<string>();
  /** What each source observed in this run. */
  #observations = new Map<string, unknown>();
  /** Values computed or read so far. */
  #values = new Map<string, unknown>();
  /** Entries to read values from (`null`: computed in this run). */
  #entries = new Map<string, EntryReader | null>();
  /** Why an asset's downstreams cannot run. */
  #blocked = new Map<string, string>();
  #prefetches = new Map<string, RunningPrefetch>();
  #outcomes: AssetOutcome[] = [];
  #firstError: string | undefined;
  /**
   * Assets found current by a shared state's manifest whose files are not
   * on this machine: how to compute them here, should a value be needed.
   */
  #deferred = new Map<string, () => Promise<void>>();
  /** Assets being computed again for their files (a prefetch may feed them). */
  #recomputing = new Set<string>();
  /** When each source was observed in this run. */
  #observedAt = new Map<string, string>();
  /** Assets computed on top of a previous entry. */
  #incremental = new Set<string>();

  constructor(options: MaterializeOptions<R, P>) {
    this.#options = options;
  }

  async run(): Promise<PartitionOutcome> {
    try {
      for (const asset of this.#options.selection) {
        try {
          await this.#materializeAsset(asset);
        } finally {
          await this.#release(asset.name);
        }
      }
    } finally {
      for (const name of [...this.#prefetches.keys()]) await this.#release(name);
    }
    const status = this.#options.plan
      ? "planned"
      : this.#firstError !== undefined
      ? "failed"
      : this.#outcomes.some((o) => o.status === "materialized")
      ? "materialized"
      : "up to date";
    return {
      partition: this.#options.partition,
      status,
      assets: this.#outcomes,
      error: this.#firstError,
    };
  }

  async #checkpoint(name: string): Promise<void> {
    await this.#options.checkpoint?.(name);
    this.#options.fence?.();
  }

  #context(asset: AnyAsset, previous: EntryReader | null) {
    const { partition, state, log } = this.#options;
    const metadata: Record<string, unknown> = {};
    const ctx: ComputeContext<R, P> = {
      partition,
      runId: this.#options.runId ?? "",
      resources: this.#options.resources,
      params: this.#options.params,
      log: log.child({ asset: asset.name }),
      progress: (update) => this.#options.onProgress?.(asset.name, update),
      record: (m) => Object.assign(metadata, m),
      scratchDir: state.scratchDir(partition),
      output: state.createEntry(partition, asset.name, {
        checkpoint: (file) => this.#checkpoint(`cache-write:${asset.name}/${file}`),
      }),
      checkpoint: (name) => this.#checkpoint(`${asset.name}:${name}`),
      previous,
      observation: undefined,
      history: (days) => partitionHistory({ state, asset: asset.name, before: partition, days }),
      announce: (item) => {
        for (const running of this.#fedBy(asset.name)) running.feed.push(item);
      },
      provenance: () => this.#provenance(asset),
    };
    return { ctx, metadata };
  }

  #provenance(asset: AnyAsset): Provenance {
    const sources: Provenance["sources"] = {};
    let incremental = false;
    const seen = new Set<string>();
    const visit = (a: AnyAsset) => {
      for (const dep of Object.values(a.deps)) {
        if (seen.has(dep.name)) continue;
        seen.add(dep.name);
        if (this.#entries.get(dep.name) || this.#incremental.has(dep.name)) incremental = true;
        if (dep.observe && this.#versions.has(dep.name)) {
          sources[dep.name] = {
            version: this.#versions.get(dep.name)!,
            observedAt: this.#observedAt.get(dep.name) ?? "",
          };
        }
        visit(dep);
      }
    };
    visit(asset);
    return {
      runId: this.#options.runId ?? "",
      sources,
      mode: incremental ? "incremental" : "full",
    };
  }

  #version(asset: AnyAsset, ctx: AssetContext<R, P>, observed?: string) {
    const upstream: Record<string, string> = {};
    for (const dep of Object.values(asset.deps)) upstream[dep.name] = this.#versions.get(dep.name)!;
    const inputs = { params: asset.params?.(ctx) ?? {}, upstream };
    const version = dataVersion({
      asset: asset.name,
      codeVersion: asset.codeVersion,
      ...inputs,
      observed,
    });
    return { inputs, version };
  }

  // Before `upstream` computes: start the prefetch of each selected
  // downstream fed by it whose inputs are all known and whose entry does
  // not already hold that version (so it will compute too).
  async #startPrefetches(upstream: AnyAsset): Promise<void> {
    const { selection, state, partition, force } = this.#options;
    for (const asset of selection) {
      const prefetch = asset.prefetch;
      if (!prefetch || asset.deps[prefetch.from]?.name !== upstream.name) continue;
      const deps = Object.values(asset.deps);
      if (deps.some((d) => !this.#versions.has(d.name) || this.#blocked.has(d.name))) continue;
      const current = await state.openEntry(partition, asset.name, { verify: false });
      // The previous entry, unverified: compute sees the verified one.
      const { ctx } = this.#context(asset, current.entry);
      const { version } = this.#version(asset, ctx);
      if (
        !force && !this.#recomputing.has(asset.name) &&
        current.entry?.manifest.dataVersion === version
      ) continue;
      const feed = new Announcements();
      const abort = new AbortController();
      const result = prefetch.start(feed, ctx, abort.signal);
      result.catch(() => {}); // seen by compute, or dropped by release
      this.#prefetches.set(asset.name, {
        asset,
        from: upstream.name,
        version,
        feed,
        abort,
        result,
      });
    }
  }

  // Stops a downstream's prefetch (if any) and frees what it holds.
  async #release(name: string): Promise<void> {
    const running = this.#prefetches.get(name);
    if (!running) return;
    this.#prefetches.delete(name);
    running.abort.abort();
    running.feed.end();
    const result = await running.result.catch(() => undefined);
    if (result !== undefined) await running.asset.prefetch!.discard(result);
  }

  #fedBy(upstream: string): RunningPrefetch[] {
    return [...this.#prefetches.values()].filter((p) => p.from === upstream);
  }

  async #releaseFedBy(upstream: string): Promise<void> {
    for (const running of this.#fedBy(upstream)) await this.#release(running.asset.name);
  }

  async #valueOf(asset: AnyAsset): Promise<unknown> {
    if (this.#values.has(asset.name)) return this.#values.get(asset.name);
    const recompute = this.#deferred.get(asset.name);
    if (recompute) {
      this.#deferred.delete(asset.name);
      await recompute();
      return this.#values.get(asset.name);
    }
    const entry = this.#entries.get(asset.name);
    if (!entry) throw new Error(`no cached value for ${asset.name}`);
    const value = await asset.io.read(entry);
    this.#values.set(asset.name, value);
    return value;
  }

  async #materializeAsset(asset: AnyAsset): Promise<void> {
    const started = performance.now();
    const outcome: AssetOutcome = {
      asset: asset.name,
      status: "failed",
      reasons: [],
      codeVersion: asset.codeVersion,
      durationMs: 0,
      metadata: {},
      checks: [],
      published: [],
    };
    this.#outcomes.push(outcome);
    const blocker = Object.values(asset.deps).map((d) => this.#blocked.get(d.name)).find((b) => b);
    if (blocker) {
      outcome.status = "skipped";
      outcome.error = blocker;
      this.#blocked.set(asset.name, blocker);
    } else {
      await this.#attempt(asset, outcome);
    }
    outcome.durationMs = Math.round(performance.now() - started);
    this.#options.onAsset?.(outcome);
  }

  // Observes, decides and reuses or computes; a source whose world moved
  // while it computed observes once more and retries once.
  async #attempt(asset: AnyAsset, outcome: AssetOutcome): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await this.#step(asset, outcome);
        const failed = outcome.checks.find((c) => !c.passed && c.severity === "error");
        if (failed) {
          const why = `blocked by failed check ${asset.name}.${failed.name}: ${failed.detail}`;
          this.#blocked.set(asset.name, why);
          this.#firstError ??= why;
        }
        return;
      } catch (error) {
        await this.#releaseFedBy(asset.name);
        const hint = asset.observeAgainOn?.(error);
        if (attempt === 0 && hint !== undefined) {
          this.#options.log.log("warn", `${errorLine(error)}; observing again and retrying once`);
          continue;
        }
        outcome.status = "failed";
        outcome.error = attempt > 0 && hint !== undefined
          ? `${errorLine(error)} (${hint})`
          : errorLine(error);
        this.#firstError ??= outcome.error;
        this.#blocked.set(asset.name, `upstream ${asset.name} failed`);
        return;
      }
    }
  }

  async #step(asset: AnyAsset, outcome: AssetOutcome): Promise<void> {
    const { state, partition, plan } = this.#options;
    const opened = await state.openEntry(partition, asset.name, { verify: !plan });
    const previous = opened.entry;
    // An entry whose files are elsewhere decides, but cannot seed incremental work.
    const { ctx, metadata } = this.#context(asset, opened.missing ? null : previous);
    let observed: string | undefined;
    if (asset.observe) {
      this.#observedAt.set(asset.name, new Date().toISOString());
      const observation = await asset.observe(ctx);
      ctx.observation = observation.detail;
      observed = observation.version;
      this.#observations.set(asset.name, observation.detail);
    }
    const { inputs, version } = this.#version(asset, ctx, observed);
    outcome.dataVersion = version;
    this.#versions.set(asset.name, version);

    const reasons = await this.#decide(asset, ctx, previous, opened, version, inputs);
    if (reasons.length === 0 && opened.missing && !plan) {
      // Up to date by the shared state: computed here only if a downstream needs the value.
      this.#entries.set(asset.name, previous);
      outcome.status = "up to date";
      outcome.metadata = previous!.manifest.metadata;
      outcome.checks = previous!.manifest.checks ?? [];
      this.#deferred.set(asset.name, async () => {
        this.#recomputing.add(asset.name);
        const started = performance.now();
        try {
          outcome.reasons = [opened.missing!];
          await this.#compute(asset, ctx, metadata, version, inputs, outcome);
        } catch (error) {
          outcome.status = "failed";
          outcome.error = errorLine(error);
          throw error;
        } finally {
          this.#recomputing.delete(asset.name);
          outcome.durationMs += Math.round(performance.now() - started);
          this.#options.onAsset?.(outcome);
        }
      });
    } else if (reasons.length === 0) {
      await this.#reuse(asset, previous!, outcome);
    } else if (plan) {
      outcome.status = "stale";
      outcome.reasons = reasons;
      const how = asset.describeCompute?.(ctx, this.#upstreamObservations(asset));
      if (how !== undefined) outcome.reasons.push(how);
      this.#stale.add(asset.name);
    } else {
      outcome.reasons = reasons;
      await this.#compute(asset, ctx, metadata, version, inputs, outcome);
    }
  }

  #upstreamObservations(asset: AnyAsset): Record<string, unknown> {
    const observations: Record<string, unknown> = {};
    for (const [key, dep] of Object.entries(asset.deps)) {
      if (this.#observations.has(dep.name)) observations[key] = this.#observations.get(dep.name);
    }
    return observations;
  }

  // Why the entry is not current (none: it is).
  async #decide(
    asset: AnyAsset,
    ctx: AssetContext<R, P>,
    previous: EntryReader | null,
    opened: { problem?: string; missing?: string },
    version: string,
    inputs: { params: Record<string, unknown>; upstream: Record<string, string> },
  ): Promise<string[]> {
    const reasons = staleReasons(
      asset,
      previous,
      opened.problem,
      version,
      { ...inputs, observation: ctx.observation },
      this.#stale,
    );
    // A sink whose own files are elsewhere cannot be asked; compute it again.
    if (reasons.length === 0 && opened.missing && asset.isCurrent) reasons.push(opened.missing);
    if (reasons.length === 0 && previous && asset.isCurrent) {
      this.#entries.set(asset.name, previous);
      const current = await asset.isCurrent(await this.#valueOf(asset), ctx);
      if (!current) reasons.push("the published object is missing or differs");
    }
    if (reasons.length === 0 && this.#options.force && !this.#options.plan) reasons.push("forced");
    return reasons;
  }

  async #reuse(asset: AnyAsset, previous: EntryReader, outcome: AssetOutcome): Promise<void> {
    this.#entries.set(asset.name, previous);
    outcome.status = "up to date";
    outcome.metadata = previous.manifest.metadata;
    outcome.checks = previous.manifest.checks ?? [];
    if (asset.published) outcome.published = asset.published(await this.#valueOf(asset));
  }

  async #compute(
    asset: AnyAsset,
    ctx: ComputeContext<R, P>,
    metadata: Record<string, unknown>,
    version: string,
    inputs: { params: Record<string, unknown>; upstream: Record<string, string> },
    outcome: AssetOutcome,
  ): Promise<void> {
    const deps: Record<string, unknown> = {};
    for (const [key, dep] of Object.entries(asset.deps)) deps[key] = await this.#valueOf(dep);
    const prefetched = this.#prefetches.get(asset.name);
    if (prefetched?.version === version) ctx.prefetched = prefetched.result;
    await this.#startPrefetches(asset);
    const computeStart = performance.now();
    if (ctx.previous) this.#incremental.add(asset.name);
    const value = await asset.compute(deps, ctx);
    for (const running of this.#fedBy(asset.name)) running.feed.end();
    metadata.durationMs = Math.round(performance.now() - computeStart);
    await asset.io.write(value, ctx.output);
    outcome.checks = await evaluateChecks(asset, value, ctx, metadata);
    await this.#checkpoint(`before-commit:${asset.name}`);
    const manifest = await this.#options.state.commitEntry(ctx.output, {
      asset: asset.name,
      partition: this.#options.partition,
      dataVersion: version,
      codeVersion: asset.codeVersion,
      metadata,
      observation: ctx.observation,
      inputs,
      checks: outcome.checks,
    });
    this.#values.set(asset.name, value);
    this.#entries.set(asset.name, null);
    outcome.status = "materialized";
    outcome.metadata = manifest.metadata;
    await this.#checkpoint(`after-asset:${asset.name}`);
    if (asset.published) outcome.published = asset.published(value);
  }
}

function staleReasons(
  asset: AnyAsset,
  previous: EntryReader | null,
  problem: string | undefined,
  version: string,
  inputs: VersionInputs,
  stale: ReadonlySet<string>,
): string[] {
  if (!previous) return [problem ?? "never materialized"];
  const manifest = previous.manifest;
  if (manifest.dataVersion === version) return [];
  const reasons: string[] = [];
  if (manifest.codeVersion !== asset.codeVersion) {
    reasons.push(`code version changed (${manifest.codeVersion} -> ${asset.codeVersion})`);
  }
  const before = manifest.inputs;
  if (asset.explain) reasons.push(...asset.explain(manifest.observation, inputs.observation));
  for (const [name, value] of Object.entries(inputs.params)) {
    if (before && JSON.stringify(before.params[name]) !== JSON.stringify(value)) {
      reasons.push(`parameter ${name} changed`);
    }
  }
  for (const [name, value] of Object.entries(inputs.upstream)) {
    if (before && before.upstream[name] !== value) {
      // When planning, an upstream that would be recomputed is "stale", not yet "changed".
      reasons.push(stale.has(name) ? `upstream ${name} is stale` : `upstream ${name} changed`);
    }
  }
  if (reasons.length === 0) reasons.push("its inputs changed");
  return reasons;
}

async function evaluateChecks(
  asset: AnyAsset,
  value: unknown,
  // deno-lint-ignore no-explicit-any
  ctx: AssetContext<any, any>,
  metadata: Record<string, unknown>,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of asset.checks) {
    let outcome: { passed: boolean; detail: string };
    try {
      outcome = await check.evaluate(value, ctx, metadata);
    } catch (error) {
      outcome = { passed: false, detail: `check raised: ${errorLine(error)}` };
    }
    results.push({ name: check.name, asset: asset.name, severity: check.severity, ...outcome });
  }
  return results;
}
