"""Pipes messages written to S3 by the CLI, read back by dagster-aws's PipesS3MessageReader."""

import json
import shlex

import boto3
import dagster as dg
import pytest

from _events import check_evaluations, materializations

SECRET = "moto-secret-key-that-must-not-leak"


@pytest.fixture
def s3_endpoint(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    yield endpoint
    server.stop()


def test_messages_through_s3(cli, bucket, dagster_home, tmp_path, monkeypatch, s3_endpoint):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket="pipes")
    for name, value in {
        "IMPRESSIONS_CLI": shlex.join(cli),
        "IMPRESSIONS_BUCKET": str(bucket),
        "IMPRESSIONS_CACHE_DIR": str(tmp_path / "cache"),
        "IMPRESSIONS_PIPES_S3_BUCKET": "pipes",
        "IMPRESSIONS_KEY_PREFIX": "ads",
    }.items():
        monkeypatch.setenv(name, value)
    from dagster_impressions.definitions import build_definitions

    instance = dg.DagsterInstance.get()
    job = build_definitions().resolve_implicit_global_asset_job_def()
    # A subset: only published_csv is selected (the CLI still runs its upstreams).
    result = job.execute_in_process(
        partition_key="2021-01-30",
        asset_selection=[dg.AssetKey(["ads", "published_csv"])],
        instance=instance,
    )
    assert result.success
    (mat,) = materializations(instance, result.run_id)
    assert mat.asset_key == dg.AssetKey(["ads", "published_csv"])
    assert mat.tags["dagster/data_version"]
    assert isinstance(mat.metadata["uri"], dg.UrlMetadataValue)
    assert check_evaluations(instance, result.run_id) == []  # published_csv has no checks

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="pipes").get("Contents", [])]
    assert keys and all(k.endswith(".json") for k in keys)
    chunks = [s3.get_object(Bucket="pipes", Key=k)["Body"].read().decode() for k in keys]
    messages = [json.loads(line) for chunk in chunks for line in chunk.splitlines()]
    methods = [m["method"] for m in messages]
    assert methods[0] == "opened" and methods[-1] == "closed"
    assert methods.count("report_asset_materialization") == 1
    assert all(m["__dagster_pipes_version"] == "0.1" for m in messages)
    assert not any(SECRET in chunk for chunk in chunks)
