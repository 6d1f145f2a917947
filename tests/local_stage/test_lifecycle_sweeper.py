"""The stage's lifecycle sweeper (reference_stack/local/lifecycle.py) against a real moto, which
stores lifecycle rules but never applies them: the media bucket's rules, from stack.json."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdas.domain.media import ATTACHED, PENDING, STATE_TAG
from reference_stack.definition import load
from reference_stack.local.lifecycle import sweep_bucket
from tests.support.moto_server import MotoServer

DAY = 86400.0


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with MotoServer(Path(tmp_path_factory.mktemp("moto")) / "moto.log") as server:
        yield boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


@pytest.fixture
def bucket(s3) -> str:
    name = f"media-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_lifecycle_configuration(
        Bucket=name, LifecycleConfiguration=load().buckets["media"].lifecycle_configuration()
    )
    return name


def put(s3, bucket: str, key: str, state: str | None) -> None:
    s3.put_object(
        Bucket=bucket, Key=key, Body=b"x", **({"Tagging": f"{STATE_TAG}={state}"} if state else {})
    )


def keys(s3, bucket: str) -> set[str]:
    return {e["Key"] for e in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def later(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=days * DAY)


def test_unattached_uploads_go_a_day_later_and_attached_ones_stay(s3, bucket):
    """Within the day nothing goes; after it, pending uploads go, attached and other keys stay."""
    put(s3, bucket, "uploads/u/pending", PENDING)
    put(s3, bucket, "uploads/u/attached", ATTACHED)
    put(s3, bucket, "uploads/u/untagged", None)
    assert sweep_bucket(s3, bucket, DAY, now=later(0.9)) == {"expired": 0, "aborted": 0}
    assert sweep_bucket(s3, bucket, DAY, now=later(1.01)) == {"expired": 1, "aborted": 0}
    assert keys(s3, bucket) == {"uploads/u/attached", "uploads/u/untagged"}


def test_incomplete_multipart_uploads_are_aborted_a_day_on(s3, bucket):
    """An abandoned multipart upload is aborted a day after the sweeper first saw it, not
    before (moto reports the same ``Initiated`` of 2010 for every upload)."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key="uploads/u/big")["UploadId"]
    seen: dict = {}
    assert sweep_bucket(s3, bucket, DAY, now=later(0), seen=seen)["aborted"] == 0
    assert sweep_bucket(s3, bucket, DAY, now=later(0.5), seen=seen)["aborted"] == 0
    assert sweep_bucket(s3, bucket, DAY, now=later(1.01), seen=seen)["aborted"] == 1
    remaining = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert upload not in {u["UploadId"] for u in remaining}


def test_a_shorter_day_expires_sooner(s3, bucket):
    """The stage's --lifecycle-day shortens every rule's day alike (for tests)."""
    put(s3, bucket, "uploads/u/pending", PENDING)
    assert sweep_bucket(s3, bucket, 1.0, now=later(3 / DAY))["expired"] == 1


def test_a_bucket_without_rules_is_left_alone(s3):
    """No lifecycle configuration: nothing to do."""
    name = f"plain-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    put(s3, name, "uploads/u/pending", PENDING)
    assert sweep_bucket(s3, name, DAY, now=later(5)) == {"expired": 0, "aborted": 0}
