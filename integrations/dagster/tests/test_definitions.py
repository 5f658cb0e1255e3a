"""`dagster_impressions.definitions`: configured from env vars, valid for Dagster's CLI."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import dagster as dg

DAGSTER = str(Path(sys.executable).parent / "dagster")


def test_definitions_validate(cli, dagster_home, monkeypatch):
    monkeypatch.setenv("IMPRESSIONS_CLI", shlex.join(cli))
    done = subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "dagster_impressions.definitions"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All code locations passed validation" in done.stdout + done.stderr


def _argv_of_run(tmp_path, monkeypatch, **env) -> list[str]:
    """Materializes a partition with IMPRESSIONS_CLI recording its arguments."""
    out = tmp_path / "argv.json"
    recorder = f"import json, sys; open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))"
    monkeypatch.setenv("IMPRESSIONS_CLI", shlex.join([sys.executable, "-c", recorder]))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from dagster_impressions.definitions import build_definitions

    job = build_definitions().resolve_implicit_global_asset_job_def()
    job.execute_in_process(
        partition_key="2021-01-30",
        asset_selection=[dg.AssetKey("published_csv")],
        raise_on_error=False,
    )
    return json.loads(out.read_text())


def test_env_vars_become_flags(tmp_path, monkeypatch, dagster_home):
    argv = _argv_of_run(
        tmp_path,
        monkeypatch,
        IMPRESSIONS_BUCKET="s3://impressions",
        IMPRESSIONS_INITIALS="GF",
        IMPRESSIONS_CACHE_DIR="/var/cache/impressions",
        IMPRESSIONS_STATE="s3://impressions/state",
    )
    assert argv[:6] == ["materialize", "--date", "2021-01-30", "--select", "published_csv", "--wait"]
    flags = dict(zip(argv[6::2], argv[7::2]))
    assert flags == {
        "--bucket": "s3://impressions",
        "--initials": "GF",
        "--cache-dir": "/var/cache/impressions",
        "--state": "s3://impressions/state",
    }


def test_state_is_passed_only_when_set(tmp_path, monkeypatch, dagster_home):
    monkeypatch.delenv("IMPRESSIONS_STATE", raising=False)
    argv = _argv_of_run(tmp_path, monkeypatch, IMPRESSIONS_BUCKET="s3://impressions")
    assert "--state" not in argv
    assert argv[-2:] == ["--bucket", "s3://impressions"]
