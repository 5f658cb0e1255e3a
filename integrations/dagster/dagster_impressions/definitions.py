"""``defs``, configured from environment variables, for ``dagster dev -m
dagster_impressions.definitions`` with no code:

- ``IMPRESSIONS_CLI``: the command prefix that runs the CLI, split like a shell would
  (default ``impressions``, the compiled executable on PATH); the package appends
  ``materialize --date <partition> --select ... --wait`` and the flags below;
- ``IMPRESSIONS_BUCKET``, ``IMPRESSIONS_INITIALS``, ``IMPRESSIONS_CACHE_DIR``: ``--bucket``,
  ``--initials``, ``--cache-dir``;
- ``IMPRESSIONS_STATE``: ``--state``, passed only when set (shared state on S3);
- ``IMPRESSIONS_START_DATE``: first partition (default ``2021-01-01``);
- ``IMPRESSIONS_END_OFFSET``: ``1`` to add today's partition (default ``0``);
- ``IMPRESSIONS_KEY_PREFIX``: asset key prefix, ``a/b`` for two parts (default none);
- ``IMPRESSIONS_PIPES_S3_BUCKET``: when set, the CLI writes its Pipes messages to this
  bucket and Dagster reads them with ``dagster_aws``'s ``PipesS3MessageReader`` (the
  ``aws`` extra);
- AWS settings (``AWS_REGION``, ``AWS_ENDPOINT_URL_S3``, credentials, ...) pass through.
"""

from __future__ import annotations

import os
import shlex

import dagster as dg

from .assets import build_impressions_assets
from .graph import packaged_graph

DEFAULT_SELECTED = {a.name for a in packaged_graph() if a.default_selected}


def _pipes_client() -> dg.PipesSubprocessClient:
    bucket = os.environ.get("IMPRESSIONS_PIPES_S3_BUCKET")
    if not bucket:
        return dg.PipesSubprocessClient()
    import boto3  # the `aws` extra
    from dagster_aws.pipes import PipesS3MessageReader

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    client = boto3.client("s3", endpoint_url=endpoint) if endpoint else boto3.client("s3")
    return dg.PipesSubprocessClient(
        message_reader=PipesS3MessageReader(bucket=bucket, client=client, interval=1)
    )


def build_definitions() -> dg.Definitions:
    """Builds the definitions from the environment."""
    env = os.environ
    prefix = env.get("IMPRESSIONS_KEY_PREFIX")
    assets = build_impressions_assets(
        command=shlex.split(env.get("IMPRESSIONS_CLI", "impressions")),
        start_date=env.get("IMPRESSIONS_START_DATE", "2021-01-01"),
        end_offset=int(env.get("IMPRESSIONS_END_OFFSET", "0")),
        key_prefix=prefix.split("/") if prefix else None,
        bucket=env.get("IMPRESSIONS_BUCKET"),
        initials=env.get("IMPRESSIONS_INITIALS"),
        cache_dir=env.get("IMPRESSIONS_CACHE_DIR"),
        state=env.get("IMPRESSIONS_STATE"),
    )
    # What a plain `materialize` runs: the default-selected assets and their upstreams.
    defaults = [k for k in assets.keys if k.path[-1] in DEFAULT_SELECTED]
    daily = dg.define_asset_job(
        "impressions_daily",
        selection=dg.AssetSelection.assets(*defaults).upstream(),
    )
    return dg.Definitions(
        assets=[assets],
        jobs=[daily],
        schedules=[dg.build_schedule_from_partitioned_job(daily, hour_of_day=2)],
        resources={"pipes_client": _pipes_client()},
        # One step per run (the multi_asset): a child process per step would only add startup.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
