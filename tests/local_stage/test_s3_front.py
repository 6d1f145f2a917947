"""The local stage's S3 endpoint (reference_stack/local/s3_front.py) in front of a real moto:
what moto alone lets through, and what S3 — and so the front — refuses."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from aiohttp import web
from botocore.config import Config

from reference_stack.definition import load
from reference_stack.local.s3_auth import Credentials
from reference_stack.local.s3_front import S3Front
from tests.support.moto_server import MotoServer

WEB = "http://127.0.0.1:8002"
TAGGING = "<Tagging><TagSet><Tag><Key>state</Key><Value>pending</Value></Tag></TagSet></Tagging>"


def client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token="token",
        config=Config(signature_version="s3v4", retries={"total_max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with MotoServer(Path(tmp_path_factory.mktemp("moto")) / "moto.log") as server:
        yield server.endpoint


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
async def front(moto: str) -> AsyncIterator[tuple[str, str, Clock]]:
    """(front URL, bucket, the front's clock) — a bucket with the media bucket's CORS."""
    bucket = f"media-{uuid.uuid4().hex[:10]}"
    backend = client(moto)
    backend.create_bucket(Bucket=bucket)
    backend.put_bucket_cors(
        Bucket=bucket, CORSConfiguration=load().buckets["media"].cors_configuration([WEB])
    )
    clock = Clock()
    app = S3Front(
        moto,
        Credentials({"local": ("local", "token")}),
        lambda name: backend.get_bucket_cors(Bucket=name)["CORSRules"],
        clock=clock,
    ).build_app()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", bucket, clock
    await runner.cleanup()


def presigned_post(endpoint: str, bucket: str, key: str, size: int = 5) -> dict[str, Any]:
    return client(endpoint).generate_presigned_post(
        bucket,
        key,
        Fields={"Content-Type": "image/png", "tagging": TAGGING},
        Conditions=[
            {"Content-Type": "image/png"},
            {"tagging": TAGGING},
            ["content-length-range", size, size],
        ],
        ExpiresIn=60,
    )


def post(post: dict[str, Any], body: bytes, **changes: str) -> requests.Response:
    fields = {**post["fields"], **changes}
    return requests.post(post["url"], data=fields, files={"file": ("f", body)}, timeout=10)


async def call(function, *args, **kwargs):
    return await asyncio.to_thread(function, *args, **kwargs)


def exists(endpoint: str, bucket: str, key: str) -> bool:
    return "Contents" in client(endpoint).list_objects_v2(Bucket=bucket, Prefix=key)


async def test_moto_alone_stores_what_a_policy_forbids(moto, front):
    """Why the front exists: moto 5.2.5 stores an upload of another type and size than its
    policy allows (if this starts failing, moto enforces policies now)."""
    _, bucket, _ = front
    key = f"uploads/u/{uuid.uuid4().hex}"
    answer = await call(
        post, presigned_post(moto, bucket, key), b"<html>" * 10, **{"Content-Type": "text/html"}
    )
    assert answer.status_code == 204
    assert await call(exists, moto, bucket, key)


@pytest.mark.parametrize(
    ("body", "changes", "status", "code"),
    [
        (b"12345", {"Content-Type": "text/html"}, 403, "AccessDenied"),
        (b"123456", {}, 400, "EntityTooLarge"),
        (b"1234", {}, 400, "EntityTooSmall"),
        (b"12345", {"tagging": ""}, 403, "AccessDenied"),
        (b"12345", {"x-amz-signature": "0" * 64}, 403, "SignatureDoesNotMatch"),
    ],
    ids=["other-type", "too-large", "too-small", "untagged", "forged"],
)
async def test_the_front_refuses_an_upload_outside_its_policy_and_stores_nothing(
    moto, front, body, changes, status, code
):
    """S3's answer (status, error code in XML) and no object left behind."""
    url, bucket, _ = front
    key = f"uploads/u/{uuid.uuid4().hex}"
    answer = await call(post, presigned_post(url, bucket, key), body, **changes)
    assert answer.status_code == status, answer.text
    assert f"<Code>{code}</Code>" in answer.text
    assert not await call(exists, moto, bucket, key)


async def test_an_upload_within_its_policy_is_stored_with_its_type_and_tags(moto, front):
    """Type and tags as the form gave them (moto ignores the tagging field by itself)."""
    url, bucket, _ = front
    key = f"uploads/u/{uuid.uuid4().hex}"
    answer = await call(post, presigned_post(url, bucket, key), b"12345")
    assert answer.status_code == 204 and answer.headers["ETag"]
    backend = client(moto)
    head = await call(backend.head_object, Bucket=bucket, Key=key)
    tagging = await call(backend.get_object_tagging, Bucket=bucket, Key=key)
    assert (head["ContentType"], head["ContentLength"]) == ("image/png", 5)
    assert tagging["TagSet"] == [{"Key": "state", "Value": "pending"}]


async def test_an_expired_upload_policy_is_refused(front):
    """Past the policy's expiration, S3 refuses the upload."""
    url, bucket, clock = front
    form = presigned_post(url, bucket, f"uploads/u/{uuid.uuid4().hex}")
    clock.offset = 61
    answer = await call(post, form, b"12345")
    assert answer.status_code == 403 and "Policy expired" in answer.text


async def test_a_presigned_get_is_served_with_the_cdns_headers_until_it_expires(front):
    """The answer carries nosniff and a sandboxing CSP; after X-Amz-Expires it is 403."""
    url, bucket, clock = front
    key = f"uploads/u/{uuid.uuid4().hex}"
    await call(post, presigned_post(url, bucket, key), b"12345")
    signed = client(url).generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": "attachment"},
        ExpiresIn=30,
    )
    answer = await call(requests.get, signed, timeout=10)
    assert answer.status_code == 200 and answer.content == b"12345"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Disposition"] == "attachment"
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    signed_head = client(url).generate_presigned_url(
        "head_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=30
    )
    head = await call(requests.head, signed_head, timeout=10)
    assert head.status_code == 200 and head.headers["Content-Length"] == "5"
    clock.offset = 32
    expired = await call(requests.get, signed, timeout=10)
    assert expired.status_code == 403 and "Request has expired" in expired.text


