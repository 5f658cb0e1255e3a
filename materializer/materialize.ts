/**
 * Materializes one partition: for each selected asset in topological order,
 * derives its data version, reuses a verified cache entry with the same
 * version, or computes the value and writes a new entry (files first,
 * manifest last). With `plan`, it only says what would happen and why.
 *
 * @module
 */

import type {
  Asset,
  AssetContext,
  CheckResult,
  ProgressUpdate,
  Resources,
  RunParams,
} from "./asset.ts";
import { Announcements } from "./announcements.ts";
import { commitEntry, createEntryWriter, type EntryReader, openEntry } from "./cache.ts";
import { partitionHistory } from "./history.ts";
import type { Logger } from "./log.ts";
import { dataVersion } from "./versions.ts";
import { ObjectChangedError } from "../resources/errors.ts";

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

// deno-lint-ignore no-explicit-any
type AnyAsset = Asset<any>;

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
}

/** Options for {@linkcode materializePartition}. */
export interface MaterializeOptions {
  /** Assets to run, in topological order, upstreams included. */
  selection: readonly AnyAsset[];
  /** Partition date, `YYYY-MM-DD`. */
  partition: string;
  /** Run id, passed to assets. */
  runId?: string;
  /** Receives progress updates from assets. */
  onProgress?: (asset: string, update: ProgressUpdate) => void;
  /** Root of the cache. */
  cacheDir: string;
  /** Storage and services. */
  resources: Resources;
  /** Run-wide settings. */
  params: RunParams;
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
  /** Called when an asset finishes (for progress and summaries). */
  onAsset?: (outcome: AssetOutcome) => void;
}

/** Folder of one asset's cache entry. */
export function entryDir(cacheDir: string, partition: string, asset: string): string {
  return `${cacheDir}/${partition}/${asset}`;
}

/** One line for an error: its message, never a stack trace. */
export function errorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0];
}

/**
 * Runs (or plans) the selected assets for one partition.
 *
 * @example
 * ```ts
 * import { materializePartition } from "./materialize.ts";
 * declare const options: Parameters<typeof materializePartition>[0];
 * const outcome = await materializePartition({ ...options, partition: "2021-01-30" });
 * const lines = outcome.assets.map((a) => `${a.asset} ${a.status}`);
 * ```
 */
