"""A Dagster ``multi_asset`` over the pipeline's asset graph, run through Pipes."""

import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError, DagsterPipesExecutionError

from .graph import AssetInfo, packaged_graph

#: Environment variables passed to the CLI as they are (AWS settings and credentials).
PASSED_ENV = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_EC2_METADATA_DISABLED",
    "PGPASSWORD",
)

#: Message of the engine event Dagster records when `closed` carries an error.
_CLOSED_WITH_EXCEPTION = "[pipes] external process pipes closed with exception"

#: Launches the CLI: (context, pipes client, command, env, extras) -> completed invocation.
Launcher = Callable[
    [dg.AssetExecutionContext, Any, list[str], dict[str, str], dict[str, Any]],
    dg.PipesClientCompletedInvocation,
]


class LaunchFailedError(DagsterPipesExecutionError):
    """The CLI exited non-zero; ``results`` holds what it reported before (for the assets
    that completed)."""

    def __init__(self, message: str, results: Sequence[Any]):
        super().__init__(message)
        self.results = list(results)


def subprocess_launcher(
    context: dg.AssetExecutionContext,
    client: Any,
    command: list[str],
    env: dict[str, str],
    extras: dict[str, Any],
) -> dg.PipesClientCompletedInvocation:
    """Runs the command with the Pipes client.

    For a ``PipesSubprocessClient`` (its context injector, message reader, env and cwd), the
    results reported before a failure are kept: the assets that completed are recorded even
    when a later one fails. Any other client whose ``run`` takes ``command``, ``env`` and
    ``extras`` is called as it is (``PipesK8sClient`` needs an image: see :func:`k8s_launcher`);
    Pipes clients drop every result of a process that fails.
    """
    if not isinstance(client, dg.PipesSubprocessClient):
        return client.run(context=context, command=command, env=env, extras=extras)
    with dg.open_pipes_session(
        context=context,
        context_injector=client.context_injector,
        message_reader=client.message_reader,
        extras=extras,
    ) as session:
        process = subprocess.Popen(
            command,
            cwd=client.cwd,
            env={**os.environ, **client.env, **env, **session.get_bootstrap_env_vars()},
            stdout=None if client.forward_stdio else subprocess.DEVNULL,
            stderr=None if client.forward_stdio else subprocess.DEVNULL,
        )
        try:
            code = process.wait()
        except DagsterExecutionInterruptedError:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=client.termination_timeout_seconds)
            raise
    if code != 0:
        raise LaunchFailedError(
            f"External execution process failed with code {code}",
            session.get_results(implicit_materializations=False),
        )
    return dg.PipesClientCompletedInvocation(session)


def k8s_launcher(image: str, **run_kwargs: Any) -> Launcher:
    """A launcher for ``dagster_k8s.PipesK8sClient``: runs the command in a pod of ``image``."""

    def launch(context, client, command, env, extras):
        return client.run(
            context=context, image=image, command=command, env=env, extras=extras, **run_kwargs
        )

    return launch


def _asset_key(prefix: Sequence[str], name: str) -> dg.AssetKey:
    return dg.AssetKey([*prefix, name])


def _closed_error(context: dg.AssetExecutionContext) -> str | None:
    """The error the CLI sent with `closed`, from this run's event log."""
    records = context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    for record in reversed(records):
        event = record.dagster_event
        if event is None or event.message != _CLOSED_WITH_EXCEPTION:
            continue
        error = event.engine_event_data.error
        if error is not None:
            return error.message.strip()
    return None