async def test_reads_without_a_valid_signature_are_refused(front):
    """The bucket is private: no signature, or a changed one, is 403."""
    url, bucket, _ = front
    key = f"uploads/u/{uuid.uuid4().hex}"
    await call(post, presigned_post(url, bucket, key), b"12345")
    anonymous = await call(requests.get, f"{url}/{bucket}/{key}", timeout=10)
    assert anonymous.status_code == 403 and "<Code>AccessDenied</Code>" in anonymous.text
    signed = client(url).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=30
    )
    forged = await call(requests.get, signed[:-4] + "beef", timeout=10)
    assert forged.status_code == 403


async def test_api_calls_signed_with_the_stages_key_reach_moto(front):
    """boto3 calls through the front work (HEAD keeps the length); an unknown key is 403."""
    url, bucket, _ = front
    key = f"uploads/u/{uuid.uuid4().hex}"
    await call(post, presigned_post(url, bucket, key), b"12345")
    head = await call(client(url).head_object, Bucket=bucket, Key=key)
    assert head["ContentLength"] == 5
    stranger = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="stranger",
        aws_secret_access_key="x",
        config=Config(signature_version="s3v4", retries={"total_max_attempts": 1}),
    )
    with pytest.raises(stranger.exceptions.ClientError) as caught:
        await call(stranger.head_object, Bucket=bucket, Key=key)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


async def test_cors_follows_the_buckets_rules(front):
    """The web origin's preflight is allowed, another origin's refused; answers to the web
    origin carry its CORS headers, others none."""
    url, bucket, _ = front
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = await call(
        requests.options, f"{url}/{bucket}", headers={"Origin": WEB, **ask}, timeout=10
    )
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == WEB
    refused = await call(
        requests.options,
        f"{url}/{bucket}",
        headers={"Origin": "http://evil.test", **ask},
        timeout=10,
    )
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    form = presigned_post(url, bucket, f"uploads/u/{uuid.uuid4().hex}")
    fields = form["fields"]
    from_web = await call(
        requests.post,
        form["url"],
        data=fields,
        files={"file": ("f", b"12345")},
        headers={"Origin": WEB},
        timeout=10,
    )
    assert from_web.headers["Access-Control-Allow-Origin"] == WEB
    assert "ETag" in from_web.headers["Access-Control-Expose-Headers"]
    from_evil = await call(
        requests.get, f"{url}/{bucket}/x", headers={"Origin": "http://evil.test"}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in from_evil.headers
