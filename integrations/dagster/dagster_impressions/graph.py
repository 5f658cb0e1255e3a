"""The pipeline's asset graph, as the CLI's ``graph --format json`` prints it.

The package ships that output as ``graph.json`` (a test fails when it drifts
from the CLI); :func:`graph_from_cli` reads it from a CLI instead.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

GRAPH_FORMAT = "impressions-graph/1"


class GraphFormatError(ValueError):
    """The graph document is not what this package reads."""


@dataclass(frozen=True)
class CheckInfo:
    """A check attached to an asset."""

    name: str
    severity: str  # "error" or "warn"


@dataclass(frozen=True)
class AssetInfo:
    """One asset of the pipeline."""

    name: str
    deps: tuple[str, ...]
    code_version: str
    description: str
    default_selected: bool
    checks: tuple[CheckInfo, ...]


def parse_graph(text: str) -> list[AssetInfo]:
    """Parses a ``graph --format json`` document."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise GraphFormatError(f"the asset graph is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != GRAPH_FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise GraphFormatError(f"the asset graph's format is {found!r}, not {GRAPH_FORMAT!r}")
    return [
        AssetInfo(
            name=asset["name"],
            deps=tuple(asset["deps"]),
            code_version=asset["code_version"],
            description=asset.get("description", ""),
            default_selected=bool(asset.get("default_selected", False)),
            checks=tuple(CheckInfo(c["name"], c["severity"]) for c in asset.get("checks", [])),
        )
        for asset in document["assets"]
    ]


def packaged_graph_text() -> str:
    """The ``graph.json`` shipped with the package."""
    return resources.files("dagster_impressions").joinpath("graph.json").read_text("utf-8")


def packaged_graph() -> list[AssetInfo]:
    """The asset graph shipped with the package."""
    return parse_graph(packaged_graph_text())


def graph_from_cli(command: Sequence[str], timeout: float = 120) -> list[AssetInfo]:
    """Runs ``COMMAND graph --format json`` and parses its output."""
    done = subprocess.run(
        [*command, "graph", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise GraphFormatError(f"`graph --format json` exited {done.returncode}: {last}")
    return parse_graph(done.stdout)
