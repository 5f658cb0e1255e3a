"""Reading a Dagster instance's event log and the CLI's run records."""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg


def events(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list:
    """The run's events of one type."""
    return [r.dagster_event for r in instance.all_logs(run_id, of_type=kind)]


def materializations(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetMaterialization]:
    """The run's asset materializations."""
    return [
        e.event_specific_data.materialization
        for e in events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
    ]


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list:
    """The run's asset check evaluations."""
    return [
        e.event_specific_data
        for e in events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]


def run_records(cache_dir: Path) -> Iterator[dict]:
    """The CLI's run records, oldest first."""
    for path in sorted((cache_dir / "runs").glob("*.json")):
        yield json.loads(path.read_text())