def build_impressions_assets(
    *,
    command: Sequence[str],
    start_date: str = "2021-01-01",
    end_offset: int = 0,
    key_prefix: Sequence[str] | str | None = None,
    graph: Sequence[AssetInfo] | None = None,
    bucket: str | None = None,
    initials: str | None = None,
    cache_dir: str | None = None,
    state: str | None = None,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    pipes_client_key: str = "pipes_client",
    launcher: Launcher = subprocess_launcher,
    name: str = "impressions",
    group_name: str = "impressions",
) -> dg.AssetsDefinition:
    """Builds one subsettable, daily-partitioned ``multi_asset`` with the pipeline's assets.

    Each run materializes one partition (a UTC date) by running
    ``COMMAND materialize --date DATE --select SELECTED --wait [flags]`` through the Pipes
    client under ``pipes_client_key``; the CLI reports each asset's materialization (its
    metadata and data version) and check results back.

    Args:
        command: The command prefix that runs the CLI, e.g.
            ``["deno", "run", "-A", "--config", "/app/deno.json", "/app/main.ts"]`` or
            ``["/usr/local/bin/impressions"]``.
        start_date: First partition, ``YYYY-MM-DD``.
        end_offset: ``1`` adds today's partition (for hourly refreshes of the current day).
        key_prefix: Optional prefix of every asset key (none by default).
        graph: The asset graph; by default the one shipped with the package.
        bucket, initials, cache_dir: Passed as ``--bucket``, ``--initials``, ``--cache-dir``.
        state: Passed as ``--state`` (only when given): shared state on S3, ``s3://BUCKET/PREFIX``.
        extra_args: More CLI flags.
        env: Environment for the CLI; the AWS variables of this process are passed too.
        launcher: How the client runs the command (see :func:`k8s_launcher`).
    """
    prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
    assets = list(graph if graph is not None else packaged_graph())
    name_of = {_asset_key(prefix, a.name): a.name for a in assets}
    specs = [
        dg.AssetSpec(
            key=_asset_key(prefix, a.name),
            deps=[_asset_key(prefix, d) for d in a.deps],
            code_version=a.code_version,
            description=a.description or None,
            group_name=group_name,
            skippable=True,
            kinds={"typescript"},
        )
        for a in assets
    ]
    check_specs = [
        dg.AssetCheckSpec(
            c.name,
            asset=_asset_key(prefix, a.name),
            description=f"{c.severity.upper()}: reported by the pipeline's {c.name} check",
            metadata={"severity": c.severity.upper()},
        )
        for a in assets
        for c in a.checks
    ]
    partitions_def = dg.DailyPartitionsDefinition(
        start_date=start_date, end_offset=end_offset, timezone="UTC"
    )
    flags: list[str] = []
    for flag, value in (
        ("--bucket", bucket),
        ("--initials", initials),
        ("--cache-dir", cache_dir),
        ("--state", state),
    ):
        if value:
            flags += [flag, value]
    flags += list(extra_args)
    extras = {
        k: v
        for k, v in {"bucket": bucket, "initials": initials, "cache_dir": cache_dir}.items()
        if v
    }

    @dg.multi_asset(
        name=name,
        specs=specs,
        check_specs=check_specs,
        can_subset=True,
        partitions_def=partitions_def,
        required_resource_keys={pipes_client_key},
    )
    def _impressions(context: dg.AssetExecutionContext):
        selected = [name_of[key] for key in context.selected_asset_keys]
        date = context.partition_key
        args = [
            *command,
            "materialize",
            "--date",
            date,
            "--select",
            ",".join(selected),
            # Run retries wait on another process's lease on the date rather than fail.
            "--wait",
            *flags,
        ]
        run_env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        run_env.update(env or {})
        client = getattr(context.resources, pipes_client_key)
        wanted_checks = context.selected_asset_check_keys

        def selected(results):
            for result in results:
                if isinstance(result, dg.AssetCheckResult):
                    if dg.AssetCheckKey(result.asset_key, result.check_name) in wanted_checks:
                        yield result
                elif result.asset_key in context.selected_asset_keys:
                    yield result

        try:
            invocation = launcher(context, client, args, run_env, dict(extras))
        except DagsterPipesExecutionError as error:
            # What completed before the failure, then our one-line error (from `closed`)
            # rather than the launcher's exit code.
            yield from selected(getattr(error, "results", []))
            raise dg.Failure(description=_closed_error(context) or str(error)) from None
        yield from selected(invocation.get_results(implicit_materializations=False))

    return _impressions
