"""The local stage's Lambda Invoke API, called with a real boto3 ``lambda`` client."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import boto3
import pytest
from aiohttp import web
from botocore.config import Config

from reference_stack.local.invoker import Invoker
from reference_stack.local.lambda_api import LambdaApi
from tests.local_stage import fake_handlers
from tests.local_stage.stacks import fake_function, fake_stack

STACK = fake_stack(
    fake_function("echo", "echo"),
    fake_function("flaky", "fails_once", async_invoke={"maximum_retry_attempts": 2}),
    fake_function("crash", "crash", async_invoke={"maximum_retry_attempts": 1}),
)


@pytest.fixture
async def lambda_api() -> AsyncIterator[tuple[LambdaApi, Any]]:
    fake_handlers.calls.clear()
    invoker = Invoker(STACK, workers=4, prefix="t")
    api = LambdaApi(STACK, invoker, prefix="t", retry_delay=0.05)
    runner = web.AppRunner(api.build_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    client = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1}),
    )
    yield api, client
    await runner.cleanup()
    invoker.shutdown()


async def _invoke(client: Any, **kwargs: Any) -> dict[str, Any]:
    return await asyncio.to_thread(client.invoke, **kwargs)


async def _until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def test_request_response_returns_the_result(lambda_api):
    _, client = lambda_api
    answer = await _invoke(client, FunctionName="t-echo", Payload=b'{"a": 1}')
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.load(answer["Payload"]) == {"echo": {"a": 1}, "function": "t-echo"}


async def test_a_function_is_found_by_its_arn(lambda_api):
    _, client = lambda_api
    arn = "arn:aws:lambda:us-east-1:000000000000:function:t-echo"
    answer = await _invoke(client, FunctionName=arn, Payload=b"{}")
    assert json.load(answer["Payload"])["function"] == "t-echo"


async def test_a_failing_function_reports_a_function_error(lambda_api):
    _, client = lambda_api
    answer = await _invoke(client, FunctionName="t-crash", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert "secret" not in answer["Payload"].read().decode()


async def test_an_event_is_accepted_at_once_and_run(lambda_api):
    _, client = lambda_api
    answer = await _invoke(client, FunctionName="t-echo", InvocationType="Event", Payload=b"[7]")
    assert answer["StatusCode"] == 202
    await _until(lambda: fake_handlers.calls == [[7]])


async def test_a_failed_event_is_retried(lambda_api):
    api, client = lambda_api
    await _invoke(client, FunctionName="t-flaky", InvocationType="Event", Payload=b'{"n": 1}')
    await _until(lambda: len(fake_handlers.calls) == 2)
    await asyncio.sleep(0.2)
    assert fake_handlers.calls == [{"n": 1}, {"n": 1}]
    assert api.dead_letters == []


async def test_an_event_failing_every_retry_goes_to_the_on_failure_destination(lambda_api):
    api, client = lambda_api
    await _invoke(client, FunctionName="t-crash", InvocationType="Event", Payload=b'{"n": 2}')
    await _until(lambda: api.dead_letters)
    (entry,) = api.dead_letters
    assert (entry["function"], entry["attempts"], entry["event"]) == ("crash", 2, {"n": 2})


async def test_unknown_functions_and_bad_payloads_are_refused_as_lambda_does(lambda_api):
    _, client = lambda_api
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        await _invoke(client, FunctionName="t-nope", Payload=b"{}")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        await _invoke(client, FunctionName="echo", Payload=b"{}")  # without the stage prefix
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        await _invoke(client, FunctionName="t-echo", Payload=io.BytesIO(b"{not json"))
