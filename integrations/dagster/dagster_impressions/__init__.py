"""The impressions pipeline in Dagster: a ``multi_asset`` run through Dagster Pipes."""

from .assets import (
    PASSED_ENV,
    LaunchFailedError,
    build_impressions_assets,
    k8s_launcher,
    subprocess_launcher,
)
from .graph import (
    AssetInfo,
    CheckInfo,
    GraphFormatError,
    graph_from_cli,
    packaged_graph,
    parse_graph,
)

__all__ = [
    "PASSED_ENV",
    "AssetInfo",
    "CheckInfo",
    "GraphFormatError",
    "LaunchFailedError",
    "build_impressions_assets",
    "graph_from_cli",
    "k8s_launcher",
    "packaged_graph",
    "parse_graph",
    "subprocess_launcher",
]
