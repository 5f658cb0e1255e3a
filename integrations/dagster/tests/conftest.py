"""Fixtures: the CLI command, a bucket of sample days, a Dagster home per test."""

import gzip
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("IMPRESSIONS_ROOT") or Path(__file__).resolve().parents[3])
SAMPLE_DAY = ROOT / "sample" / "bucket" / "2021" / "01" / "30"


@pytest.fixture(scope="session")
def cli() -> list[str]:
    """The command prefix that runs the CLI from this checkout."""
    if shutil.which("deno") is None:
        pytest.fail("deno is not on PATH")
    return ["deno", "run", "-A", "--config", str(ROOT / "deno.json"), str(ROOT / "main.ts")]


def copy_day(bucket: Path, date: str) -> None:
    """Copies the sample day to DATE, its rows' dates changed to DATE."""
    target = bucket / date.replace("-", "/")
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted(SAMPLE_DAY.iterdir()):
        if source.suffix == ".gz":
            text = gzip.decompress(source.read_bytes()).decode()
            (target / source.name).write_bytes(
                gzip.compress(text.replace("2021-01-30", date).encode())
            )
        else:
            (target / source.name).write_text(source.read_text().replace("2021-01-30", date))


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    """A local bucket with the sample day on 2021-01-28, 29 and 30."""
    root = tmp_path / "bucket"
    for date in ("2021-01-28", "2021-01-29", "2021-01-30"):
        copy_day(root, date)
    return root


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAGSTER_HOME of the test's own."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home
