/**
 * The asset graph: topological order and selection (`name`, `+name`,
 * `name+`, `a,b`).
 *
 * @module
 */

import type { AnyAsset } from "./asset.ts";

/** A validated graph of assets. */
export interface AssetGraph {
  /** Every asset, upstreams before downstreams. */
  readonly assets: readonly AnyAsset[];
  /** Looks an asset up by name. */
  get(name: string): AnyAsset | undefined;
  /** Direct downstreams of an asset. */
  downstream(name: string): AnyAsset[];
}

/** A selection names an unknown asset; a usage error. */
export class SelectionError extends Error {
  /** Builds the error listing the known names. */
  constructor(name: string, known: readonly string[]) {
    super(`unknown asset ${JSON.stringify(name)}; known assets: ${known.join(", ")}`);
    this.name = "SelectionError";
  }
}

/**
 * Builds a graph from assets listed in any order; fails on duplicate names,
 * unregistered dependencies and cycles.
 *
 * @example
 * ```ts
 * import { createGraph } from "./graph.ts";
 * import { ASSETS } from "../assets/mod.ts";
 * const graph = createGraph(ASSETS);
 * graph.assets.map((a) => a.name); // ["raw_partition", "deduped_impressions", ...]
 * ```
 */
export function createGraph(assets: readonly AnyAsset[]): AssetGraph {
  const byName = new Map<string, AnyAsset>();
  for (const asset of assets) {
    if (byName.has(asset.name)) throw new Error(`asset ${asset.name} is registered twice`);
    byName.set(asset.name, asset);
  }
  const ordered: AnyAsset[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (asset: AnyAsset, path: string[]) => {
    const seen = state.get(asset.name);
    if (seen === "done") return;
    if (seen === "visiting") {
      throw new Error(`asset graph has a cycle: ${[...path, asset.name].join(" -> ")}`);
    }
    state.set(asset.name, "visiting");
    for (const dep of Object.values(asset.deps)) {
      if (byName.get(dep.name) !== dep) {
        throw new Error(`asset ${asset.name} depends on unregistered asset ${dep.name}`);
      }
      visit(dep, [...path, asset.name]);
    }
    state.set(asset.name, "done");
    ordered.push(asset);
  };
  for (const asset of assets) visit(asset, []);
  return {
    assets: ordered,
    get: (name) => byName.get(name),
    downstream: (name) => ordered.filter((a) => Object.values(a.deps).some((d) => d.name === name)),
  };
}

function upstreamClosure(asset: AnyAsset, into: Set<string>): void {
  if (into.has(asset.name)) return;
  into.add(asset.name);
  for (const dep of Object.values(asset.deps)) upstreamClosure(dep, into);
}

/**
 * Resolves a selection to the assets to run, in topological order: each
 * named asset with its upstreams; `name+` adds everything downstream of it
 * (with their upstreams). No selection means the default assets.
 *
 * @example
 * ```ts
 * import { createGraph, selectAssets } from "./graph.ts";
 * import { ASSETS } from "../assets/mod.ts";
 * selectAssets(createGraph(ASSETS), ["deduped_impressions"]).map((a) => a.name);
 * // ["raw_partition", "deduped_impressions"]
 * ```
 */
export function selectAssets(
  graph: AssetGraph,
  selection: readonly string[] | undefined,
): AnyAsset[] {
  const names = new Set<string>();
  const known = graph.assets.map((a) => a.name);
  const items = selection && selection.length > 0
    ? selection.flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s)
    : graph.assets.filter((a) => a.defaultSelected).map((a) => a.name);
  for (const item of items) {
    const withDownstream = item.endsWith("+");
    const name = item.replace(/^\+/, "").replace(/\+$/, "");
    const asset = graph.get(name);
    if (!asset) throw new SelectionError(item, known);
    upstreamClosure(asset, names);
    if (withDownstream) {
      const queue = [asset];
      while (queue.length > 0) {
        for (const next of graph.downstream(queue.pop()!.name)) {
          if (!names.has(next.name)) queue.push(next);
          upstreamClosure(next, names);
        }
      }
    }
  }
  return graph.assets.filter((a) => names.has(a.name));
}
