"""The packaged graph is the CLI's, and the factory builds it as Dagster specs."""

import dagster as dg

from dagster_impressions import build_impressions_assets, graph_from_cli, packaged_graph
from dagster_impressions.graph import packaged_graph_text


def test_packaged_graph_matches_the_cli(cli):
    # Fails when an asset, dep, code version or check changes without
    # `graph --format json > integrations/dagster/dagster_impressions/graph.json`.
    assert graph_from_cli(cli) == packaged_graph()
    assert packaged_graph_text().strip() != ""


def test_specs_follow_the_graph():
    graph = packaged_graph()
    assets = build_impressions_assets(command=["impressions"], key_prefix="ads")
    by_name = {a.name: a for a in graph}
    assert {k.path[-1] for k in assets.keys} == set(by_name)
    for key in assets.keys:
        info = by_name[key.path[-1]]
        assert key.path[0] == "ads"
        assert assets.code_versions_by_key[key] == info.code_version
        deps = {d.asset_key.path[-1] for d in assets.specs_by_key[key].deps}
        assert deps == set(info.deps)
    checks = {(c.asset_key.path[-1], c.name) for c in assets.check_specs}
    assert checks == {(a.name, c.name) for a in graph for c in a.checks}
    severities = {(s.asset_key.path[-1], s.name): s.metadata["severity"] for s in assets.check_specs}
    assert severities[("hourly_campaign_counts", "counts_sum_to_rows")] == "ERROR"
    assert severities[("deduped_impressions", "duplicate_share")] == "WARN"
    partitions = assets.partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.get_first_partition_key() == "2021-01-01"
    assert assets.can_subset


def test_unprefixed_keys_are_our_names():
    assets = build_impressions_assets(command=["impressions"])
    assert dg.AssetKey("published_csv") in assets.keys