export async function materializePartition(
  options: MaterializeOptions,
): Promise<PartitionOutcome> {
  const { selection, partition, cacheDir, resources, params, log } = options;
  const versions = new Map<string, string>();
  const stale = new Set<string>();
  const values = new Map<string, unknown>();
  const entries = new Map<string, EntryReader | null>();
  const blocked = new Map<string, string>();
  const outcomes: AssetOutcome[] = [];
  const checkpoint = (name: string) => options.checkpoint?.(name) ?? Promise.resolve();
  const prefetches = new Map<string, RunningPrefetch>();
  let firstError: string | undefined;

  const contextFor = (asset: AnyAsset, previous: EntryReader | null, dir: string) => {
    const metadata: Record<string, unknown> = {};
    const ctx: AssetContext = {
      partition,
      runId: options.runId ?? "",
      resources,
      params,
      log: log.child({ asset: asset.name }),
      progress: (update) => options.onProgress?.(asset.name, update),
      record: (m) => Object.assign(metadata, m),
      scratchDir: `${cacheDir}/${partition}/.scratch`,
      output: createEntryWriter(dir, {
        checkpoint: (file) => checkpoint(`cache-write:${asset.name}/${file}`),
      }),
      checkpoint: (name) => checkpoint(`${asset.name}:${name}`),
      previous,
      observation: undefined,
      history: (days) => partitionHistory({ cacheDir, asset: asset.name, before: partition, days }),
      announce: (item) => {
        for (const running of fedBy(asset.name)) running.feed.push(item);
      },
    };
    return { ctx, metadata };
  };

  const versionFor = (asset: AnyAsset, ctx: AssetContext, observed?: string) => {
    const upstream: Record<string, string> = {};
    for (const dep of Object.values(asset.deps)) upstream[dep.name] = versions.get(dep.name)!;
    const inputs = { params: asset.params?.(ctx) ?? {}, upstream };
    const version = dataVersion({
      asset: asset.name,
      codeVersion: asset.codeVersion,
      ...inputs,
      observed,
    });
    return { inputs, version };
  };

  // Before `upstream` computes: start the prefetch of each selected
  // downstream fed by it whose inputs are all known and whose cache entry
  // does not already hold that version (so it will compute too).
  const startPrefetches = async (upstream: AnyAsset) => {
    for (const asset of selection) {
      const prefetch = asset.prefetch;
      if (!prefetch || asset.deps[prefetch.from]?.name !== upstream.name) continue;
      const deps = Object.values(asset.deps);
      if (deps.some((d) => !versions.has(d.name) || blocked.has(d.name))) continue;
      const dir = entryDir(cacheDir, partition, asset.name);
      const { ctx } = contextFor(asset, null, dir);
      const { version } = versionFor(asset, ctx);
      if (!options.force && (await openEntry(dir, false)).entry?.manifest.dataVersion === version) {
        continue;
      }
      const feed = new Announcements();
      const abort = new AbortController();
      const result = prefetch.start(feed, ctx, abort.signal);
      result.catch(() => {}); // seen by compute, or dropped by release
      prefetches.set(asset.name, { asset, from: upstream.name, version, feed, abort, result });
    }
  };

  // Stops a downstream's prefetch (if any) and frees what it holds.
  const release = async (name: string) => {
    const running = prefetches.get(name);
    if (!running) return;
    prefetches.delete(name);
    running.abort.abort();
    running.feed.end();
    const result = await running.result.catch(() => undefined);
    if (result !== undefined) await running.asset.prefetch!.discard(result);
  };
  const fedBy = (upstream: string) => [...prefetches.values()].filter((p) => p.from === upstream);
  const releaseFedBy = async (upstream: string) => {
    for (const running of fedBy(upstream)) await release(running.asset.name);
  };

  const valueOf = async (asset: AnyAsset): Promise<unknown> => {
    if (values.has(asset.name)) return values.get(asset.name);
    const entry = entries.get(asset.name);
    if (!entry) throw new Error(`no cached value for ${asset.name}`);
    const value = await asset.io.read(entry);
    values.set(asset.name, value);
    return value;
  };

  try {
    for (const asset of selection) {
      try {
        await materializeAsset(asset);
      } finally {
        await release(asset.name);
      }
    }
  } finally {
    for (const name of [...prefetches.keys()]) await release(name);
  }

  async function materializeAsset(asset: AnyAsset): Promise<void> {
    const started = performance.now();
    const dir = entryDir(cacheDir, partition, asset.name);
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
    outcomes.push(outcome);
    const finish = () => {
      outcome.durationMs = Math.round(performance.now() - started);
      options.onAsset?.(outcome);
    };
    const blocker = Object.values(asset.deps).map((d) => blocked.get(d.name)).find((b) => b);
    if (blocker) {
      outcome.status = "skipped";
      outcome.error = blocker;
      blocked.set(asset.name, blocker);
      finish();
      return;
    }
    for (let attempt = 0;; attempt++) {
      try {
        const opened = await openEntry(dir, !options.plan);
        const previous = opened.entry;
        const { ctx, metadata } = contextFor(asset, previous, dir);
        let observedVersion: string | undefined;
        if (asset.observe) {
          const observation = await asset.observe(ctx);
          ctx.observation = observation.detail;
          observedVersion = observation.version;
        }
        const { inputs, version } = versionFor(asset, ctx, observedVersion);
        outcome.dataVersion = version;
        versions.set(asset.name, version);

        const reasons = staleReasons(
          asset,
          previous,
          opened.problem,
          version,
          { ...inputs, observation: ctx.observation },
          stale,
        );
        if (reasons.length === 0 && previous && asset.isCurrent) {
          entries.set(asset.name, previous);
          const current = await asset.isCurrent(await valueOf(asset), ctx);
          if (!current) reasons.push("the published object is missing or differs");
        }
        if (reasons.length === 0 && options.force && !options.plan) reasons.push("forced");

        if (reasons.length === 0) {
          entries.set(asset.name, previous);
          outcome.status = "up to date";
          outcome.metadata = previous!.manifest.metadata;
          outcome.checks = previous!.manifest.checks ?? [];
          if (asset.published) outcome.published = asset.published(await valueOf(asset));
        } else if (options.plan) {
          outcome.status = "stale";
          outcome.reasons = reasons;
          stale.add(asset.name);
        } else {
          outcome.reasons = reasons;
          const deps: Record<string, unknown> = {};
          for (const [key, dep] of Object.entries(asset.deps)) deps[key] = await valueOf(dep);
          const prefetched = prefetches.get(asset.name);
          if (prefetched?.version === version) ctx.prefetched = prefetched.result;
          await startPrefetches(asset);
          const computeStart = performance.now();
          const value = await asset.compute(deps, ctx);
          for (const running of fedBy(asset.name)) running.feed.end();
          metadata.durationMs = Math.round(performance.now() - computeStart);
          await asset.io.write(value, ctx.output);
          outcome.checks = await evaluateChecks(asset, value, ctx, metadata);
          await checkpoint(`before-commit:${asset.name}`);
          const manifest = await commitEntry(ctx.output, {
            asset: asset.name,
            partition,
            dataVersion: version,
            codeVersion: asset.codeVersion,
            metadata,
            observation: ctx.observation,
            inputs,
            checks: outcome.checks,
          });
          values.set(asset.name, value);
          entries.set(asset.name, null);
          outcome.status = "materialized";
          outcome.metadata = manifest.metadata;
          await checkpoint(`after-asset:${asset.name}`);
          if (asset.published) outcome.published = asset.published(value);
        }
        const failed = outcome.checks.find((c) => !c.passed && c.severity === "error");
        if (failed) {
          blocked.set(
            asset.name,
            `blocked by failed check ${asset.name}.${failed.name}: ${failed.detail}`,
          );
          firstError ??= blocked.get(asset.name);
        }
        break;
      } catch (error) {
        await releaseFedBy(asset.name);
        if (attempt === 0 && asset.observe && error instanceof ObjectChangedError) {
          log.log("warn", `${errorLine(error)}; listing again and retrying once`);
          continue;
        }
        outcome.status = "failed";
        outcome.error = attempt > 0 && error instanceof ObjectChangedError
          ? `${errorLine(error)} (again after listing anew; is something still writing?)`
          : errorLine(error);
        firstError ??= outcome.error;
        blocked.set(asset.name, `upstream ${asset.name} failed`);
        break;
      }
    }
    finish();
  }

  const status = options.plan
    ? "planned"
    : firstError !== undefined
    ? "failed"
    : outcomes.some((o) => o.status === "materialized")
    ? "materialized"
    : "up to date";
  return { partition, status, assets: outcomes, error: firstError };
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
  ctx: AssetContext,
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
