"""Runs against real Dagster: one partition through `dagster asset materialize`, an
up-to-date rerun, a bad-input date, three partitions at once."""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from _events import check_evaluations, events, materializations, run_records
from conftest import SAMPLE_DAY
from dagster_impressions import build_impressions_assets, packaged_graph

DAGSTER = str(Path(sys.executable).parent / "dagster")
UPSTREAM_OF_CSV = ["raw_partition", "deduped_impressions", "hourly_campaign_counts", "published_csv"]


def dagster_materialize(date: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            DAGSTER,
            "asset",
            "materialize",
            "-m",
            "dagster_impressions.definitions",
            "--select",
            "*published_csv",
            "--partition",
            date,
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=170)
    assert process.returncode == 0, output[-3000:]
    return output


def cli_env(cli, bucket: Path, cache: Path) -> dict[str, str]:
    return {
        "IMPRESSIONS_CLI": shlex.join(cli),
        "IMPRESSIONS_BUCKET": str(bucket),
        "IMPRESSIONS_CACHE_DIR": str(cache),
    }


def test_one_partition_then_an_up_to_date_rerun(cli, bucket, dagster_home, tmp_path):
    cache = tmp_path / "cache"
    env = cli_env(cli, bucket, cache)
    checks_of = {a.name: {c.name: c.severity for c in a.checks} for a in packaged_graph()}

    finished(dagster_materialize("2021-01-30", env))
    instance = dg.DagsterInstance.get()
    (run,) = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.SUCCESS
    (record,) = run_records(cache)
    ours = {a["asset"]: a for a in record["partitions"][0]["assets"]}

    mats = materializations(instance, run.run_id)
    assert sorted(m.asset_key.to_user_string() for m in mats) == sorted(UPSTREAM_OF_CSV)
    for m in mats:
        name = m.asset_key.to_user_string()
        assert m.partition == "2021-01-30"
        assert m.tags["dagster/data_version"] == ours[name]["dataVersion"]
        assert m.metadata["status"] == dg.TextMetadataValue("materialized")
        assert isinstance(m.metadata["durationMs"], dg.FloatMetadataValue)
    by_name = {m.asset_key.to_user_string(): m.metadata for m in mats}
    assert by_name["deduped_impressions"]["rowsOut"] == dg.IntMetadataValue(315)
    assert by_name["deduped_impressions"]["spilled"] == dg.BoolMetadataValue(False)
    uri = by_name["published_csv"]["uri"]
    assert isinstance(uri, dg.UrlMetadataValue)
    assert uri.value == f"file://{bucket}/results/2021/01/30/daily_agg_20210130_Guy_Fawkes.csv"
    assert Path(uri.value.removeprefix("file://")).is_file()

    evaluations = check_evaluations(instance, run.run_id)
    seen = sorted((e.asset_key.to_user_string(), e.check_name) for e in evaluations)
    expected = sorted((a, c) for a in UPSTREAM_OF_CSV for c in checks_of[a])
    assert seen == expected  # one evaluation per check
    for e in evaluations:
        assert e.passed, e
        severity = checks_of[e.asset_key.to_user_string()][e.check_name]
        assert e.severity == dg.AssetCheckSeverity(severity.upper())

    # The rerun: nothing recomputed, every asset reported with its unchanged data version.
    finished(dagster_materialize("2021-01-30", env))
    rerun = next(r for r in dg.DagsterInstance.get().get_runs() if r.run_id != run.run_id)
    assert rerun.status == dg.DagsterRunStatus.SUCCESS
    first, second = run_records(cache)
    assert {a["asset"]: a["status"] for a in second["partitions"][0]["assets"]} == {
        name: "up to date" for name in UPSTREAM_OF_CSV
    }
    again = materializations(instance, rerun.run_id)
    assert {m.asset_key.to_user_string(): m.tags["dagster/data_version"] for m in again} == {
        name: ours[name]["dataVersion"] for name in UPSTREAM_OF_CSV
    }
    assert {m.metadata["status"].value for m in again} == {"up to date"}
    # Dagster expects a result for every selected check: the cached ones are reported.
    assert len(check_evaluations(instance, rerun.run_id)) == len(expected)


