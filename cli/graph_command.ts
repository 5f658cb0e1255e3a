/**
 * `graph`: the asset graph as text, Mermaid or JSON (read by the Dagster
 * integration in `integrations/dagster/`).
 *
 * @module
 */

import type { AssetGraph } from "../materializer/graph.ts";

/** Version of the `graph --format json` document. */
export const GRAPH_JSON_FORMAT = "impressions-graph/1";

/**
 * Formats the graph; `mermaid` gives a `flowchart LR` block; `json` one
 * document `{format, assets: [{name, deps, code_version, description,
 * default_selected, checks: [{name, severity}]}]}` in topological order.
 *
 * @example
 * ```ts
 * import { formatGraph } from "./graph_command.ts";
 * import { createGraph } from "../materializer/graph.ts";
 * import { ASSETS } from "../assets/mod.ts";
 * console.log(formatGraph(createGraph(ASSETS), "mermaid"));
 * ```
 */
export function formatGraph(graph: AssetGraph, format: "text" | "mermaid" | "json"): string {
  if (format === "json") {
    return JSON.stringify(
      {
        format: GRAPH_JSON_FORMAT,
        assets: graph.assets.map((asset) => ({
          name: asset.name,
          deps: Object.values(asset.deps).map((d) => d.name),
          code_version: asset.codeVersion,
          description: asset.description,
          default_selected: asset.defaultSelected,
          checks: asset.checks.map((c) => ({ name: c.name, severity: c.severity })),
        })),
      },
      null,
      2,
    );
  }
  if (format === "mermaid") {
    const lines = ["flowchart LR"];
    for (const asset of graph.assets) lines.push(`  ${asset.name}[${asset.name}]`);
    for (const asset of graph.assets) {
      for (const dep of Object.values(asset.deps)) lines.push(`  ${dep.name} --> ${asset.name}`);
    }
    return lines.join("\n");
  }
  const lines: string[] = [];
  for (const asset of graph.assets) {
    const deps = Object.values(asset.deps).map((d) => d.name);
    const tags = [`v${asset.codeVersion}`, ...(asset.defaultSelected ? ["default"] : [])];
    lines.push(`${asset.name} (${tags.join(", ")})${deps.length ? ` <- ${deps.join(", ")}` : ""}`);
    if (asset.description) lines.push(`    ${asset.description}`);
    for (const check of asset.checks) lines.push(`    check ${check.name} [${check.severity}]`);
  }
  return lines.join("\n");
}
