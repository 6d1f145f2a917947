"""The stream poller against moto's real stream: batches, retries from the failed record,
whole-batch retries on function errors, and the on-failure destination."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from reference_stack.definition import load
from reference_stack.local.invoker import InvocationFailed
from reference_stack.local.stream_poller import StreamPoller

TIMEOUT = 10.0


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture
def table(moto_url: str) -> tuple[Any, str, str]:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    dynamodb = _client("dynamodb", moto_url)
    name = f"messages-{uuid.uuid4().hex[:8]}"
    created = dynamodb.create_table(**load().tables["messages"].create_table_kwargs(name))
    return dynamodb, name, created["TableDescription"]["LatestStreamArn"]


def _put(dynamodb: Any, table: str, n: int) -> None:
    for i in range(n):
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": "room#r"},
                "sk": {"S": f"{i:013d}#x"},
                "messageId": {"S": f"m{i}"},
            },
        )


class ScriptedFunction:
    """Answers each invocation from a script: a result dict, or "error" to fail it."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.batches: list[list[str]] = []

    async def invoke(self, function: str, event: dict[str, Any]) -> Any:
        self.batches.append([r["dynamodb"]["NewImage"]["messageId"]["S"] for r in event["Records"]])
        assert all(r["eventSourceARN"] for r in event["Records"])
        step = self.script.pop(0) if self.script else {"batchItemFailures": []}
        if step == "error":
            raise InvocationFailed("scripted")
        if callable(step):
            return step(event)
        return step


async def _run_until(poller: StreamPoller, done) -> None:
    task = asyncio.create_task(poller.run())
    try:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while not done():
            assert asyncio.get_running_loop().time() < deadline, "poller did not finish in time"
            await asyncio.sleep(0.02)
    finally:
        task.cancel()


def _poller(moto_url, arn, function, retries=3) -> StreamPoller:
    return StreamPoller(
        _client("dynamodbstreams", moto_url),
        arn,
        function,
        "broadcaster",
        batch_size=100,
        maximum_retry_attempts=retries,
        poll_interval=0.05,
        retry_delay=0.01,
    )


async def test_batch_is_retried_from_the_first_failed_record(moto_url, table):
    """A reported failure at record 3 re-invokes with records 3.. only; earlier ones are done."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 5)

    def fail_at_m3(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": event["Records"][3]["dynamodb"]["SequenceNumber"]}
            ]
        }

    function = ScriptedFunction(fail_at_m3)
    await _run_until(_poller(moto_url, arn, function), lambda: len(function.batches) >= 2)
    assert function.batches[:2] == [["m0", "m1", "m2", "m3", "m4"], ["m3", "m4"]]


async def test_function_error_retries_whole_batch(moto_url, table):
    """A function error re-invokes with the same records."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 2)
    function = ScriptedFunction("error", "error")
    await _run_until(_poller(moto_url, arn, function), lambda: len(function.batches) >= 3)
    assert function.batches[:3] == [["m0", "m1"]] * 3


async def test_exhausted_retries_go_to_the_failure_destination_and_shard_moves_on(moto_url, table):
    """After the retry limit the records are dead-lettered (logged) and later records flow."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 2)
    function = ScriptedFunction("error", "error", "error")
    poller = _poller(moto_url, arn, function, retries=2)
    task = asyncio.create_task(poller.run())
    try:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while len(poller.dead_letters) < 2:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        assert [d["messageId"] for d in poller.dead_letters] == ["m0", "m1"]
        assert function.batches == [["m0", "m1"]] * 3
        dynamodb.put_item(
            TableName=name,
            Item={
                "pk": {"S": "room#r"},
                "sk": {"S": "9#x"},
                "messageId": {"S": "later"},
            },
        )
        poller.nudge()
        while function.batches[-1] != ["later"]:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