def test_a_bad_input_date_fails_the_run_with_our_error(cli, tmp_path, dagster_home):
    bucket = tmp_path / "bucket"
    day = bucket / "2021" / "01" / "27"
    day.mkdir(parents=True)
    sample = SAMPLE_DAY / "part-0000.csv"
    header, first = sample.read_text().splitlines()[:2]
    bad = first.replace("2021-01-30 ", "2021-01-27 ").replace("2021-01-30", "2021-01-27")
    bad = bad.replace("2021-01-27 00:21:45.000", "2021-01-27 25:21:45.000")
    (day / "part-0000.csv").write_text(f"{header}\n{bad}\n")
    # What the CLI itself says about this date.
    direct = subprocess.run(
        [*cli, "materialize", "--date", "2021-01-27", "--bucket", str(bucket),
         "--cache-dir", str(tmp_path / "direct-cache")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert direct.returncode == 1
    error = direct.stderr.strip().splitlines()[-1].removeprefix("error: ")

    assets = build_impressions_assets(
        command=cli, bucket=str(bucket), cache_dir=str(tmp_path / "cache")
    )
    instance = dg.DagsterInstance.get()
    result = dg.materialize(
        [assets],
        partition_key="2021-01-27",
        instance=instance,
        resources={"pipes_client": dg.PipesSubprocessClient()},
        selection=dg.AssetSelection.assets("published_csv").upstream(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = events(instance, result.run_id, dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_failure_data.user_failure_data.description == error
    assert error in failure.step_failure_data.error.message
    # raw_partition completed before deduped_impressions failed: it is recorded, with its
    # check; nothing after it is.
    mats = materializations(instance, result.run_id)
    assert [m.asset_key.to_user_string() for m in mats] == ["raw_partition"]
    evaluations = check_evaluations(instance, result.run_id)
    assert [(e.asset_key.to_user_string(), e.check_name) for e in evaluations] == [
        ("raw_partition", "required_columns")
    ]
    assert not (bucket / "results").exists()


def test_a_backfill_runs_three_partitions_at_once(cli, bucket, dagster_home, tmp_path):
    # A backfill of three dates through the instance's queued run coordinator, which lets
    # three runs go at once; the daemon launches them, each a run of its own with its own CLI
    # process (the package maps one partition to one run: see the README).
    with (dagster_home / "dagster.yaml").open("a") as config:
        config.write(
            "run_coordinator:\n"
            "  module: dagster.core.run_coordinator\n"
            "  class: QueuedRunCoordinator\n"
            "  config:\n"
            "    max_concurrent_runs: 3\n"
            "    dequeue_interval_seconds: 1\n"
        )
    # Each run's CLI waits at a barrier until all three runs have started it: the runs can
    # only succeed if they are in progress at the same time.
    barrier = [sys.executable, str(Path(__file__).with_name("_barrier.py")), str(tmp_path / "barrier"), "3", "--"]
    env = {**os.environ, **cli_env([*barrier, *cli], bucket, tmp_path / "cache")}
    dates = ["2021-01-28", "2021-01-29", "2021-01-30"]
    module = ["-m", "dagster_impressions.definitions"]
    backfill = subprocess.run(
        [DAGSTER, "job", "backfill", *module, "-j", "impressions_daily",
         "--from", dates[0], "--to", dates[-1], "--noprompt"],
        env=env, capture_output=True, text=True, timeout=170,
    )
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    instance = dg.DagsterInstance.get()
    assert {r.status for r in instance.get_runs()} == {dg.DagsterRunStatus.QUEUED}
    daemon = subprocess.Popen(
        [str(Path(DAGSTER).parent / "dagster-daemon"), "run", *module],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        # Until the three runs end (the daemon works on its own clock).
        for _ in range(300):
            runs = dg.DagsterInstance.get().get_runs()
            if all(r.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
                   for r in runs):
                break
            time.sleep(0.5)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
    instance = dg.DagsterInstance.get()
    (record,) = instance.get_backfills()
    runs = instance.get_runs()
    assert len(runs) == 3
    assert {r.tags["dagster/backfill"] for r in runs} == {record.backfill_id}
    assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    assert sorted(r.tags["dagster/partition"] for r in runs) == dates
    for run in runs:
        date = run.tags["dagster/partition"]
        mats = materializations(instance, run.run_id)
        assert sorted(m.asset_key.to_user_string() for m in mats) == sorted(UPSTREAM_OF_CSV)
        assert {m.partition for m in mats} == {date}
        compact = date.replace("-", "")
        published = bucket / "results" / date.replace("-", "/")
        assert (published / f"daily_agg_{compact}_Guy_Fawkes.csv").is_file()
