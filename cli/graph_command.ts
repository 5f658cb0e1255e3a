/**
 * `graph`: the asset graph as text or Mermaid.
 *
 * @module
 */

import type { AssetGraph } from "../materializer/graph.ts";

/**
 * Formats the graph; `mermaid` gives a `flowchart LR` block.
 *
 * @example
 * ```ts
 * import { formatGraph } from "./graph_command.ts";
 * import { createGraph } from "../materializer/graph.ts";
 * import { ASSETS } from "../assets/mod.ts";
 * console.log(formatGraph(createGraph(ASSETS), "mermaid"));
 * ```
 */
export function formatGraph(graph: AssetGraph, format: "text" | "mermaid"): string {
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
