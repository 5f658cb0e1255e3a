/**
 * The asset graph as SVG, laid out left to right by dagre like a lineage
 * view. Each node shows, for every date of the range, a square coloured
 * (and marked with a symbol) by the asset's state in the newest run of that
 * date, with the details in the square's `<title>` tooltip.
 *
 * @module
 */

import { Graph, layout } from "@dagrejs/dagre";
import { escapeXml, shortVersion } from "./_helpers.ts";
import type { AssetDay, AssetNode, AssetState, DayReport } from "./collect.ts";
import { FONT_STACK, stateStyle } from "./palette.ts";

const NODE_WIDTH = 224;
const PAD = 12;
const CELL = 16;
const GAP = 3;
const HEADER = 46;
const FOOTER = 24;

interface NodeBox {
  width: number;
  height: number;
  x?: number;
  y?: number;
}

function cellsPerRow(): number {
  return Math.floor((NODE_WIDTH - 2 * PAD + GAP) / (CELL + GAP));
}

function nodeHeight(dates: number): number {
  const rows = Math.max(1, Math.ceil(dates / cellsPerRow()));
  return HEADER + rows * (CELL + GAP) - GAP + FOOTER;
}

function cellTitle(day: DayReport, asset: AssetDay): string {
  const parts = [`${day.date} · ${asset.asset}: ${asset.state}`];
  if (asset.dataVersion) parts.push(`data version ${shortVersion(asset.dataVersion)}`);
  if (asset.runId) parts.push(`run ${asset.runId}`);
  if (asset.error) parts.push(asset.error);
  for (const check of asset.checks.filter((c) => !c.passed)) {
    parts.push(`${check.severity} ${check.name}: ${check.detail}`);
  }
  if (asset.state === "not run" && day.state === "no data") parts.push("never materialized");
  return parts.join("\n");
}

function summary(states: AssetState[]): string {
  const counts = new Map<AssetState, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  if (counts.size === 1 && states.length === 1) return states[0];
  return [...counts].map(([s, n]) => `${n} ${s}`).join(" · ");
}

function nodeSvg(node: AssetNode, box: Required<NodeBox>, days: readonly DayReport[]): string {
  const left = box.x - box.width / 2;
  const top = box.y - box.height / 2;
  const perRow = cellsPerRow();
  const assetDays = days.map((d) => d.assets.find((a) => a.asset === node.name));
  const states = assetDays.map((a) => a?.state ?? "not run");
  const cells = days.map((day, i) => {
    const asset = assetDays[i];
    const state = asset?.state ?? "not run";
    const style = stateStyle(state);
    const cx = left + PAD + (i % perRow) * (CELL + GAP);
    const cy = top + HEADER + Math.floor(i / perRow) * (CELL + GAP);
    const title = asset ? cellTitle(day, asset) : `${day.date}: not run`;
    return `<g class="cell" data-date="${day.date}" data-state="${escapeXml(state)}">` +
      `<title>${escapeXml(title)}</title>` +
      `<rect x="${cx}" y="${cy}" width="${CELL}" height="${CELL}" rx="3" fill="${style.fill}" ` +
      `stroke="${style.stroke}"${style.dashed ? ' stroke-dasharray="2 2"' : ""}/>` +
      `<text x="${cx + CELL / 2}" y="${cy + CELL / 2 + 4}" text-anchor="middle" font-size="10" ` +
      `fill="${style.ink}" aria-hidden="true">${style.symbol}</text></g>`;
  }).join("");
  const checks = node.checks.length
    ? `${node.checks.length} check${node.checks.length === 1 ? "" : "s"}`
    : "no checks";
  return `<g class="asset-node" data-asset="${escapeXml(node.name)}">` +
    `<title>${escapeXml(`${node.name}: ${node.description}`)}</title>` +
    `<rect x="${left}" y="${top}" width="${box.width}" height="${box.height}" rx="8" ` +
    `fill="#ffffff" stroke="#4d4d4d" stroke-width="1.5"/>` +
    `<text class="asset-name" x="${left + PAD}" y="${top + 20}" font-size="14" ` +
    `font-weight="600" fill="#111111">${escapeXml(node.name)}</text>` +
    `<text x="${left + PAD}" y="${top + 36}" font-size="11" fill="#555555">${
      escapeXml(`code v${node.codeVersion} · ${checks}`)
    }</text>` +
    cells +
    `<text x="${left + PAD}" y="${top + box.height - 9}" font-size="11" fill="#333333">${
      escapeXml(summary(states))
    }</text></g>`;
}

function edgePath(points: { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  const [first, ...rest] = points;
  if (rest.length === 1) return `M${first.x},${first.y}L${rest[0].x},${rest[0].y}`;
  // A smooth curve through dagre's points (quadratic segments via midpoints).
  let d = `M${first.x},${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const mid = { x: (rest[i].x + rest[i + 1].x) / 2, y: (rest[i].y + rest[i + 1].y) / 2 };
    d += `Q${rest[i].x},${rest[i].y} ${mid.x},${mid.y}`;
  }
  const last = rest[rest.length - 1];
  return `${d}L${last.x},${last.y}`;
}

/**
 * Lays out the asset graph left to right and draws it, with each asset's
 * state per date.
 *
 * @example
 * ```ts
 * import { assetGraphSvg } from "./graph_svg.ts";
 * const svg = assetGraphSvg(
 *   [{ name: "a", description: "", deps: [], codeVersion: "1", checks: [] }],
 *   [],
 * );
 * svg.includes('data-asset="a"'); // true
 * ```
 */
export function assetGraphSvg(nodes: readonly AssetNode[], days: readonly DayReport[]): string {
  const graph = new Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 52, marginx: 10, marginy: 10 });
  graph.setDefaultEdgeLabel(() => ({}));
  const height = nodeHeight(days.length);
  for (const node of nodes) graph.setNode(node.name, { width: NODE_WIDTH, height });
  for (const node of nodes) for (const dep of node.deps) graph.setEdge(dep, node.name);
  layout(graph);
  const { width = 0, height: totalHeight = 0 } = graph.graph() as {
    width?: number;
    height?: number;
  };
  const edges = graph.edges().map((e) => {
    const points = (graph.edge(e) as { points?: { x: number; y: number }[] }).points ?? [];
    return `<path class="edge" data-from="${escapeXml(e.v)}" data-to="${escapeXml(e.w)}" d="${
      edgePath(points)
    }" fill="none" stroke="#4d4d4d" stroke-width="1.5" marker-end="url(#arrow)"/>`;
  }).join("");
  const boxes = nodes.map((node) => nodeSvg(node, graph.node(node.name) as Required<NodeBox>, days))
    .join("");
  const description = `${nodes.length} assets, left to right from source to sink: ${
    nodes.map((n) => n.name).join(", ")
  }. Each square is one date, coloured by the asset's state in the newest run of that date.`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="asset-graph" role="img" ` +
    `aria-labelledby="asset-graph-title asset-graph-desc" width="${Math.ceil(width)}" ` +
    `height="${Math.ceil(totalHeight)}" viewBox="0 0 ${Math.ceil(width)} ${
      Math.ceil(totalHeight)
    }" font-family="${escapeXml(FONT_STACK)}">` +
    `<title id="asset-graph-title">Asset graph with the state of each asset per date</title>` +
    `<desc id="asset-graph-desc">${escapeXml(description)}</desc>` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" ` +
    `markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#4d4d4d"/>` +
    `</marker></defs>${edges}${boxes}</svg>`;
}
