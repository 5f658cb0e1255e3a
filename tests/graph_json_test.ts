/**
 * `graph --format json`: the document the Dagster integration reads.
 */

import assert from "node:assert/strict";
import { ASSETS } from "../assets/mod.ts";
import { runCli } from "./_helpers.ts";

Deno.test("graph --format json lists every asset with deps, code version and checks", async () => {
  const r = await runCli(["graph", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const graph = JSON.parse(r.stdout.join("\n"));
  assert.equal(graph.format, "impressions-graph/1");
  assert.deepEqual(
    graph.assets.map((a: { name: string }) => a.name).sort(),
    ASSETS.map((a) => a.name).sort(),
  );
  const byName = Object.fromEntries(graph.assets.map((a: { name: string }) => [a.name, a]));
  assert.deepEqual(byName.published_parquet.deps, [
    "hourly_campaign_counts",
    "deduped_impressions",
    "raw_partition",
  ]);
  assert.deepEqual(byName.hourly_campaign_counts.checks, [
    { name: "counts_sum_to_rows", severity: "error" },
    { name: "positive_counts", severity: "error" },
  ]);
  assert.equal(byName.published_csv.default_selected, true);
  assert.equal(byName.raw_partition.code_version, "1");
  // Upstreams come first (topological order).
  const seen = new Set<string>();
  for (const asset of graph.assets) {
    for (const dep of asset.deps) assert.ok(seen.has(dep), `${dep} before ${asset.name}`);
    seen.add(asset.name);
  }
  const bad = await runCli(["graph", "--format", "yaml"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format must be text, mermaid or json, not "yaml"/);
});
